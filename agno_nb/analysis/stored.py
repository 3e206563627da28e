"""Agno's other tables ("stored tables"): one registry, one reader.

Besides sessions and runs, Agno 3.1 writes traces, spans, approvals, compactions, user
memories, learnings, daily metrics, eval runs and the index of offloaded tool results into
the same database. Each is declared once in :data:`STORED`: its Agno table name (Agno's
default, overridable by the keyword Agno's db takes, e.g. ``traces_table=``), its columns
(:mod:`agno_nb.analysis.stored_columns`), the column ``since``/``until`` apply to, and for
spans the table joined to them (their trace, which holds run, session and user).

:func:`read_stored` reads any of them: the stored columns it needs, with the filters pushed
into the source's SQL as bound parameters, then typed by DuckDB from the declarations.
A database without the table gives an empty table with the declared columns: "none" is an
answer, not an error. JSON that does not parse keeps its row and raw text (one warning
with a count). Credential tables (auth tokens, service accounts, MCP OAuth) are never
registered, and no name may point a registered table at one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import duckdb
import pyarrow as pa

from ..db.schema import check_identifier
from .column_spec import JSONTEXT, TEXT, TIME, Column
from .filters import Filters
from .stored_columns import STORED_COLUMNS


@dataclass(frozen=True)
class StoredTable:
    """One of Agno's tables, as agno_nb reads it."""

    name: str                    # agno_nb's name: ex.<name>(), a table in ex.sql()
    default_table: str           # Agno 3.1's default table name
    kwarg: Optional[str]         # the keyword of Agno's db that renames it (None: Agno fixes the name)
    columns: Sequence[Column]
    time_column: Optional[str]   # the output column since/until apply to
    # how that column is stored: "epoch" (Unix seconds: compared in SQL), "iso" (ISO text:
    # compared in SQL with a day's slack for offsets, then exactly), None (compared after typing)
    time_stored: Optional[str] = "epoch"
    order_by: Sequence[str] = ()
    # (alias, registered table, key): a table joined on ``key``; columns read it as ``alias.col``
    join: Optional[Tuple[str, str, str]] = None
    # a filter's stored column where the output column is computed (spans: their trace's session)
    filter_rows: Mapping[str, str] = field(default_factory=dict)
    # (id column, parent id column, columns): where one of ``columns`` is NULL, the value of the
    # nearest ancestor that has one (a member agent's model call belongs to the member's run)
    inherit: Optional[Tuple[str, str, Tuple[str, ...]]] = None

    @property
    def doc(self) -> str:
        rename = f", renamed by {self.kwarg}=" if self.kwarg else ""
        return f"Agno's {self.default_table}{rename}"


STORED: Dict[str, StoredTable] = {t.name: t for t in [
    StoredTable("traces", "agno_traces", "traces_table", STORED_COLUMNS["traces"], "start_time", "iso",
                order_by=("start_time", "trace_id")),
    StoredTable("spans", "agno_spans", "spans_table", STORED_COLUMNS["spans"], "start_time", "iso",
                order_by=("start_time", "span_id"), join=("trace", "traces", "trace_id"),
                filter_rows={"session_id": "trace.session_id"},
                inherit=("span_id", "parent_span_id", ("attr_run_id", "attr_session_id"))),
    StoredTable("approvals", "agno_approvals", "approvals_table", STORED_COLUMNS["approvals"], "requested_at",
                order_by=("created_at", "id")),
    StoredTable("compactions", "agno_compactions", None, STORED_COLUMNS["compactions"], "created_at",
                order_by=("created_at", "compaction_id")),
    StoredTable("memories", "agno_memories", "memory_table", STORED_COLUMNS["memories"], "created_at",
                order_by=("created_at", "memory_id")),
    StoredTable("learnings", "agno_learnings", "learnings_table", STORED_COLUMNS["learnings"], "created_at",
                order_by=("created_at", "learning_id")),
    StoredTable("metrics", "agno_metrics", "metrics_table", STORED_COLUMNS["metrics"], "date", None,
                order_by=("date", "aggregation_period", "user_id"), filter_rows={"user_id": "user_id"}),
    StoredTable("tool_results", "agno_tool_results", None, STORED_COLUMNS["tool_results"], "created_at",
                order_by=("created_at", "result_id")),
    StoredTable("evals", "agno_eval_runs", "eval_table", STORED_COLUMNS["evals"], "created_at",
                order_by=("created_at", "run_id")),
]}

# Agno's credential tables: never read, not even when a table name points at one.
CREDENTIAL_TABLES = frozenset({
    "agno_auth_tokens", "agno_service_accounts", "agno_mcp_oauth_clients", "agno_mcp_oauth_transactions",
    "agno_mcp_oauth_codes", "agno_mcp_oauth_refresh_tokens", "agno_mcp_oauth_keys",
})
CREDENTIAL_KWARGS = frozenset({"auth_tokens_table", "service_accounts_table", "mcp_oauth_clients_table",
                               "mcp_oauth_transactions_table", "mcp_oauth_codes_table",
                               "mcp_oauth_refresh_tokens_table", "mcp_oauth_keys_table"})
# the filters a stored table can take, and the column each needs
_EQUALITY_FILTERS = ("user_id", "agent_id", "team_id", "workflow_id")
_SQLITE_SLACK_S = 86400  # ISO text compared as text: widen by a day, for any UTC offset


def table_kwargs() -> Dict[str, str]:
    """Agno's db keyword → the registered table it renames (``traces_table`` → ``traces``)."""
    return {t.kwarg: t.name for t in STORED.values() if t.kwarg}


def table_names(overrides: Optional[Mapping[str, Optional[str]]] = None) -> Dict[str, str]:
    """The Agno table name of every registered table, with ``overrides`` (Agno's keywords) applied.

    Refuses an unknown keyword, a credential table's keyword, and a name that is a credential table.
    """
    kwargs = table_kwargs()
    names = {t.name: t.default_table for t in STORED.values()}
    for key, value in (overrides or {}).items():
        if key in CREDENTIAL_KWARGS:
            raise ValueError(f"{key}= names a credential table: agno_nb never reads credentials")
        if key not in kwargs:
            raise TypeError(f"unknown table keyword {key!r}; Agno's table keywords agno_nb reads: "
                            f"{', '.join(sorted(kwargs))}")
        if value is not None:
            names[kwargs[key]] = check_table_name(value, key)
    return names


def check_table_name(name: str, what: str) -> str:
    """``name`` if it is a plain identifier and not a credential table."""
    name = check_identifier(name, what)
    if name.lower() in CREDENTIAL_TABLES:
        raise ValueError(f"{what}={name!r} is a credential table: agno_nb never reads credentials")
    return name


def filter_keys(name: str) -> List[str]:
    """The keyword filters ``name`` takes: those whose column the table has, and since/until."""
    spec = STORED[name]
    have = {c.name for c in spec.columns}
    keys = (["session_ids"] if "session_id" in have else []) + [k for k in _EQUALITY_FILTERS if k in have]
    return keys + (["since", "until"] if spec.time_column else [])


def applicable(name: str, f: Filters) -> bool:
    """Whether ``name`` can apply every filter set in ``f``."""
    return all(k in filter_keys(name) for k, v in vars(f).items() if v is not None)


def check_filters(name: str, f: Filters) -> None:
    """A TypeError for a filter the table cannot apply (silently ignoring it would return too much)."""
    allowed = set(filter_keys(name))
    given = [k for k, v in vars(f).items() if v is not None]
    wrong = [k for k in given if k not in allowed]
    if wrong:
        raise TypeError(f"{name}() cannot filter by {', '.join(wrong)}: its table has no such column; "
                        f"its filters are {', '.join(filter_keys(name))}")


# -- reading -------------------------------------------------------------------------------

def read_stored(source: Any, name: str, filters: Optional[Filters] = None,
                columns: Optional[Sequence[str]] = None, *, table: Optional[str] = None,
                join_table: Optional[str] = None) -> pa.Table:
    """The rows of the registered table ``name`` in ``source``, typed as declared, as Arrow.

    ``filters``: those of :func:`filter_keys` (pushed into SQL, bound); ``columns``: a subset,
    in that order; ``table`` / ``join_table``: the Agno table names when renamed (default:
    Agno's). Sources that are not SQL databases hold none of these tables here (a Parquet
    export's copies are read by :class:`~agno_nb.analysis.parquet.ParquetSource`): empty.
    """
    spec = STORED[name]
    f = filters or Filters()
    check_filters(name, f)
    if columns is not None:
        unknown = [c for c in columns if c not in {col.name for col in spec.columns}]
        if unknown:
            raise KeyError(f"{name}() has no column {', '.join(map(repr, unknown))}; see describe({name!r})")
    spec = _pruned(spec, columns, f)
    raw = None
    if getattr(source, "parsed", True) is False:  # a SQL database (agno_nb.analysis.protocol)
        tname = check_table_name(table or spec.default_table, f"{name} table")
        jname = check_table_name(join_table or STORED[spec.join[1]].default_table, "joined table") if spec.join else None
        raw = _fetch(source, spec, tname, jname, f)
    typed = typed_table(spec, raw if raw is not None else _empty_raw(spec), f)
    return typed.select(list(columns)) if columns is not None else typed


def _pruned(spec: StoredTable, columns: Optional[Sequence[str]], f: Filters) -> StoredTable:
    """``spec`` with only the columns ``columns`` need (those, what their ``sql`` names, the time
    column for since/until, the sort columns, the links an inherited value walks): a span's
    attributes are read only when a column from them is asked for."""
    if columns is None:
        return spec
    by_name = {c.name: c for c in spec.columns}
    timed = f.since is not None or f.until is not None
    want = set(columns) | ({spec.time_column} if spec.time_column and timed else set())
    want |= {c.name for c in spec.columns if c.row in spec.order_by and c.path is None}
    todo = list(want)
    while todo:
        col = by_name[todo.pop()]
        deps = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", col.sql or "")) & set(by_name)
        if spec.inherit is not None and col.name in spec.inherit[2]:
            deps |= {spec.inherit[0], spec.inherit[1]}
        for dep in deps - want:
            want.add(dep)
            todo.append(dep)
    return replace(spec, columns=[c for c in spec.columns if c.name in want])


def empty(name: str) -> pa.Table:
    """The table ``name`` with no rows: its declared columns and types."""
    return typed_table(STORED[name], _empty_raw(STORED[name]), Filters())


def _raw_names(spec: StoredTable) -> List[str]:
    """The stored columns the declarations read (``alias.col`` for the joined table), once each."""
    out: List[str] = []
    for c in spec.columns:
        if c.row is not None and c.row not in out:
            out.append(c.row)
    return out


def _label(raw: str) -> str:
    return raw.replace(".", "__")


def _empty_raw(spec: StoredTable) -> pa.Table:
    return pa.schema([(_label(r), pa.string()) for r in _raw_names(spec)]).empty_table()


def _fetch(source: Any, spec: StoredTable, tname: str, jname: Optional[str], f: Filters) -> Optional[pa.Table]:
    """The stored columns as text (one Arrow string column each), or None without the table."""
    import sqlalchemy as sa

    schema = source.db_schema
    with source.read_connection() as conn:
        insp = sa.inspect(conn)
        if not insp.has_table(tname, schema=schema):
            return None
        present = {c["name"]: c["type"] for c in insp.get_columns(tname, schema=schema)}
        main = sa.table(tname, *[sa.column(c) for c in present], schema=schema)
        joined, jpresent = None, {}
        if spec.join is not None and jname is not None and insp.has_table(jname, schema=schema):
            jpresent = {c["name"]: c["type"] for c in insp.get_columns(jname, schema=schema)}
            joined = sa.table(jname, *[sa.column(c) for c in jpresent], schema=schema).alias(spec.join[0])

        def ref(raw: str):
            """The SQL column for a declared stored column (None where the table lacks it)."""
            if "." in raw:
                alias, col = raw.split(".", 1)
                return (joined.c[col], jpresent[col]) if joined is not None and col in jpresent else (None, None)
            return (main.c[raw], present[raw]) if raw in present else (None, None)

        selects = []
        for raw in _raw_names(spec):
            col, type_ = ref(raw)
            if col is None:
                selects.append(sa.null().label(_label(raw)))
            elif source.backend != "sqlite" and isinstance(type_, sa.JSON):
                # PostgreSQL's JSONB and MySQL's JSON as their JSON text, never decoded in Python
                selects.append(sa.cast(col, sa.Text).label(_label(raw)))
            else:
                selects.append(col.label(_label(raw)))
        query = sa.select(*selects).select_from(
            main.outerjoin(joined, main.c[spec.join[2]] == joined.c[spec.join[2]]) if joined is not None else main)
        conds = _conditions(source, spec, f, ref)
        labels = [_label(r) for r in _raw_names(spec)]
        if conds is None:
            return pa.schema([(label, pa.string()) for label in labels]).empty_table()
        # typed_table sorts the typed rows; where an index of SQLite's serves the declared order the
        # rows are read in it, so nothing moves afterwards. Without such an index SQLite would copy
        # every row (attributes and all) into a temporary B-tree: then the rows come unordered.
        query = query.where(*conds)
        if source.backend == "sqlite" and spec.order_by and all(o in present for o in spec.order_by) and any(
                (ix.get("column_names") or [])[:1] == [spec.order_by[0]] for ix in insp.get_indexes(tname, schema=schema)):
            query = query.order_by(*[main.c[o] for o in spec.order_by])
        if source.backend != "sqlite":
            rows = conn.execute(query).all()
            return pa.table({label: pa.array([_as_text(r[i]) for r in rows], pa.string())
                             for i, label in enumerate(labels)})
    return _sqlite_rows(source.path, query, labels)


def _sqlite_rows(path: str, query: Any, labels: List[str]) -> "_Streamed":
    """The rows of ``query`` on a SQLite file as Arrow text columns, through ``sqlite3`` alone
    (:mod:`.sqlite_read`: the one SQLite library the user's process may use), without a Python
    object per value: several times faster than SQLAlchemy's rows for wide JSON columns. The
    query runs now; its rows are read as :func:`typed_table` consumes them (:class:`_Streamed`)."""
    from sqlalchemy.dialects import sqlite

    from . import sqlite_read

    compiled = query.compile(dialect=sqlite.dialect(paramstyle="qmark"), compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[name] for name in (compiled.positiontup or []))
    schema = pa.schema([(label, pa.string()) for label in labels])
    con = sqlite_read.connect(path)
    cur = None
    try:
        cur = sqlite_read.ArrowCursor(con, path, batch_rows=4096)
        cur.execute(str(compiled), params)
        return _Streamed(con, cur, schema)
    except BaseException:
        if cur is not None:
            cur.close()
        con.close()
        raise


class _Streamed:
    """A SQLite query's rows, read a batch at a time while DuckDB types the batches before (SQLite
    steps without Python's lock, DuckDB parses on another core), each batch kept: :meth:`table`
    gives them all afterwards without a copy. The connection closes once the rows are read."""

    def __init__(self, con: Any, cur: Any, schema: pa.Schema):
        self.schema, self.kept, self.done = schema, [], False
        self.keep, self.rows = True, 0  # keep: hold every batch for table() (else only count the rows)
        self.error: Optional[BaseException] = None
        self._con, self._cur = con, cur

    def reader(self) -> pa.RecordBatchReader:
        """The rows (once), with ``__row__``: their position."""
        import numpy as np

        schema = self.schema
        with_row = schema.append(pa.field("__row__", pa.int64()))

        def batches():
            n = 0
            try:
                for b in self._cur.batches(schema):
                    if not b.schema.equals(schema):
                        b = pa.RecordBatch.from_arrays([c.cast(f.type) for c, f in zip(b.columns, schema)], schema=schema)
                    if self.keep:
                        self.kept.append(b)
                    yield pa.RecordBatch.from_arrays(
                        [*b.columns, pa.array(np.arange(n, n + b.num_rows, dtype=np.int64))], schema=with_row)
                    n += b.num_rows
                self.rows = n
                self.done = True
            except BaseException as exc:  # re-raised by failed() as it is, not as DuckDB wraps it
                self.error = exc
                raise
            finally:
                self.close()

        return pa.RecordBatchReader.from_batches(with_row, batches())

    def table(self) -> pa.Table:
        if not self.keep:
            raise RuntimeError("the rows were read without keeping them")
        if not self.done:
            for _ in self.reader():
                pass
        return pa.Table.from_batches(self.kept, schema=self.schema)

    def close(self) -> None:
        if self._con is not None:
            self._cur.close()
            self._con.close()
            self._con = None


def _conditions(source: Any, spec: StoredTable, f: Filters, ref) -> Optional[List[Any]]:
    """The filters as SQL conditions on stored columns (None: nothing can match)."""
    by_name = {c.name: c for c in STORED[spec.name].columns}  # every column, not only those read

    def stored(name: str):
        raw = spec.filter_rows.get(name) or by_name[name].row
        return ref(raw)[0] if raw is not None else None

    conds = []
    wanted = [("session_id", f.session_ids)] + [(k, getattr(f, k)) for k in _EQUALITY_FILTERS]
    for key, value in wanted:
        if value is None:
            continue
        col = stored(key)
        if col is None:
            return None  # the table lacks the column: no row has that value
        conds.append(source.in_ids(col, value) if key == "session_id" else col == value)
    if spec.time_column and spec.time_stored and (f.since is not None or f.until is not None):
        col = stored(spec.time_column)
        if col is not None:
            for bound, op, slack in ((f.since, "__ge__", -_SQLITE_SLACK_S), (f.until, "__lt__", _SQLITE_SLACK_S)):
                if bound is None:
                    continue
                if spec.time_stored == "epoch":
                    conds.append(getattr(col, op)(bound))
                else:  # ISO text sorts as text within one format; the exact test follows in typed_table
                    iso = dt.datetime.fromtimestamp(bound + slack, dt.timezone.utc).strftime("%Y-%m-%d")
                    conds.append(getattr(col, op)(iso) if op == "__ge__" else col < iso + "T99")
    return conds


def _as_text(value: Any) -> Optional[str]:
    """A stored value as text: SQLite types are per value, and drivers decode some JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, float):
        return repr(value)
    return str(value)


# -- typing ----------------------------------------------------------------------------------

def _json_paths(spec: StoredTable) -> Dict[str, List[str]]:
    """The JSON paths read from each stored column, in declaration order: each column's JSON is
    parsed once for all of them (one ``json_extract_string`` with a list of paths)."""
    paths: Dict[str, List[str]] = {}
    for c in spec.columns:
        if c.row is not None and c.path is not None and c.type not in (JSONTEXT, "VARCHAR[]"):
            paths.setdefault(c.row, []).append(c.path)
    return paths


def _value_sql(col: Column, paths: Mapping[str, List[str]]) -> str:
    """The DuckDB expression typing ``col`` from the stored text columns (in table ``r``)."""
    src = f'r."{_label(col.row)}"'
    if col.path is not None and col.row in paths and col.path in paths[col.row]:
        # a JSON string's text, another value's JSON text (NULL where the JSON does not parse)
        src = f'r."__json_{_label(col.row)}"[{paths[col.row].index(col.path) + 1}]'
    elif col.path is not None:
        src = f"CASE WHEN json_valid({src}) THEN CAST(json_extract({src}, '{col.path}') AS VARCHAR) END"
    if col.type == TIME:
        num = f"TRY_CAST({src} AS DOUBLE)"
        stamp = f"to_timestamp(CASE WHEN {num} > 1e11 THEN {num} / 1000 ELSE {num} END)"
        # ISO text with or without an offset (naive = UTC, the session's time zone here)
        return f"coalesce({stamp}, TRY_CAST({src} AS TIMESTAMPTZ))"
    if col.type == TEXT and col.path is None:
        return f"CASE WHEN json_valid({src}) AND json_type({src}) = 'VARCHAR' THEN {src} ->> '$' ELSE {src} END"
    if col.type in (TEXT, JSONTEXT, "VARCHAR"):
        return f"CAST({src} AS VARCHAR)"
    if col.type == "VARCHAR[]":
        return (f"CASE WHEN json_valid({src}) AND json_type({src}) = 'ARRAY' "
                f"THEN json_extract_string({src}, '$[*]') END")
    if col.type == "BOOLEAN":
        return (f"CASE lower(trim({src})) WHEN 'true' THEN true WHEN 't' THEN true WHEN '1' THEN true "
                f"WHEN 'false' THEN false WHEN 'f' THEN false WHEN '0' THEN false END")
    if col.type == "BIGINT":
        return f"CAST(round(TRY_CAST({src} AS DOUBLE)) AS BIGINT)"
    return f"TRY_CAST({src} AS {col.duckdb_type})"


def typed_filter(spec: StoredTable, f: Filters, *, times_only: bool = False) -> Tuple[str, List[Any]]:
    """The filters ``f`` as a DuckDB condition over the typed columns ("" if none), and its values.

    ``times_only``: since/until only (the others were applied in the database's SQL)."""
    have = {c.name for c in spec.columns}
    where, params = [], []
    if not times_only:
        if f.session_ids is not None and "session_id" in have:
            where.append("list_contains(?, session_id)")
            params.append(list(f.session_ids))
        for key in _EQUALITY_FILTERS:
            if getattr(f, key) is not None and key in have:
                where.append(f'"{key}" = ?')
                params.append(getattr(f, key))
    if spec.time_column and f.since is not None:
        where.append(f'"{spec.time_column}" >= to_timestamp(?)')
        params.append(f.since)
    if spec.time_column and f.until is not None:
        where.append(f'"{spec.time_column}" < to_timestamp(?)')
        params.append(f.until)
    return " AND ".join(where), params


def _direct(spec: StoredTable) -> List[str]:
    """The columns that are a stored column's text as it is (JSON kept as stored text, e.g. a span's
    ``attributes``) and that no other column, link or sort needs: they never go through DuckDB (the
    largest values Agno stores are these; Arrow hands them over without a copy)."""
    names = {c.name for c in spec.columns}
    needed = set()
    for c in spec.columns:
        needed |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", c.sql or "")) & names
    if spec.inherit is not None:
        needed |= {spec.inherit[0], spec.inherit[1], *spec.inherit[2]}
    needed |= {c.name for c in spec.columns if c.row in spec.order_by and c.path is None}
    needed |= {spec.time_column} if spec.time_column else set()
    return [c.name for c in spec.columns
            if c.row is not None and c.path is None and c.type == JSONTEXT and c.name not in needed]


def typed_table(spec: StoredTable, raw: pa.Table, f: Filters) -> pa.Table:
    """The declared columns, typed, from the stored text columns ``raw``; since/until applied exactly.

    One pass of DuckDB over ``raw`` types every column (each JSON column parsed once for all
    the paths read from it); the links an inherited value walks and the sort are done on that
    result without the stored JSON text, which is taken from ``raw`` as it is (:func:`_direct`).
    """
    import numpy as np
    import pyarrow.compute as pc

    streamed = isinstance(raw, _Streamed)
    by_row = {}
    for c in spec.columns:
        if c.row is not None and c.path is None:
            by_row.setdefault(c.row, c.name)
    order = [by_row[o] for o in spec.order_by if o in by_row]
    direct = set(_direct(spec))
    typed_cols = [c for c in spec.columns if c.name not in direct]
    paths = _json_paths(spec)
    inner = ", ".join([*(f'CAST({_value_sql(c, paths)} AS {c.duckdb_type}) AS "{c.name}"'
                         for c in typed_cols if c.row is not None), "r.__row__"])
    # the second pass (links, computed columns, filter, order) reads only the columns it needs
    names = {c.name for c in spec.columns}
    computed = [c for c in spec.columns if c.row is None]
    inherited = [n for n in (spec.inherit[2] if spec.inherit else ()) if n in names]
    narrow = set(order) | set(inherited) | ({spec.time_column} if spec.time_column else set())
    if inherited:
        narrow |= {spec.inherit[0], spec.inherit[1]}
    for c in computed:
        narrow |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", c.sql or "")) & names
    narrow = [c.name for c in spec.columns if c.name in narrow and c.row is not None]
    outer = ", ".join(["__row__", *(f'"{n}"' for n in inherited),
                       *(f'CAST({c.sql} AS {c.duckdb_type}) AS "{c.name}"' for c in computed)])
    json_rows = sorted({c.row for c in spec.columns if c.row is not None and c.path is not None})
    # a JSON column's paths parsed once (try(): NULL where the text is not JSON); its bad rows counted
    # from that same parse, in the same pass
    parsed = "".join(
        f""", try(json_extract_string(raw."{_label(row)}", """
        f"""[{', '.join("'" + p.replace("'", "''") + "'" for p in ps)}])) AS "__json_{_label(row)}\""""
        for row, ps in paths.items())
    bad = [row for row in json_rows if row in paths]
    flags = "".join(f', ("{_label(row)}" IS NOT NULL AND "__json_{_label(row)}" IS NULL) AS "__bad_{_label(row)}"'
                    for row in bad)
    where, params = typed_filter(spec, f, times_only=True)
    sort = ", ".join([*(f't."{n}"' for n in order), "t.__row__"])
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        others = [row for row in json_rows if row not in paths]
        if streamed and others:  # read twice below: kept whole first
            raw, streamed = raw.table(), False
        if not streamed:
            raw = raw.append_column("__row__", pa.array(np.arange(raw.num_rows, dtype=np.int64)))
        else:
            raw.keep = bool(direct)  # the stored text is needed afterwards only for the direct columns
        # DuckDB reads only the columns the query names (a stream's too)
        con.register("raw", raw.reader() if streamed else raw)
        con.execute(f"CREATE TEMP VIEW r AS SELECT *{parsed} FROM raw")
        try:
            first = con.sql(f"SELECT {inner}{flags} FROM r").to_arrow_table()
        except Exception:
            if streamed and raw.error is not None:  # reading the rows failed: that error, as sqlite_read gives it
                raise raw.error from None
            raise
        finally:
            if streamed:
                raw.close()
        n_raw = raw.rows if streamed else raw.num_rows
        if streamed:
            raw = raw.table() if raw.keep else None
        _warn_malformed(con, spec, first, others)
        first = first.drop_columns([f"__bad_{_label(row)}" for row in bad])
        if not _is_range(first.column("__row__"), n_raw):  # position = __row__ below
            first = first.take(pc.sort_indices(first, sort_keys=[("__row__", "ascending")]))
        con.register("first", first.select([*narrow, "__row__"]))
        query = (f"{_with_base(spec, '*', 'first')} SELECT {outer} FROM base AS t"
                 + (f" WHERE {where}" if where else "") + f" ORDER BY {sort}")
        second = con.sql(query, params=params).to_arrow_table()
    rows = second.column("__row__")
    # rows read in the declared order already (SQLite's index on the sort column): nothing moves
    same = _is_range(rows, n_raw)
    by_second = set(second.column_names)
    cols = []
    for c in spec.columns:
        if c.name in by_second:
            cols.append(second.column(c.name))
        else:
            col = raw.column(_label(c.row)) if c.name in direct else first.column(c.name)
            cols.append(col if same else col.take(rows))
    return pa.Table.from_arrays(cols, names=[c.name for c in spec.columns])


def _is_range(values: Any, n: int) -> bool:
    """Whether ``values`` is 0, 1, ..., n-1."""
    import numpy as np
    import pyarrow.compute as pc

    if len(values) != n:
        return False
    if n == 0:
        return True
    return bool(pc.all(pc.equal(values, pa.array(np.arange(n, dtype=np.int64)))).as_py())


def _with_base(spec: StoredTable, inner: str, source: str = "r") -> str:
    """``WITH base AS (...)``: the typed stored columns (``SELECT inner FROM source``), with inherited
    values filled in (see :attr:`StoredTable.inherit`) by walking up the parent links (at most 256 levels)."""
    if spec.inherit is None:
        return f"WITH base AS (SELECT {inner} FROM {source})"
    key, parent, cols = spec.inherit
    present = {c.name for c in spec.columns}
    cols = tuple(c for c in cols if c in present)
    if not cols:
        return f"WITH base AS (SELECT {inner} FROM {source})"
    names = ", ".join(f'"{c}"' for c in (key, parent, *cols))
    # the walk reads a narrow copy of the links, materialized once (not the whole rows again per step)
    ctes = [f"own AS (SELECT {inner} FROM {source})",
            f"links AS MATERIALIZED (SELECT {names} FROM own)"]
    joins, replaced = [], []
    for i, col in enumerate(cols):
        ctes.append(
            f'up{i} AS (SELECT "{key}" AS id, "{parent}" AS cur, CAST(NULL AS VARCHAR) AS val, 0 AS depth '
            f'FROM links WHERE "{col}" IS NULL AND "{parent}" IS NOT NULL '
            f'UNION ALL SELECT u.id, l."{parent}", l."{col}", u.depth + 1 FROM up{i} u JOIN links l ON l."{key}" = u.cur '
            f"WHERE u.val IS NULL AND u.depth < 256)")
        ctes.append(f"found{i} AS (SELECT id, arg_min(val, depth) AS val FROM up{i} WHERE val IS NOT NULL GROUP BY id)")
        joins.append(f'LEFT JOIN found{i} ON found{i}.id = own."{key}"')
        replaced.append(f'coalesce(own."{col}", found{i}.val) AS "{col}"')
    ctes.append(f"base AS (SELECT own.* REPLACE ({', '.join(replaced)}) FROM own {' '.join(joins)})")
    return "WITH RECURSIVE " + ", ".join(ctes)


def _warn_malformed(con: duckdb.DuckDBPyConnection, spec: StoredTable, typed: pa.Table, others: Sequence[str]) -> None:
    """One warning per table and JSON column with values that do not parse (their rows are kept):
    counted from the ``__bad_<column>`` flags of ``typed`` (the parse that read the paths) and, for
    the JSON columns in ``others``, with json_valid."""
    import pyarrow.compute as pc

    json_rows = sorted({c.row for c in spec.columns if c.row is not None and c.path is not None})
    for raw in json_rows:
        label = _label(raw)
        if raw in others:
            n = con.execute(f'SELECT count(*) FROM r WHERE "{label}" IS NOT NULL AND NOT json_valid("{label}")'
                            ).fetchall()[0][0]
        else:
            n = pc.sum(typed.column(f"__bad_{label}")).as_py() or 0
        if n:
            warnings.warn(f"{spec.name}(): {n} row(s) whose {raw!r} is not valid JSON were kept with its raw text; "
                          f"the columns read from it are NULL there", RuntimeWarning, stacklevel=5)
