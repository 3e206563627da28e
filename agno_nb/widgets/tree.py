"""A session's run tree as a trace viewer shows it: runs, their tool calls, and latency bars
on one scale (the slowest run), each shifted by when it started within its turn.

Team member runs appear under the tool call that started them (``tool_calls.child_run_id``);
workflow step runs under their workflow run. Each run and each tool call gets a bar as
long as its latency, against the slowest run of the session.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set

from . import html as h
from .data import RunNode, SessionData


def _args_preview(call: Dict[str, Any], limit: int = 60) -> str:
    args = call.get("tool_args")
    text = " ".join(h.pretty_json(args).split()) if h.present(args) else ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def tree_rows(data: SessionData) -> List[Dict[str, Any]]:
    """One dict per line of the tree: ``kind`` (run/tool), ``depth``, ``node`` or ``call``."""
    by_id = {n.run_id: n for n in data.runs}
    rows: List[Dict[str, Any]] = []
    placed: Set[str] = set()

    def walk(node: RunNode, depth: int) -> None:
        if node.run_id in placed:
            return
        placed.add(node.run_id)
        rows.append({"kind": "run", "depth": depth, "node": node})
        for call in data.tools_by_run.get(node.run_id, []):
            rows.append({"kind": "tool", "depth": depth + 1, "call": call})
            child = by_id.get(call.get("child_run_id")) if h.present(call.get("child_run_id")) else None
            if child is not None:
                walk(child, depth + 2)
        for child in node.children:  # workflow steps, and members no tool call points at
            walk(child, depth + 1)

    for root in data.roots:
        start = len(rows)
        walk(root, 0)
        t0 = h.timestamp(root.run.get("created_at"))
        for r in rows[start:]:  # where each line starts within its turn
            t = h.timestamp((r["node"].run if r["kind"] == "run" else r["call"]).get("created_at"))
            r["offset"] = t - t0 if t is not None and t0 is not None and t >= t0 else None
    return rows


def run_tree_html(data: SessionData, *, limit: Optional[int] = None, current: Optional[str] = None,
                  open_: bool = False) -> str:
    """The tree as a collapsible table; ``limit`` lines at most; ``current`` (a run_id) is highlighted."""
    rows = tree_rows(data)
    longest = max((float(n.run["duration"]) for n in data.runs if h.present(n.run.get("duration"))), default=0.0)
    shown = rows if limit is None else rows[:limit]
    cells, styles = [], []
    for r in shown:
        pad = f'<span style="display:inline-block;width:{14 * r["depth"]}px"></span>'
        if r["kind"] == "run":
            run = r["node"].run
            err = h.run_error(run)
            what = h.esc(err[0]) if err else ""
            cells.append([pad + f'<b>{h.esc(h.run_label(run))}</b>',
                          f'<span style="white-space:nowrap">{h.status_badge(run.get("status"))}{what}</span>',
                          h.esc(h.fmt_int(run.get("total_tokens"))),
                          h.latency_bar(run.get("duration"), longest, offset=r.get("offset"))])
            styles.append(f"background:{h.TINT_WARN}" if current and run["run_id"] == current else "")
        else:
            call = r["call"]
            state = h.badge("error", h.STATUS_COLORS["ERROR"]) if h.tool_failed(call) else ""
            cells.append([pad + f'<span style="{h.MONO}">→ {h.esc(call.get("tool_name") or "?")}'
                                f'({h.esc(_args_preview(call))})</span>', state, "",
                          h.latency_bar(call.get("duration"), longest, h.ROLE_COLORS["tool"][1],
                                        offset=r.get("offset"))])
            styles.append("")
    table = h.table_html(["run / tool call", "status", "tokens", "latency"], cells, row_styles=styles)
    if len(shown) < len(rows):
        table += h.note(f"… {len(rows) - len(shown):,} more line(s) of the run tree not shown")
    n_tools = sum(r["kind"] == "tool" for r in rows)
    summary = f"Run tree: {h.plural(len(data.runs), 'run')}, {h.plural(n_tools, 'tool call')}"
    return (f'<details class="agno-tree"{" open" if open_ else ""} style="{h.FONT}{h.TEXT}margin:4px 0">'
            f'<summary style="cursor:pointer;font-weight:600">{h.esc(summary)}</summary>{table}</details>')
