"""NaN and ±Infinity in the analysis tables: shown as missing, the way agno_nb stores them.

agno_nb writes a NaN or an infinite float as JSON ``null`` (see :func:`agno_nb.db.codec.dumps`).
Files written by other tools (Agno on SQLite, anything using Python's ``json``) hold the
non-standard ``NaN`` / ``Infinity`` / ``-Infinity`` tokens instead, which DuckDB reads as
the float values. So that a run reads back the same whichever wrote it (and the same as
``db.get_session`` gives it), such values become missing values here too: in float columns,
and inside the JSON text columns (``tool_args``, ``tool_calls``, ``step_results``).
The TEXT columns (``content``, ``input``, ``result``) are left as stored: their text may
just as well be a string that says "NaN".
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columns import JSONTEXT, Column

# a JSON string (kept whole, so "NaN" inside text is untouched) or a bare token
_TOKEN = re.compile(r'("(?:[^"\\]|\\.)*")|-?Infinity|NaN')


def null_tokens(text: str) -> str:
    """JSON text with its bare NaN / Infinity / -Infinity tokens written as ``null``."""
    return _TOKEN.sub(lambda m: m.group(1) or "null", text)


def _may_hold_tokens(col: pa.ChunkedArray) -> bool:
    """Whether the column's bytes hold "NaN" or "Infinity" anywhere (a quick, vectorized
    scan of the string data; a hit is confirmed value by value)."""
    for chunk in col.chunks:
        data = chunk.buffers()[2]
        if data is None or data.size == 0:
            continue
        a = np.frombuffer(data, dtype=np.uint8)
        for word in (b"NaN", b"Infinity"):
            at = np.flatnonzero(a[: a.size - len(word) + 1] == word[0])
            for j in range(1, len(word)):
                at = at[a[at + j] == word[j]]
            if at.size:
                return True
    return False


def finite_table(table: pa.Table, columns: Sequence[Column]) -> pa.Table:
    """``table`` with NaN and ±Infinity as nulls (a no-op, and quick, when there are none)."""
    json_text = {c.name for c in columns if c.type == JSONTEXT}
    for i, field in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_floating(field.type):
            bad = pc.invert(pc.is_finite(col))
            if pc.any(bad).as_py():
                table = table.set_column(i, field, pc.if_else(bad, pa.scalar(None, field.type), col))
        elif (field.name in json_text and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
              and _may_hold_tokens(col)):
            hit = pc.match_substring_regex(col, "NaN|Infinity")
            if pc.any(hit).as_py():
                fixed = [null_tokens(v) if h else v for v, h in zip(col.to_pylist(), hit.to_pylist())]
                table = table.set_column(i, field, pa.array(fixed, field.type))
    return table
