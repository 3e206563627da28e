"""HTML for messages, runs and tables, shared by the live widgets and their static views.

Everything that came from a session (message text, tool arguments and results, names,
ids) is untrusted: it goes through :func:`esc` before it is placed in markup, and it
is never placed in an attribute that a browser follows (no ``href``/``src`` built
from data). Markdown is not rendered. Styles are inline because notebook renderers
(GitHub, nbviewer, JupyterLab's sanitizer) drop ``<style>`` blocks and classes.
Nothing here reads the clock or makes ids, so the same data gives the same HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

# line-height is set because ipywidgets' HTML widget inherits its 28px control height
FONT = ("font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px;"
        "line-height:1.45;")
MONO = "font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;"
TEXT = "color:#111827;"

# role -> (background, accent)
ROLE_COLORS: Dict[str, tuple] = {
    "system": ("#f3f4f6", "#6b7280"),
    "user": ("#eff6ff", "#2563eb"),
    "assistant": ("#f0fdf4", "#16a34a"),
    "tool": ("#fffbeb", "#d97706"),
    "error": ("#fef2f2", "#dc2626"),
}
STATUS_COLORS = {"COMPLETED": "#16a34a", "ERROR": "#dc2626", "CANCELLED": "#6b7280", "RUNNING": "#2563eb",
                 "PAUSED": "#d97706", "PENDING": "#6b7280"}


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
    """Tool arguments as indented JSON; text that is not JSON is returned as it is."""
    if not present(text):
        return ""
    if not isinstance(text, str):
        return json.dumps(text, indent=2, ensure_ascii=False, default=str)
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def badge(text: str, color: str) -> str:
    """A small coloured label; ``text`` is escaped here."""
    return (f'<span style="display:inline-block;padding:0 6px;margin-right:4px;border-radius:8px;'
            f'background:{color};color:#fff;font-weight:600;font-size:11px;line-height:18px">{esc(text)}</span>')


def muted(text_html: str) -> str:
    return f'<span style="color:#4b5563;font-size:11px">{text_html}</span>'


def text_block(value: Any, mono: bool = False) -> str:
    """Untrusted text, escaped, keeping its line breaks."""
    style = (MONO if mono else "") + "white-space:pre-wrap;word-break:break-word;margin:2px 0;"
    return f'<div style="{style}">{esc(value)}</div>'


def metrics_line(row: Mapping[str, Any], duration_key: str = "duration") -> str:
    """Tokens and latency of a message or run, as one muted line."""
    parts = []
    if present(row.get("total_tokens")) or present(row.get("input_tokens")):
        parts.append(f"tokens {fmt_int(row.get('input_tokens'))} in · {fmt_int(row.get('output_tokens'))} out · "
                     f"{fmt_int(row.get('total_tokens'))} total")
    else:
        parts.append("tokens –")
    parts.append(f"latency {fmt_secs(row.get(duration_key))}")
    if present(row.get("time_to_first_token")):
        parts.append(f"first token {fmt_secs(row.get('time_to_first_token'))}")
    return muted(esc(" · ".join(parts)))


# -- messages -------------------------------------------------------------------------------

ToolLookup = Callable[[Mapping[str, Any], Optional[str]], Optional[Mapping[str, Any]]]


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


def _tool_call_html(call: Mapping[str, Any], result: Optional[Mapping[str, Any]]) -> str:
    fn = call.get("function") or {}
    name = fn.get("name") if isinstance(fn, dict) else None
    args = fn.get("arguments") if isinstance(fn, dict) else None
    parts = [f'<div style="{MONO}font-weight:600">→ {esc(name or "?")}(…)</div>',
             f'<pre style="{MONO}margin:2px 0;padding:4px;background:#ffffff;border:1px solid #e5e7eb;'
             f'white-space:pre-wrap;word-break:break-word">{esc(pretty_json(args))}</pre>']
    if result is not None:
        error = bool(result.get("tool_call_error")) if present(result.get("tool_call_error")) else False
        state = badge("error", ROLE_COLORS["error"][1]) if error else badge("ok", ROLE_COLORS["assistant"][1])
        parts.append(f'<div>{state}{muted(esc("result · duration " + fmt_secs(result.get("duration"))))}</div>')
        parts.append(text_block(result.get("result"), mono=True))
    return f'<div style="margin:4px 0 4px 8px;padding:4px 6px;border-left:2px solid #d97706">{"".join(parts)}</div>'


def message_html(msg: Mapping[str, Any], tool_lookup: Optional[ToolLookup] = None, *, current: bool = False) -> str:
    """One message: role, tokens and latency, content; tool calls with arguments and results.

    ``tool_lookup(msg, tool_call_id)`` returns the tool-call row (result, error, duration).
    ``current`` draws a ring around the message the replay is at.
    """
    role = str(msg.get("role") or "?")
    call = tool_lookup(msg, msg.get("tool_call_id")) if (tool_lookup and role == "tool") else None
    error = call is not None and present(call.get("tool_call_error")) and bool(call.get("tool_call_error"))
    bg, accent = ROLE_COLORS.get("error" if error else role, ("#ffffff", "#6b7280"))
    head = [badge(role, accent)]
    if role == "tool":
        head.append(f'<b style="{MONO}">{esc(msg.get("tool_name") or (call or {}).get("tool_name") or "")}</b> ')
        if call is not None:
            head.append(badge("error", ROLE_COLORS["error"][1]) if error else badge("ok", ROLE_COLORS["assistant"][1]))
    if msg.get("from_history") is True:
        head.append(badge("from history", "#6b7280"))
    if present(msg.get("message_index")):
        head.append(muted(f"#{int(msg['message_index'])} · "))
    # a tool message's latency is the tool's run time, kept with the tool call
    head.append(metrics_line({"duration": (call or {}).get("duration")} if role == "tool" else msg))
    body = [text_block(msg.get("content"))] if present(msg.get("content")) and msg.get("content") != "" else []
    for tc in tool_calls_of(msg):
        result = tool_lookup(msg, tc.get("id")) if tool_lookup else None
        body.append(_tool_call_html(tc, result))
    border = "border:1px dashed " + accent if msg.get("from_history") is True else "border:1px solid " + bg
    ring = f"box-shadow:0 0 0 2px {accent};" if current else ""
    return (f'<div style="{FONT}{TEXT}background:{bg};{border};border-left:4px solid {accent};'
            f'border-radius:4px;margin:4px 0;padding:4px 8px;{ring}">'
            f'<div>{"".join(head)}</div>{"".join(body)}</div>')


# -- runs -----------------------------------------------------------------------------------

def run_label(run: Mapping[str, Any]) -> str:
    """``agent weather``, ``team crew``, ``workflow blog``."""
    kind = run.get("run_type") or "agent"
    who = run.get(f"{kind}_id") if kind in ("agent", "team", "workflow") else None
    who = who if present(who) else (run.get("agent_id") or run.get("team_id") or run.get("workflow_id") or "")
    return f"{kind} {who}".strip()


def run_header_html(run: Mapping[str, Any], path: Sequence[str] = (), n_messages: Optional[int] = None) -> str:
    """Model, status and totals of a run; ``path`` names the runs it is nested in."""
    status = str(run.get("status") or "?")
    crumbs = "".join(f"{esc(p)} › " for p in path)
    model = run.get("model")
    provider = run.get("model_provider")
    bits = []
    if present(model):
        bits.append(f"model {model}" + (f" ({provider})" if present(provider) else ""))
    bits.append(f"tokens {fmt_int(run.get('input_tokens'))} in · {fmt_int(run.get('output_tokens'))} out · "
                f"{fmt_int(run.get('total_tokens'))} total")
    bits.append(f"duration {fmt_secs(run.get('duration'))}")
    bits.append(plural(run.get("n_tool_calls"), "tool call"))
    if n_messages is not None:
        bits.append(plural(n_messages, "message"))
    if present(run.get("created_at")):
        bits.append(fmt_time(run.get("created_at")))
    head = (f'<div style="font-weight:600">{crumbs}{esc(run_label(run))} '
            f'{badge(status, STATUS_COLORS.get(status, "#6b7280"))}</div>'
            f'<div>{muted(esc(" · ".join(bits)))}</div>')
    if present(run.get("input")):
        head += f'<div><span style="color:#4b5563">input:</span>{text_block(run.get("input"))}</div>'
    return (f'<div style="{FONT}{TEXT}background:#f9fafb;border:1px solid #d1d5db;border-radius:4px;'
            f'padding:4px 8px;margin:4px 0">{head}</div>')


def steps_html(steps: Sequence[Mapping[str, Any]]) -> str:
    """A workflow run's step results: name, kind, executor, status, duration, output."""
    rows = []
    for i, s in enumerate(steps, 1):
        status = str(s.get("status") or "")
        rows.append([esc(i), esc(s.get("step_name")), esc(s.get("step_type")), esc(s.get("executor_name")),
                     badge(status, STATUS_COLORS.get(status, "#6b7280")) if status else "",
                     esc(fmt_secs(s.get("duration"))), text_block(s.get("content"))])
    return table_html(["#", "step", "kind", "executor", "status", "duration", "output"], rows,
                      caption="Workflow steps")


def children_html(children: Sequence[Mapping[str, Any]], caption: str) -> str:
    """One line per nested run (member runs of a team, step runs of a workflow)."""
    rows = [[esc(run_label(c)), badge(str(c.get("status") or "?"), STATUS_COLORS.get(str(c.get("status")), "#6b7280")),
             text_block(c.get("input")), text_block(c.get("content")), esc(fmt_int(c.get("total_tokens"))),
             esc(fmt_secs(c.get("duration")))] for c in children]
    return table_html(["run", "status", "input", "answer", "tokens", "duration"], rows, caption=caption)


def table_html(columns: Sequence[str], rows: Iterable[Sequence[str]], caption: Optional[str] = None,
               row_styles: Optional[Sequence[str]] = None) -> str:
    """A table from cells that are already HTML (escape untrusted values before)."""
    th = "".join(f'<th style="text-align:left;padding:3px 6px;border-bottom:2px solid #d1d5db;'
                 f'background:#f3f4f6">{esc(c)}</th>' for c in columns)
    body = []
    for i, row in enumerate(rows):
        style = row_styles[i] if row_styles and i < len(row_styles) else ""
        tds = "".join(f'<td style="vertical-align:top;padding:3px 6px;border-bottom:1px solid #e5e7eb">{c}</td>'
                      for c in row)
        body.append(f'<tr style="{style}">{tds}</tr>')
    cap = (f'<caption style="text-align:left;font-weight:600;padding:2px 0">{esc(caption)}</caption>'
           if caption else "")
    return (f'<table style="{FONT}{TEXT}border-collapse:collapse;margin:4px 0;max-width:100%">{cap}'
            f'<thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def box(inner: str, *, indent: int = 0, title: Optional[str] = None) -> str:
    """A container; nested runs are indented under their parent."""
    head = f'<div style="font-weight:600;margin:2px 0">{esc(title)}</div>' if title else ""
    margin = f"margin-left:{16 * indent}px;border-left:2px solid #d1d5db;padding-left:8px;" if indent else ""
    return f'<div style="{FONT}{TEXT}{margin}">{head}{inner}</div>'


def note(text: str) -> str:
    return f'<div style="{FONT}color:#4b5563;font-style:italic;margin:4px 0">{esc(text)}</div>'
