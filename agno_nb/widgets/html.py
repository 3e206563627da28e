"""HTML for messages, runs and tables, shared by the live widgets and their static views.

Everything that came from a session (message text, tool arguments and results, names,
ids) is untrusted: it goes through :func:`esc` before it is placed in markup, and it
is never placed in an attribute that a browser follows, with two checked exceptions for
attached media (:func:`media_html`): an image stored as bytes is shown from a ``data:``
URL built from the decoded bytes (a PNG, JPEG, GIF or WebP by its own magic bytes, small),
and a stored ``http(s)`` URL is a link the user may click (never loaded by the page).
Markdown is not rendered. Styles are inline because notebook renderers
(GitHub, nbviewer, JupyterLab's sanitizer) drop ``<style>`` blocks and classes.
Nothing here reads the clock or makes ids, so the same data gives the same HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

# line-height is set because ipywidgets' HTML widget inherits its 28px control height
FONT = ("font-family:var(--jp-ui-font-family,-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif);"
        "font-size:13px;line-height:1.45;")
MONO = "font-family:var(--jp-code-font-family,SFMono-Regular,Menlo,Consolas,monospace);font-size:12px;"


def theme(var: str, vscode: str, fallback: str) -> str:
    """A JupyterLab theme colour, then VS Code's, then a light-theme default (GitHub, plain HTML)."""
    return f"var({var},var({vscode},{fallback}))"


# Colours follow the notebook's theme (JupyterLab light/dark, VS Code) so text stays readable;
# tints are translucent so they work on a light and on a dark background alike.
FG = theme("--jp-ui-font-color1", "--vscode-editor-foreground", "#111827")
FG2 = theme("--jp-ui-font-color1", "--vscode-descriptionForeground", "#374151")  # secondary text, still AA
BG = theme("--jp-layout-color0", "--vscode-editor-background", "#ffffff")
PANEL = theme("--jp-layout-color2", "--vscode-editorWidget-background", "#f3f4f6")
BORDER = theme("--jp-border-color2", "--vscode-editorWidget-border", "#d1d5db")
BORDER_SOFT = theme("--jp-border-color3", "--vscode-editorWidget-border", "#e5e7eb")
TEXT = f"color:{FG};"

# role -> (background tint, accent); accents are dark enough for white badge text (WCAG AA)
ROLE_COLORS: Dict[str, tuple] = {
    "system": ("rgba(107,114,128,0.10)", "#4b5563"),
    "user": ("rgba(37,99,235,0.10)", "#1d4ed8"),
    "assistant": ("rgba(22,163,74,0.10)", "#15803d"),
    "tool": ("rgba(217,119,6,0.10)", "#b45309"),
    "error": ("rgba(220,38,38,0.12)", "#b91c1c"),
}
STATUS_COLORS = {"COMPLETED": "#15803d", "ERROR": "#b91c1c", "CANCELLED": "#4b5563", "RUNNING": "#1d4ed8",
                 "PAUSED": "#b45309", "PENDING": "#4b5563"}
GREY = "#4b5563"
TINT_ERROR = "rgba(220,38,38,0.12)"
TINT_WARN = "rgba(217,119,6,0.12)"


def esc(value: Any) -> str:
    """``value`` as text safe to put between tags or in a quoted attribute."""
    if not present(value):
        return ""
    return html.escape(str(value), quote=True)


def present(value: Any) -> bool:
    """Not None, NaN or pandas NA."""
    if value is None:
        return False
    try:
        return not (value != value)  # only NaN differs from itself
    except TypeError:  # pd.NA has no truth value
        return False
    except ValueError:  # an array
        return True


def fmt_int(value: Any) -> str:
    return f"{int(value):,}" if present(value) else "–"


def plural(n: Any, word: str) -> str:
    """``1 tool call``, ``3 tool calls``."""
    n = int(n) if present(n) else 0
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def fmt_secs(value: Any) -> str:
    """Seconds, readable at any scale: ``18 µs``, ``4.3 ms``, ``1.25 s``."""
    if not present(value):
        return "–"
    v = float(value)
    if v < 1e-3:
        return f"{v * 1e6:.0f} µs"
    if v < 1:
        return f"{v * 1e3:.1f} ms"
    return f"{v:.2f} s"


def fmt_time(value: Any) -> str:
    if not present(value):
        return ""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def pretty_json(text: Any) -> str:
    """JSON (an object or a list) indented; other text is returned as it is."""
    if not present(text):
        return ""
    if not isinstance(text, str):
        return json.dumps(text, indent=2, ensure_ascii=False, default=str)
    stripped = text.lstrip()
    if not stripped[:1] in ("{", "["):  # plain prose, numbers and quoted strings stay as written
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def badge(text: str, color: str) -> str:
    """A small coloured label; ``text`` is escaped here. ``color`` is dark enough for white text."""
    return (f'<span style="display:inline-block;padding:0 6px;margin-right:4px;border-radius:8px;'
            f'background:{color};color:#fff;font-weight:600;font-size:11px;line-height:18px">{esc(text)}</span>')


def muted(text_html: str) -> str:
    return f'<span style="color:{FG2};font-size:11px">{text_html}</span>'


# Longer texts are cut to a preview; the rest opens with a click (<details> needs no script,
# so it works in the live widget, in nbconvert's HTML, on nbviewer and on GitHub).
PREVIEW_CHARS = 600
PREVIEW_LINES = 12


def _cut(text: str, chars: int, lines: int) -> int:
    """Where the preview of ``text`` ends: after ``lines`` lines or ``chars`` characters."""
    end = min(len(text), chars)
    pos = -1
    for _ in range(lines):
        pos = text.find("\n", pos + 1, end)
        if pos < 0:
            return end
    return pos + 1


def text_block(value: Any, mono: bool = False, *, preview: int = PREVIEW_CHARS, lines: int = PREVIEW_LINES,
               json_pretty: bool = True) -> str:
    """Untrusted text, escaped, keeping its line breaks; JSON indented; long text collapsed."""
    style = (MONO if mono else "") + "white-space:pre-wrap;word-break:break-word;margin:2px 0;"
    if not present(value):
        return f'<div style="{style}"></div>'
    text = pretty_json(value) if json_pretty else str(value)
    if text is not value and text != str(value):
        style = MONO + "white-space:pre-wrap;word-break:break-word;margin:2px 0;"
    cut = _cut(text, preview, lines) if preview else len(text)
    if cut >= len(text) or len(text) - cut < 40:  # not worth a click
        return f'<div style="{style}">{esc(text)}</div>'
    rest = len(text) - cut
    more_lines = text.count("\n", cut) + (text[cut - 1] == "\n")  # whole lines hidden
    lines_note = f", {more_lines:,} more line{'s' * (more_lines != 1)}" if more_lines else ""
    more = f"… show all ({rest:,} more characters{lines_note})"
    return (f'<details class="agno-more" style="{style}"><summary style="display:block;cursor:pointer;'
            f'list-style:none">{esc(text[:cut])}<span style="display:block;color:{FG2};font-style:italic;'
            f'text-decoration:underline">{esc(more)}</span></summary>{esc(text[cut:])}</details>')


def metrics_line(row: Mapping[str, Any], duration_key: str = "duration") -> str:
    """Tokens and latency of a message or run, as one muted line; empty when it has neither."""
    parts = []
    if present(row.get("total_tokens")) or present(row.get("input_tokens")):
        parts.append(f"tokens {fmt_int(row.get('input_tokens'))} in · {fmt_int(row.get('output_tokens'))} out · "
                     f"{fmt_int(row.get('total_tokens'))} total")
    if present(row.get(duration_key)):
        parts.append(f"latency {fmt_secs(row.get(duration_key))}")
    if present(row.get("time_to_first_token")):
        parts.append(f"first token {fmt_secs(row.get('time_to_first_token'))}")
    return muted(esc(" · ".join(parts))) if parts else ""


# -- errors ---------------------------------------------------------------------------------

_ERROR_TYPE = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Interrupt|Exit|Failure|Cancelled)):\s*(.*)",
                         re.DOTALL)


def split_error(text: Any) -> tuple:
    """``("ModelError", "upstream model timed out")`` from ``"ModelError: upstream model timed out"``.

    Text without an exception name in front gives ``("error", text)``.
    """
    raw = str(text).strip() if present(text) else ""
    for line in (raw, raw.removeprefix("Error: ")):
        m = _ERROR_TYPE.match(line)
        if m:
            return m.group(1), m.group(2).strip()
    return "error", raw or "(no error text was stored)"


def run_error(run: Mapping[str, Any]) -> Optional[tuple]:
    """(type, text) of a failed run (status ERROR; the runtime stores the error as its content)."""
    if str(run.get("status") or "").upper() != "ERROR":
        return None
    return split_error(run.get("content"))


def error_html(kind: str, text: str, where: str = "") -> str:
    """A red box naming the error type and its text, and where it happened."""
    place = f'{muted(esc(where))} ' if where else ""
    return (f'<div class="agno-error" style="{FONT}{TEXT}background:{TINT_ERROR};border:1px solid #b91c1c;'
            f'border-left:4px solid #b91c1c;border-radius:4px;margin:4px 0;padding:4px 8px">'
            f'<div>{badge("failed", STATUS_COLORS["ERROR"])}<b style="{MONO}">{esc(kind)}</b> {place}</div>'
            f'{text_block(text, json_pretty=False)}</div>')


def run_error_html(run: Mapping[str, Any]) -> str:
    """The error box of a failed run ("" when it did not fail)."""
    err = run_error(run)
    return error_html(err[0], err[1], f"in {run_label(run)}, run {run.get('run_id') or ''}") if err else ""


# -- messages -------------------------------------------------------------------------------

ToolLookup = Callable[[Mapping[str, Any], Optional[str]], Optional[Mapping[str, Any]]]
RunLookup = Callable[[str], Optional[Mapping[str, Any]]]


def tool_calls_of(msg: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The OpenAI-style tool calls of an assistant message (stored as JSON text)."""
    raw = msg.get("tool_calls")
    if not present(raw):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return [{"function": {"name": "?", "arguments": raw}}]
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


def tool_failed(call: Optional[Mapping[str, Any]]) -> bool:
    return call is not None and present(call.get("tool_call_error")) and bool(call.get("tool_call_error"))


def _tool_call_html(call: Mapping[str, Any], result: Optional[Mapping[str, Any]],
                    run_lookup: Optional[RunLookup] = None) -> str:
    """The call (name, arguments) and how it went; its result is shown once, as the tool message."""
    fn = call.get("function") or {}
    name = fn.get("name") if isinstance(fn, dict) else None
    args = fn.get("arguments") if isinstance(fn, dict) else None
    parts = [f'<div style="{MONO}font-weight:600">→ {esc(name or "?")}(…)</div>',
             f'<div style="margin:2px 0;padding:2px 4px;background:{BG};border:1px solid {BORDER_SOFT}">'
             f'{text_block(args, mono=True)}</div>']
    if result is not None:
        state = badge("error", STATUS_COLORS["ERROR"]) if tool_failed(result) else badge("ok", STATUS_COLORS["COMPLETED"])
        took = f"took {fmt_secs(result.get('duration'))} · " if present(result.get("duration")) else ""
        parts.append(f'<div>{state}{muted(esc(took + "result in the tool message"))}</div>')
        child = result.get("child_run_id")
        if present(child):
            run = run_lookup(child) if run_lookup else None
            what = (f"started {run_label(run)} ({run.get('status') or '?'}, {fmt_secs(run.get('duration'))})"
                    if run else f"started run {child}")
            parts.append(f'<div>{muted(esc("↳ " + what))}</div>')
    return (f'<div style="margin:4px 0 4px 8px;padding:4px 6px;border-left:2px solid {ROLE_COLORS["tool"][1]}">'
            f'{"".join(parts)}</div>')


def message_html(msg: Mapping[str, Any], tool_lookup: Optional[ToolLookup] = None, *, current: bool = False,
                 run_lookup: Optional[RunLookup] = None, preview: int = PREVIEW_CHARS) -> str:
    """One message: role, metrics where they exist, content; tool calls with their arguments.

    ``tool_lookup(msg, tool_call_id)`` returns the tool-call row (result, error, duration);
    ``run_lookup(run_id)`` the run a team's delegation started. ``current`` draws a ring
    around the message the replay is at. A tool's result is shown once, in its tool message.
    """
    role = str(msg.get("role") or "?")
    call = tool_lookup(msg, msg.get("tool_call_id")) if (tool_lookup and role == "tool") else None
    error = tool_failed(call)
    bg, accent = ROLE_COLORS.get("error" if error else role, ("transparent", GREY))
    head = [badge(role, accent)]
    if role == "tool":
        head.append(f'<b style="{MONO}">{esc(msg.get("tool_name") or (call or {}).get("tool_name") or "")}</b> ')
        if call is not None:
            head.append(badge("error", STATUS_COLORS["ERROR"]) if error else badge("ok", STATUS_COLORS["COMPLETED"]))
    if msg.get("from_history") is True:
        head.append(badge("from history", GREY))
    if present(msg.get("message_index")):
        head.append(muted(f"#{int(msg['message_index'])} "))
    # a tool message's latency is the tool's run time, kept with the tool call
    metrics = metrics_line({"duration": (call or {}).get("duration")} if role == "tool" else msg)
    if metrics:
        head.append(muted("· ") + metrics)
    body = []
    if present(msg.get("reasoning_content")) and msg.get("reasoning_content") != "":
        body.append(reasoning_html(msg.get("reasoning_content")))
    if present(msg.get("content")) and msg.get("content") != "":
        body.append(text_block(msg.get("content"), mono=role == "tool", preview=preview))
    if present(msg.get("media")):
        body.append(media_html(msg.get("media"), msg.get("image_data")))
    for tc in tool_calls_of(msg):
        result = tool_lookup(msg, tc.get("id")) if tool_lookup else None
        body.append(_tool_call_html(tc, result, run_lookup))
    border = "border:1px dashed " + accent if msg.get("from_history") is True else f"border:1px solid {BORDER_SOFT}"
    ring = f"box-shadow:0 0 0 2px {accent};" if current else ""
    cls = "agno-msg agno-current" if current else "agno-msg"
    return (f'<div class="{cls}" style="{FONT}{TEXT}background:{bg};{border};border-left:4px solid {accent};'
            f'border-radius:4px;margin:4px 0;padding:4px 8px;{ring}">'
            f'<div>{"".join(head)}</div>{"".join(body)}</div>')


def reasoning_html(text: Any) -> str:
    """The model's reasoning, collapsed: it can be long, and it is not the answer."""
    body = esc(text)
    return (f'<details class="agno-reasoning" style="margin:2px 0;color:{FG2}"><summary style="cursor:pointer">'
            f'reasoning ({len(str(text)):,} characters)</summary>'
            f'<div style="white-space:pre-wrap;word-break:break-word;font-style:italic">{body}</div></details>')


def fmt_bytes(value: Any) -> str:
    """``812 B``, ``4.2 KB``, ``1.3 MB``."""
    if not present(value):
        return "size unknown"
    n = float(value)
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


_WEB_URL = re.compile(r"^https?://[^\s\"'<>`]+$", re.IGNORECASE)


def media_items(media: Any) -> List[Dict[str, Any]]:
    """The entries of a ``media`` column (JSON text)."""
    if isinstance(media, str):
        try:
            media = json.loads(media)
        except ValueError:
            return []
    return [m for m in media if isinstance(m, dict)] if isinstance(media, list) else []


def media_html(media: Any, image_data: Optional[Sequence[Optional[str]]] = None) -> str:
    """What is attached to a message: images inline where their bytes are at hand
    (``image_data[i]``: a checked ``data:`` URL for the i-th image, see
    :func:`agno_nb.widgets.data.image_data_url`), a link to a stored URL (not fetched), files
    and other media by name, type and size."""
    parts, n_image = [], 0
    for item in media_items(media):
        kind = str(item.get("kind") or "media")
        data_url = None
        if kind == "image":
            data_url = image_data[n_image] if image_data and n_image < len(image_data) else None
            n_image += 1
        url, name = item.get("url"), item.get("filename")
        kind_of = item.get("mime_type") or item.get("format")
        facts = " · ".join(str(b) for b in (kind_of if present(kind_of) else None, fmt_bytes(item.get("size"))) if b)
        if data_url:  # built from decoded bytes whose magic says which raster format (image_data_url)
            shown = (f'<img src="{esc(data_url)}" alt="{esc(name or kind)}" '
                     f'style="max-width:240px;max-height:180px;display:block;border:1px solid {BORDER_SOFT}">')
        elif present(url) and _WEB_URL.match(str(url)):
            shown = (f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow" '
                     f'referrerpolicy="no-referrer">{esc(name or url)}</a>')
        else:
            shown = f'<span style="{MONO}">{esc(name or url or "(stored without a name)")}</span>'
        parts.append(f'<div class="agno-media" style="margin:2px 0">{badge(kind, GREY)}{shown} '
                     f'{muted(esc(facts))}</div>')
    return "".join(parts)


def summary_html(summary: Any, topics: Any = None) -> str:
    """The session summary Agno wrote (and its topics), collapsed under one line."""
    if not present(summary) or summary == "":
        return ""
    names = []
    if present(topics):
        try:
            loaded = json.loads(topics) if isinstance(topics, str) else topics
            names = [str(t) for t in loaded] if isinstance(loaded, list) else []
        except ValueError:
            names = [str(topics)]
    head = "Session summary" + (f" — topics: {', '.join(names)}" if names else "")
    return (f'<details class="agno-summary" style="{FONT}{TEXT}margin:2px 0"><summary style="cursor:pointer">'
            f'{esc(head)}</summary>{text_block(summary, json_pretty=False)}</details>')


# -- runs -----------------------------------------------------------------------------------

def run_label(run: Mapping[str, Any]) -> str:
    """``agent weather``, ``team crew``, ``workflow blog``."""
    kind = run.get("run_type") or "agent"
    who = run.get(f"{kind}_id") if kind in ("agent", "team", "workflow") else None
    who = who if present(who) else (run.get("agent_id") or run.get("team_id") or run.get("workflow_id") or "")
    return f"{kind} {who}".strip()


def status_badge(status: Any) -> str:
    status = str(status or "?")
    return badge(status, STATUS_COLORS.get(status, GREY))


def run_header_html(run: Mapping[str, Any], path: Sequence[str] = (), n_messages: Optional[int] = None) -> str:
    """Model, status and totals of a run; ``path`` names the runs it is nested in; a failure's error."""
    crumbs = "".join(f"{esc(p)} › " for p in path)
    model = run.get("model")
    provider = run.get("model_provider")
    bits = []
    if present(model):
        bits.append(f"model {model}" + (f" ({provider})" if present(provider) else ""))
    if present(run.get("total_tokens")) or present(run.get("input_tokens")):
        bits.append(f"tokens {fmt_int(run.get('input_tokens'))} in · {fmt_int(run.get('output_tokens'))} out · "
                    f"{fmt_int(run.get('total_tokens'))} total")
    cum = run.get("cum_total_tokens")
    if present(cum) and (not present(run.get("total_tokens")) or int(cum) != int(run["total_tokens"])):
        # a team run's stored tokens are its leader's, a workflow's its steps' (or none): say both
        bits.append(f"{fmt_int(cum)} tokens with its nested runs")
    if present(run.get("duration")):
        bits.append(f"duration {fmt_secs(run.get('duration'))}")
    bits.append(plural(run.get("n_tool_calls"), "tool call"))
    if n_messages is not None:
        bits.append(plural(n_messages, "message"))
    if present(run.get("created_at")):
        bits.append(fmt_time(run.get("created_at")))
    head = (f'<div style="font-weight:600">{crumbs}{esc(run_label(run))} {status_badge(run.get("status"))}</div>'
            f'<div>{muted(esc(" · ".join(bits)))}</div>')
    if present(run.get("input")):
        head += f'<div><span style="color:{FG2}">input:</span>{text_block(run.get("input"), preview=300, lines=4)}</div>'
    err = run_error(run)
    if err:
        head += error_html(err[0], err[1], "this run failed")
    return (f'<div style="{FONT}{TEXT}background:{PANEL};border:1px solid {BORDER};border-radius:4px;'
            f'padding:4px 8px;margin:4px 0">{head}</div>')


def steps_html(steps: Sequence[Mapping[str, Any]]) -> str:
    """A workflow run's step results: name, kind, executor, status, duration, output."""
    rows = []
    for i, s in enumerate(steps, 1):
        status = str(s.get("status") or "")
        rows.append([esc(i), esc(s.get("step_name")), esc(s.get("step_type")), esc(s.get("executor_name")),
                     status_badge(status) if status else "",
                     esc(fmt_secs(s.get("duration"))), text_block(s.get("content"), preview=300, lines=4)])
    return table_html(["#", "step", "kind", "executor", "status", "duration", "output"], rows,
                      caption="Workflow steps")


BAR_PX = 120


def latency_bar(value: Any, longest: float, color: str = "#1d4ed8", offset: Optional[float] = None) -> str:
    """A bar as long as ``value`` is against ``longest``; ``offset`` (seconds after its turn
    started, same scale) shifts it right, so a turn's runs and tool calls form a waterfall."""
    if not present(value) or not longest:
        return ""
    width = max(1, round(BAR_PX * float(value) / longest))
    left = min(BAR_PX, max(0, round(BAR_PX * float(offset) / longest))) if offset else 0
    # bar and time on one line: "863.0 ms" broke between the number and the unit
    return (f'<span style="white-space:nowrap"><span style="display:inline-block;width:{BAR_PX + 4}px">'
            f'<span style="display:inline-block;vertical-align:middle;height:8px;width:{width}px;margin-left:{left}px;'
            f'background:{color};border-radius:2px"></span></span>{esc(fmt_secs(value))}</span>')


def timestamp(value: Any) -> Optional[float]:
    """Seconds since the epoch from a datetime, pandas Timestamp or number; None if missing."""
    if not present(value):
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def children_html(children: Sequence[Mapping[str, Any]], caption: str) -> str:
    """One line per nested run (member runs of a team, step runs of a workflow), with a latency bar."""
    longest = max((float(c["duration"]) for c in children if present(c.get("duration"))), default=0.0)
    rows = []
    for c in children:
        answer = run_error_html(c) or text_block(c.get("content"), preview=160, lines=2)
        # the run's name on one line, the input wide enough to read; the answer takes the rest
        rows.append([f'<span style="white-space:nowrap">{esc(run_label(c))}</span>', status_badge(c.get("status")),
                     f'<div style="min-width:12em">{text_block(c.get("input"), preview=160, lines=2)}</div>',
                     answer, esc(fmt_int(c.get("total_tokens"))), latency_bar(c.get("duration"), longest)])
    return table_html(["run", "status", "input", "answer", "tokens", "duration"], rows, caption=caption)


def table_html(columns: Sequence[str], rows: Iterable[Sequence[str]], caption: Optional[str] = None,
               row_styles: Optional[Sequence[str]] = None, header_cells: Optional[Sequence[str]] = None) -> str:
    """A table from cells that are already HTML (escape untrusted values before).

    ``header_cells`` (HTML) replaces the escaped column names, e.g. for sort links.
    """
    heads = header_cells if header_cells is not None else [esc(c) for c in columns]
    th = "".join(f'<th style="text-align:left;padding:3px 6px;border-bottom:2px solid {BORDER};'
                 f'background:{PANEL};color:{FG}">{c}</th>' for c in heads)
    body = []
    for i, row in enumerate(rows):
        style = row_styles[i] if row_styles and i < len(row_styles) else ""
        tds = "".join(f'<td style="vertical-align:top;padding:3px 6px;border-bottom:1px solid {BORDER_SOFT}">{c}</td>'
                      for c in row)
        body.append(f'<tr style="{style}">{tds}</tr>')
    cap = (f'<caption style="text-align:left;font-weight:600;padding:2px 0;color:{FG}">{esc(caption)}</caption>'
           if caption else "")
    return (f'<table style="{FONT}{TEXT}border-collapse:collapse;margin:4px 0;max-width:100%;background:transparent">'
            f'{cap}<thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def box(inner: str, *, indent: int = 0, title: Optional[str] = None) -> str:
    """A container; nested runs are indented under their parent."""
    head = f'<div style="font-weight:600;margin:2px 0">{esc(title)}</div>' if title else ""
    margin = f"margin-left:{16 * indent}px;border-left:2px solid {BORDER};padding-left:8px;" if indent else ""
    return f'<div style="{FONT}{TEXT}{margin}">{head}{inner}</div>'


def note(text: str) -> str:
    return f'<div style="{FONT}color:{FG2};font-style:italic;margin:4px 0">{esc(text)}</div>'
