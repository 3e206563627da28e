"""Offloaded tool results: what the tool returned, behind the pointer the model saw.

With ``Agent(offload_tool_results=True)`` Agno stores a large tool result as a file and
puts an envelope in the run instead (``<result id="res_…" tool="…" lines="…" size="67.0KB">``,
a preview, "read with read_result(...)"). The index row is in ``agno_tool_results``
(``result_id`` → ``namespace``, ``path``, ``size_bytes``), the payload in ``agno_fs``
(joined on namespace and path). On PostgreSQL Agno writes ``agno_fs`` into the schema
``fs``, outside the schema of its other tables.

:func:`resolve` gives ``tool_calls().result`` the payload and leaves ``messages().content``
as the pointer (what the model saw); both get ``offloaded`` and ``result_size`` (bytes).
A payload that is missing (expired, deleted) keeps the pointer, stays marked offloaded,
and one warning counts such rows. Nothing but one substring test per row is spent where no
envelope appears: the offload tables are read only when one does.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc

ENVELOPE_START = '<result id="res_'
_ENVELOPE_ID = re.compile(r'<result id="(res_[^"]+)"')
INDEX_TABLE = "agno_tool_results"  # fixed by Agno (no keyword renames it)
PAYLOAD_TABLE = "agno_fs"  # agno.fs.db.DbFileSystem's default table
PAYLOAD_SCHEMA_POSTGRES = "fs"  # agno.fs.db's default schema on PostgreSQL
_CHUNK = 200  # (namespace, path) pairs per payload query


def envelope_id(text: Optional[str]) -> Optional[str]:
    """The ``res_…`` id of an offload envelope in ``text``, or None."""
    if not text or ENVELOPE_START not in text:
        return None
    m = _ENVELOPE_ID.search(text)
    return m.group(1) if m else None


def resolve(source: Any, table: pa.Table, name: str) -> pa.Table:
    """``table`` (tool_calls or messages) with offloaded results resolved and marked.

    tool_calls: ``result`` becomes the payload where it is found. Both tables: ``offloaded``
    (True where the stored value is an envelope) and ``result_size`` (bytes of what the tool
    returned: the payload's size where offloaded, else the stored text's; messages: tool
    messages only) are filled where the table has them.
    """
    col = "result" if name == "tool_calls" else "content"
    if col not in table.column_names:
        return table
    values = table[col]
    sizes = pc.cast(pc.binary_length(values), pa.int64())  # UTF-8 bytes of a string, no copy
    tool = None
    if name == "messages" and "role" in table.column_names:
        # only a tool message holds a tool's result (an assistant may quote an envelope)
        tool = pc.fill_null(pc.equal(table["role"], "tool"), False)
        sizes = pc.if_else(tool, sizes, pa.scalar(None, pa.int64()))
    # the one cost where nothing is offloaded: a substring scan of the tool results alone
    scanned = values if tool is None else pc.filter(values, tool)
    if pc.any(pc.match_substring(scanned, ENVELOPE_START)).as_py():
        marked = pc.fill_null(pc.match_substring(values, ENVELOPE_START), False)
        marked = marked if tool is None else pc.and_(marked, tool)
    else:
        marked = pa.chunked_array([pa.repeat(pa.scalar(False), len(values))])
    if pc.any(marked).as_py():
        table, sizes = _with_payloads(source, table, name, col, marked, sizes)
    out = table
    for key, value in (("offloaded", marked), ("result_size", sizes)):
        if key in out.column_names:
            i = out.schema.get_field_index(key)
            out = out.set_column(i, pa.field(key, out.schema.field(i).type), pc.cast(value, out.schema.field(i).type))
    return out


def _with_payloads(source: Any, table: pa.Table, name: str, col: str, marked: pa.ChunkedArray,
                   sizes: pa.ChunkedArray) -> Tuple[pa.Table, pa.ChunkedArray]:
    texts = table[col].to_pylist()
    flags = marked.to_pylist()
    ids = [envelope_id(t) if f else None for t, f in zip(texts, flags)]
    wanted = sorted({i for i in ids if i})
    index = read_index(source, wanted)
    payloads = read_payloads(source, sorted({(r["namespace"], r["path"]) for r in index.values()}))
    new_sizes = sizes.to_pylist()
    missing = 0
    for k, rid in enumerate(ids):
        if rid is None:
            continue
        row = index.get(rid)
        payload = payloads.get((row["namespace"], row["path"])) if row else None
        if payload is None:
            missing += 1
            new_sizes[k] = row["size_bytes"] if row else None
            continue
        new_sizes[k] = len(payload.encode("utf-8"))
        if name == "tool_calls":
            texts[k] = payload
    if missing:
        warnings.warn(f"{name}(): {missing} offloaded tool result(s) have no payload in {PAYLOAD_TABLE} (expired or "
                      "deleted): they keep the envelope the model saw, with offloaded=True", RuntimeWarning, stacklevel=5)
    if name == "tool_calls":
        i = table.schema.get_field_index(col)
        table = table.set_column(i, table.schema.field(i), pa.array(texts, table.schema.field(i).type))
    return table, pa.chunked_array([pa.array(new_sizes, pa.int64())])


def read_index(source: Any, result_ids: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """``agno_tool_results`` rows by result id (only those asked for); {} without the table or a SQL source."""
    import sqlalchemy as sa

    if not result_ids or getattr(source, "parsed", True) is not False:  # only a SQL database has the store
        return {}
    with source.read_connection() as conn:
        if not sa.inspect(conn).has_table(INDEX_TABLE, schema=source.db_schema):
            return {}
        t = sa.table(INDEX_TABLE, *[sa.column(c) for c in ("result_id", "namespace", "path", "size_bytes")],
                     schema=source.db_schema)
        rows = conn.execute(sa.select(t.c.result_id, t.c.namespace, t.c.path, t.c.size_bytes)
                            .where(source.in_ids(t.c.result_id, list(result_ids)))).mappings().all()
    return {r["result_id"]: dict(r) for r in rows}


def payload_schema(source: Any) -> Optional[str]:
    """Where Agno writes ``agno_fs``: the schema ``fs`` on PostgreSQL, else beside the other tables."""
    return PAYLOAD_SCHEMA_POSTGRES if source.backend == "postgresql" else source.db_schema


def read_payloads(source: Any, keys: Sequence[Tuple[str, str]]) -> Dict[Tuple[str, str], str]:
    """The payloads at ``keys`` ((namespace, path) pairs); the shared partition (user_id '') first."""
    import sqlalchemy as sa

    if not keys:
        return {}
    schema = payload_schema(source)
    out: Dict[Tuple[str, str], str] = {}
    with source.read_connection() as conn:
        insp = sa.inspect(conn)
        if not insp.has_table(PAYLOAD_TABLE, schema=schema):
            return {}
        has_user = any(c["name"] == "user_id" for c in insp.get_columns(PAYLOAD_TABLE, schema=schema))
        cols = ["namespace", "path", "content"] + (["user_id"] if has_user else [])
        t = sa.table(PAYLOAD_TABLE, *[sa.column(c) for c in cols], schema=schema)
        for start in range(0, len(keys), _CHUNK):
            chunk: List[Tuple[str, str]] = list(keys[start:start + _CHUNK])
            cond = sa.or_(*[sa.and_(t.c.namespace == ns, t.c.path == p) for ns, p in chunk])
            query = sa.select(*t.c).where(cond)
            if has_user:  # "" (shared, where Agno's offload writes) sorts first
                query = query.order_by(t.c.user_id.desc())
            for r in conn.execute(query).mappings():
                out[(r["namespace"], r["path"])] = r["content"]  # the last one written wins: ''
    return out
