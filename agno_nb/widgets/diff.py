"""Aligning sessions turn by turn, finding where they diverge, and word-level diffs."""

from __future__ import annotations

import difflib
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .html import esc, present

Turn = Dict[str, Any]
Row = List[Optional[Turn]]

_WORDS = re.compile(r"\S+|\s+")
# their own light background and dark text: readable in a light and in a dark theme
REMOVED = "background:#fecaca;color:#7f1d1d;text-decoration:line-through"
ADDED = "background:#bbf7d0;color:#14532d"


def normalize(text: Any) -> str:
    """Text compared for equality: whitespace runs collapsed, ends stripped."""
    return " ".join(str(text).split()) if present(text) else ""


def align(sessions: Sequence[Sequence[Turn]]) -> List[Row]:
    """Rows of turns, one column per session, matched by their ``input`` text in order.

    The first session is the reference; each further session is matched against the
    rows so far with :class:`difflib.SequenceMatcher` on the normalized inputs. Turns
    whose inputs differ at the same place share a row (paired in order); a turn only
    one side has gets a row of its own with gaps elsewhere.
    """
    n = len(sessions)
    if n == 0:
        return []
    rows: List[Row] = [[t] + [None] * (n - 1) for t in sessions[0]]
    for s in range(1, n):
        keys = [normalize(next(c for c in row if c is not None).get("input")) for row in rows]
        theirs = [normalize(t.get("input")) for t in sessions[s]]
        out: List[Row] = []
        ops = difflib.SequenceMatcher(None, keys, theirs, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal" or tag == "replace":
                pairs = min(i2 - i1, j2 - j1)
                for k in range(pairs):
                    rows[i1 + k][s] = sessions[s][j1 + k]
                    out.append(rows[i1 + k])
                out += rows[i1 + pairs:i2]
                out += [_alone(n, s, t) for t in sessions[s][j1 + pairs:j2]]
            elif tag == "delete":
                out += rows[i1:i2]
            else:  # insert
                out += [_alone(n, s, t) for t in sessions[s][j1:j2]]
        rows = out
    return rows


def _alone(n: int, s: int, turn: Turn) -> Row:
    row: Row = [None] * n
    row[s] = turn
    return row


def trajectory_keys(turn: Turn) -> List[str]:
    """The turn's tool calls as ``name(args)`` strings, in order (see ``tool_trajectory``)."""
    return [t["key"] for t in turn.get("tool_trajectory") or []]


def row_differs(row: Row) -> bool:
    """A turn missing on one side, answers (``content``) that are not the same text, or
    different tool calls (names or arguments, in order)."""
    if any(c is None for c in row):
        return True
    answers = {normalize(c.get("content")) for c in row}
    tools = {tuple(trajectory_keys(c)) for c in row}
    return len(answers) > 1 or len(tools) > 1


def sequence_diff(base: Sequence[str], other: Sequence[str]) -> List[Tuple[str, int, int]]:
    """How ``other`` differs from ``base``, item by item: ``(tag, i, j)`` with tag ``same``
    (``base[i]`` and ``other[j]``), ``missing`` (only ``base[i]``) or ``added`` (only ``other[j]``)."""
    out: List[Tuple[str, int, int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, list(base), list(other), autojunk=False).get_opcodes():
        if tag == "equal":
            out += [("same", i1 + k, j1 + k) for k in range(i2 - i1)]
            continue
        out += [("missing", i, -1) for i in range(i1, i2)]
        out += [("added", -1, j) for j in range(j1, j2)]
    return out


def first_divergence(rows: Sequence[Row]) -> Optional[int]:
    """Index (0-based) of the first row whose answers differ; None if none do."""
    return next((i for i, row in enumerate(rows) if row_differs(row)), None)


def word_diff(a: Any, b: Any) -> Tuple[str, str]:
    """``a`` and ``b`` as escaped HTML, the words that differ highlighted (removed in ``a``, added in ``b``)."""
    wa = _WORDS.findall(str(a)) if present(a) else []
    wb = _WORDS.findall(str(b)) if present(b) else []
    out_a: List[Tuple[str, str]] = []
    out_b: List[Tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        left, right = "".join(wa[i1:i2]), "".join(wb[j1:j2])
        if tag == "equal":
            out_a.append(("", left))
            out_b.append(("", right))
            continue
        if left:
            out_a.append((REMOVED, left))
        if right:
            out_b.append((ADDED, right))
    return _join(out_a), _join(out_b)


def inline_diff(base: Any, other: Any) -> str:
    """``other`` as escaped HTML, with the words of ``base`` it lacks struck out in place and
    the words it adds highlighted: one column read against the baseline."""
    wa = _WORDS.findall(str(base)) if present(base) else []
    wb = _WORDS.findall(str(other)) if present(other) else []
    out: List[Tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        left, right = "".join(wa[i1:i2]), "".join(wb[j1:j2])
        if tag == "equal":
            out.append(("", right))
            continue
        if left.strip():
            out.append((REMOVED, left.strip()))
        if right:
            out.append((ADDED, right))
    return _join(out)


def _join(segments: Sequence[Tuple[str, str]]) -> str:
    """Escaped HTML of ``(style, text)`` segments, a ``<mark>`` for each styled one. Where a
    marked segment meets other text with no whitespace between them, a space goes between:
    the diff matches spaces on their own, so a changed word can lose the space beside it,
    and "Tokyo," struck out right before an added "Tokyo" read as one word."""
    out: List[str] = []
    prev_text, prev_marked = "", False
    for style, text in segments:
        if not text:
            continue
        if (style or prev_marked) and prev_text and not prev_text[-1].isspace() and not text[0].isspace():
            out.append(" ")
        out.append(f'<mark style="{style}">{esc(text)}</mark>' if style else esc(text))
        prev_text, prev_marked = text, bool(style)
    return "".join(out)
