"""One session's runs, messages and tool calls, loaded through the explorer, as a run tree.

Only the session asked for is read (``session_ids=[...]`` is pushed down to the
database). Rows become plain dicts once, so stepping through a replay never touches
pandas again.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

import pandas as pd

from .html import present, run_label


def records(df: pd.DataFrame) -> List[Dict[str, Any]]:
    """DataFrame rows as dicts, with NA/NaN as None."""
    if df is None or df.empty:
        return []
    return df.astype(object).where(df.notna(), None).to_dict("records")


@dataclass
class RunNode:
    """A run with its messages and the runs nested under it (team members, workflow steps)."""

    run: Dict[str, Any]
    messages: List[Dict[str, Any]]
    depth: int = 0
    path: List[str] = field(default_factory=list)  # labels of the runs above it
    children: List["RunNode"] = field(default_factory=list)
    steps: Optional[List[Dict[str, Any]]] = None  # a workflow run's step results

    @property
    def run_id(self) -> str:
        return self.run["run_id"]

    @property
    def own(self) -> List[int]:
        """Indexes (into ``messages``) of the messages this run produced; history copies left out."""
        return [i for i, m in enumerate(self.messages) if m.get("from_history") is not True]


@dataclass
class SessionData:
    """A session loaded for display."""

    session_id: str
    session: Optional[Dict[str, Any]]
    roots: List[RunNode]      # top-level runs (turns), in order
    runs: List[RunNode]       # every run, depth first: a run, then the runs nested under it
    tools: Dict[Any, Dict[str, Any]]  # (run_id, tool_call_id) and tool_call_id -> tool-call row
    tools_by_run: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)  # in the order they ran

    def run(self, run_id: Any) -> Optional[Dict[str, Any]]:
        """The run row with this id (None if the session has no such run)."""
        if not hasattr(self, "_by_id"):
            self._by_id = {n.run_id: n.run for n in self.runs}
        return self._by_id.get(run_id) if present(run_id) else None

    def tool(self, msg: Mapping[str, Any], tool_call_id: Optional[str]) -> Optional[Dict[str, Any]]:
        """The tool-call row answering ``tool_call_id`` (same run first: history repeats ids)."""
        if not present(tool_call_id):
            return None
        return self.tools.get((msg.get("run_id"), tool_call_id)) or self.tools.get(tool_call_id)


def load_session(ex: Any, session_id: str) -> SessionData:
    """Read one session through a :class:`~agno_nb.analysis.SessionExplorer`."""
    ids = [session_id]
    sessions = records(ex.sessions(session_ids=ids))
    runs_df = ex.runs(session_ids=ids)
    messages = records(ex.messages(session_ids=ids))
    add_image_data(ex, session_id, messages)
    tools = records(ex.tool_calls(session_ids=ids))
    if not sessions and runs_df.empty:
        raise LookupError(f"no session {session_id!r} in {ex!r}")
    by_run: Dict[str, List[Dict[str, Any]]] = {}
    for m in messages:
        by_run.setdefault(m["run_id"], []).append(m)
    for msgs in by_run.values():
        msgs.sort(key=lambda m: m["message_index"])
    tool_map: Dict[Any, Dict[str, Any]] = {}
    by_run_tools: Dict[str, List[Dict[str, Any]]] = {}
    for t in tools:
        tool_map[(t["run_id"], t["tool_call_id"])] = t
        tool_map.setdefault(t["tool_call_id"], t)
        by_run_tools.setdefault(t["run_id"], []).append(t)
    run_rows = records(runs_df)
    steps = workflow_steps(runs_df)
    roots, flat = build_tree(run_rows, by_run, steps)
    return SessionData(session_id, sessions[0] if sessions else None, roots, flat, tool_map, by_run_tools)


def build_tree(run_rows: Sequence[Dict[str, Any]], by_run: Mapping[str, List[Dict[str, Any]]],
               steps: Mapping[str, List[Dict[str, Any]]]):
    """(top-level runs, all runs depth first) from run rows linked by ``parent_run_id``."""
    known = {r["run_id"] for r in run_rows}
    # stable on run_index: step runs share their workflow's index and keep their stored order
    ordered = sorted(enumerate(run_rows), key=lambda p: (p[1].get("run_index") or 0, p[0]))
    kids: Dict[str, List[Dict[str, Any]]] = {}
    tops = []
    for _, r in ordered:
        parent = r.get("parent_run_id")
        if present(parent) and parent in known and parent != r["run_id"]:
            kids.setdefault(parent, []).append(r)
        else:
            tops.append(r)
    flat: List[RunNode] = []

    def make(r: Dict[str, Any], depth: int, path: List[str], seen: frozenset) -> RunNode:
        node = RunNode(r, by_run.get(r["run_id"], []), depth, path, steps=steps.get(r["run_id"]))
        flat.append(node)
        for child in kids.get(r["run_id"], []):
            if child["run_id"] not in seen:  # a parent cycle in bad data must not recurse forever
                node.children.append(make(child, depth + 1, path + [run_label(r)], seen | {child["run_id"]}))
        return node

    roots = [make(r, 0, [], frozenset({r["run_id"]})) for r in tops]
    return roots, flat


def workflow_steps(runs_df: pd.DataFrame) -> Dict[str, List[Dict[str, Any]]]:
    """Step results of the session's workflow runs, by run_id (the runs table's ``step_results``)."""
    wf = runs_df[runs_df["run_type"] == "workflow"]
    return {rid: _as_list(v) for rid, v in zip(wf["run_id"], wf["step_results"]) if present(v)}


def _as_list(value: Any) -> List[Dict[str, Any]]:
    # the column holds JSON text
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# Images shown inline are small: a bigger one is listed by its type and size instead.
INLINE_IMAGE_BYTES = 256 * 1024
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
          (b"GIF89a", "image/gif"))


def image_data_url(content: Any) -> Optional[str]:
    """A ``data:`` URL for an image stored as base64 text, or None.

    The URL is built from the decoded bytes, re-encoded, with the type their magic bytes
    say (PNG, JPEG, GIF, WebP: never SVG, which can hold script), so nothing of the stored
    text reaches the page unchecked. Images past :data:`INLINE_IMAGE_BYTES` are not inlined.
    """
    if not isinstance(content, str) or len(content) > INLINE_IMAGE_BYTES * 4 // 3 + 4:
        return None
    try:
        raw = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return None
    mime = next((m for magic, m in _MAGIC if raw.startswith(magic)), None)
    if mime is None and raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        mime = "image/webp"
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}" if mime else None


def add_image_data(ex: Any, session_id: str, messages: List[Dict[str, Any]]) -> None:
    """Give each message with images their ``image_data`` (see :func:`image_data_url`).

    The ``media`` column lists attachments without their bytes; the bytes of the messages
    that have images are read here, for this session only, through a ``Column`` spec on the
    stored ``images``. A Parquet export holds no stored JSON: its images are listed, not shown.
    """
    if not any((m.get("n_images") or 0) > 0 for m in messages):
        return
    from ..analysis.columns import JSONTEXT, Column

    stored = Column("stored_images", JSONTEXT, "The message's images as stored", path="images")
    try:
        rows = records(ex.messages(session_ids=[session_id], columns=["run_id", "message_index", stored],
                                   where="n_images > 0"))
    except ValueError:
        return
    found = {(r["run_id"], r["message_index"]): _as_list(r["stored_images"]) for r in rows}
    for m in messages:
        images = found.get((m.get("run_id"), m.get("message_index")))
        if images:
            m["image_data"] = [image_data_url(i.get("content")) for i in images]
