"""From fetched rows to the four tables, in DuckDB.

Run JSON is decoded by DuckDB's ``from_json`` with the structure the table's columns
declare (:mod:`agno_nb.analysis.columns`): typed, one pass, no Python loop over rows.
Agno 2.x sessions (runs as a JSON list in the session row, double-encoded on SQLite)
and workflow runs (their step runs embedded) are turned into run rows first, so every
table is built the same way from one relation of run rows.

A row that cannot be decoded does not stop the load: it comes out flagged in a
``_bad`` column, and the caller reports it by session_id and run_id.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .columns import (
    MESSAGE_COLUMNS,
    RUN_COLUMNS,
    SESSION_COLUMNS,
    TOOL_CALL_COLUMNS,
    Column,
    projection,
    struct_for,
)
from .flags import RUN_INPUTS
from .filters import Filters
from .raw import COUNT_SCHEMA, RUN_ROW, SESSION_SCHEMA, RawRows

NOT_JSON = "run_data is not valid JSON"

# Macros the declared columns' sql= reads (agno_nb.analysis.columns): a JSON value as text (a
# string's own text), a run's input as Agno stores it (an object with input_content for agent and
# team runs, the value itself for workflow runs), and the media attached to a run or a message.
_COLUMN_MACROS = """
CREATE OR REPLACE TEMP MACRO agno_text(j) AS
  CASE WHEN json_type(j) = 'VARCHAR' THEN json_extract_string(j, '$')
       WHEN json_type(j) = 'NULL' THEN NULL ELSE CAST(j AS VARCHAR) END;
CREATE OR REPLACE TEMP MACRO agno_input(j) AS
  agno_text(CASE WHEN json_type(j) = 'OBJECT' AND json_extract(j, '$.input_content') IS NOT NULL
                 THEN json_extract(j, '$.input_content') ELSE j END);
CREATE OR REPLACE TEMP MACRO agno_count(j) AS CASE WHEN j IS NULL THEN 0 ELSE coalesce(TRY(json_array_length(j)), 0) END;
-- bytes of base64 text (NULL if it is not base64)
CREATE OR REPLACE TEMP MACRO agno_b64_size(c) AS
  CASE WHEN regexp_full_match(c, '[A-Za-z0-9+/]*={0,2}') AND length(c) % 4 = 0
       THEN length(c) // 4 * 3 - (CASE WHEN c LIKE '%==' THEN 2 WHEN c LIKE '%=' THEN 1 ELSE 0 END) END;
CREATE OR REPLACE TEMP MACRO agno_media_of(j, kind) AS
  list_transform(coalesce(TRY(from_json(j, '[{"url": "VARCHAR", "filepath": "VARCHAR", "filename": "VARCHAR", "name": "VARCHAR", "format": "VARCHAR", "mime_type": "VARCHAR", "size": "VARCHAR", "content": "VARCHAR"}]')), []),
    lambda x: {'kind': kind, 'url': x.url, 'filename': coalesce(x.filename, x.name, x.filepath), 'mime_type': x.mime_type, 'format': x.format,
          'size': coalesce(TRY_CAST(x.size AS BIGINT),
                           CASE WHEN x.content IS NULL THEN NULL
                                WHEN starts_with(coalesce(x.mime_type, ''), 'text/') THEN octet_length(encode(x.content))
                                ELSE coalesce(agno_b64_size(x.content), octet_length(encode(x.content))) END)});
CREATE OR REPLACE TEMP MACRO agno_media(i, f, a, v) AS
  CASE WHEN i IS NULL AND f IS NULL AND a IS NULL AND v IS NULL THEN NULL ELSE nullif(CAST(to_json(list_concat(agno_media_of(i, 'image'), agno_media_of(f, 'file'), agno_media_of(a, 'audio'), agno_media_of(v, 'video'))) AS VARCHAR), '[]') END;
"""

# Agno 2.x on SQLite wrote JSON columns twice encoded: a JSON string whose text is JSON.
_MACROS = """
CREATE OR REPLACE TEMP MACRO agno_doc(x) AS
  CASE WHEN TRY(json_type(x)) = 'VARCHAR' THEN json_extract_string(x, '$') ELSE x END;
""" + _COLUMN_MACROS

# Row fields of a run found inside JSON (legacy runs lists, workflow step runs).
_ROW_STRUCT = ('{"run_id": "VARCHAR", "agent_id": "VARCHAR", "team_id": "VARCHAR", "workflow_id": "VARCHAR", '
               '"user_id": "VARCHAR", "parent_run_id": "VARCHAR", "status": "VARCHAR", "created_at": "VARCHAR"}')


def _rows_from_json(src: str, session_expr: str, user_expr: str, parent_expr: str, index_expr: str) -> str:
    """SELECT list turning a run's JSON text ``x`` (parsed as ``k``) into a run row."""
    return f"""
      k.run_id AS run_id, {session_expr} AS session_id,
      CASE WHEN k.workflow_id IS NOT NULL AND k.agent_id IS NULL AND k.team_id IS NULL THEN 'workflow'
           WHEN k.team_id IS NOT NULL AND k.agent_id IS NULL THEN 'team' ELSE 'agent' END AS run_type,
      k.agent_id, k.team_id, k.workflow_id, coalesce(k.user_id, {user_expr}) AS user_id,
      coalesce(k.parent_run_id, {parent_expr}) AS parent_run_id, upper(k.status) AS status,
      {index_expr} AS run_index, CAST(x AS VARCHAR) AS run_data, CAST(coalesce(TRY_CAST(k.created_at AS DOUBLE), epoch(TRY_CAST(k.created_at AS TIMESTAMPTZ))) AS BIGINT) AS created_at
    FROM {src}"""


class Parser:
    """Builds the analysis tables from :class:`RawRows` in one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._f: Optional[Filters] = None
        con.execute(_MACROS)

    def _register(self, raw: RawRows, f: Filters) -> List[Dict[str, Any]]:
        """Register ``_all_runs`` (every run as a row); returns problems found on the way."""
        con = self.con
        # session rows a load does not need are not read (see RawRows.sessions_pending)
        con.register("_raw_sessions", SESSION_SCHEMA.empty_table() if raw.sessions_pending else raw.sessions)
        # streamed run rows are read once, by the one query that builds the table
        stream = raw.take_runs_stream()
        con.register("_raw_runs", stream if stream is not None else raw.runs)
        self._counted = raw.run_counts is not None
        con.register("_raw_counts", raw.run_counts if self._counted else COUNT_SCHEMA.empty_table())
        parts = ["SELECT * FROM _raw_runs"]
        problems: List[Dict[str, Any]] = []
        if raw.legacy and "runs" in raw.sessions.column_names:
            con.execute("""
              CREATE OR REPLACE TEMP TABLE _legacy AS
              SELECT session_id, user_id, runs IS NOT NULL AS has_runs,
                     TRY(from_json(agno_doc(runs), '["JSON"]')) AS l FROM _raw_sessions""")
            for (sid,) in con.execute("SELECT session_id FROM _legacy WHERE has_runs AND l IS NULL").fetchall():
                problems.append({"session_id": sid, "run_id": None, "error": "runs column is not a JSON list"})
            body = _rows_from_json(
                "(SELECT s.session_id AS sid, s.user_id AS uid, unnest(s.l) AS x, generate_subscripts(s.l, 1) - 1 AS i "
                f"FROM _legacy s) e, (SELECT TRY(from_json(e.x, '{_ROW_STRUCT}')) AS k)",
                "e.sid", "e.uid", "NULL", "e.i")
            # an upgraded database may hold a run in both places: the runs table's copy wins
            parts.append(f"SELECT * FROM (SELECT {body}) WHERE run_id IS NULL OR run_id NOT IN (SELECT run_id FROM _raw_runs)")
        sql = " UNION ALL ".join(parts)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _base_runs AS {sql}")
        has_workflows = raw.has_workflows if stream is not None else (
            con.sql("SELECT count(*) FROM _base_runs WHERE run_type = 'workflow'").fetchall()[0][0] > 0)
        if has_workflows:
            # a workflow's step runs live inside its run_data; they become rows linked to it
            child = _rows_from_json(
                "(SELECT w.session_id AS sid, w.user_id AS uid, w.run_id AS wid, w.run_index AS widx, unnest(w.c) AS x "
                "FROM (SELECT *, TRY(from_json(run_data, '{\"step_executor_runs\": [\"JSON\"]}')).step_executor_runs AS c "
                "FROM _base_runs WHERE run_type = 'workflow') w) e, "
                f"(SELECT TRY(from_json(e.x, '{_ROW_STRUCT}')) AS k)",
                "e.sid", "e.uid", "e.wid", "e.widx")
            sql = f"SELECT * FROM _base_runs UNION ALL SELECT {child}"
        else:
            sql = "SELECT * FROM _base_runs"
        con.execute(f"CREATE OR REPLACE TEMP VIEW _all_runs AS SELECT * FROM ({sql}) {_post_filter(con, f)}")
        return problems

    def build(self, raw: RawRows, f: Filters, table: str,
              columns: Optional[Sequence[Column]] = None) -> Tuple[pa.Table, List[Dict[str, Any]]]:
        """One table as Arrow, plus the problems (bad rows) found.

        ``columns``: the columns to compute (default: the table's declared ones); only their
        paths are parsed (see :meth:`structure`).
        """
        columns = list(columns) if columns is not None else list(_DECLARED[table])
        build = {"sessions": self._sessions, "runs": self._runs, "messages": self._messages,
                 "tool_calls": self._tool_calls}[table]
        self._f = f
        streamed = raw.pending_stream
        threads = self._threads(streamed)
        # Arrow results with 64-bit string offsets: pandas' Arrow-backed strings hold those, so
        # the DataFrame takes the strings as they are instead of a copy cast from 32-bit offsets
        large = self.con.sql("SELECT current_setting('arrow_large_buffer_size')").fetchall()[0][0]
        if not large:
            self.con.execute("SET arrow_large_buffer_size = true")
        try:
            problems = self._register(raw, f)
            result = build(columns)
        except duckdb.Error:
            failed = raw.read_error()  # the source's own error, which DuckDB wraps in its text
            if failed is not None:
                raise failed from None
            raise
        finally:
            if not large:
                self.con.execute("SET arrow_large_buffer_size = false")
            if threads is not None:
                self.con.execute(f"SET threads = {threads}")
            raw.close()
            self.con.unregister("_raw_runs")
            self.con.unregister("_raw_counts")
        if "_bad" in result.column_names:
            bad_mask = pc.is_valid(result["_bad"])
            if pc.any(bad_mask).as_py():
                keep = [c for c in ("session_id", "run_id", "parent_run_id") if c in result.column_names]
                bad = result.filter(bad_mask).select([*keep, "_bad"]).to_pylist()
                problems += [{"session_id": b["session_id"], "run_id": b["run_id"], "error": b["_bad"],
                              **({"parent_run_id": b["parent_run_id"]} if "parent_run_id" in b else {})} for b in bad]
                result = result.filter(pc.invert(bad_mask))
            result = result.drop_columns(["_bad"])
        return result, problems

    def _threads(self, streamed: bool) -> Optional[int]:
        """Fewer DuckDB threads while run rows stream in; returns the setting to restore.

        A streamed read runs in a thread of its own (see source._ReadAhead), so one core is
        taken by it: a DuckDB thread per remaining core parses, each holding a vector of run
        documents (and their parse) in memory, without waiting for the same read.
        """
        if not streamed:
            return None
        current = int(self.con.sql("SELECT current_setting('threads')").fetchall()[0][0])
        wanted = max(1, min(current, (os.cpu_count() or 2) - 1))
        if wanted == current:
            return None
        self.con.execute(f"SET threads = {wanted}")
        return current

    # -- the four tables -----------------------------------------------------------------

    @staticmethod
    def _bad(list_key: Optional[str], guard: str = "messages") -> str:
        # ``guard`` is a list parsed in ``j``: where it is there, the document is an object,
        # so the costlier text tests run only on the rare rows without it.
        shape = (f"WHEN j.\"{list_key}\" IS NULL AND TRY(json_type(run_data, '$.{list_key}')) NOT IN ('ARRAY', 'NULL') "
                 f"THEN '{list_key} is not a list' ") if list_key else ""
        return ("CASE WHEN run_data IS NULL THEN 'run_data is NULL' "
                f"WHEN j IS NULL THEN '{NOT_JSON}' "
                f"WHEN j.\"{guard}\" IS NULL AND left(ltrim(run_data), 1) <> '{{' THEN 'run_data is not a JSON object' "
                f"{shape}END")

    @staticmethod
    def structure(table: str, columns: Sequence[Column]) -> str:
        """The ``from_json`` structure a table's load parses its documents with: the paths of
        ``columns`` only. Runs also count their messages and tools: as items left unread, or,
        when the ``flags`` column is asked for, with the fields the flags read
        (:data:`agno_nb.analysis.flags.RUN_INPUTS`), from the same one parse of each run."""
        if table == "runs":
            return struct_for(columns, extra=RUN_INPUTS if _wants_flags(columns) else _RUN_COUNT_PATHS)
        item = struct_for(columns)
        if table == "sessions":
            return item
        # no path asked for: the items are counted (one row each), not read
        model = ', "model": "VARCHAR", "model_provider": "VARCHAR"' if _wants_run_model(columns) else ""
        return f'{{"{_LIST_KEYS[table]}": [{item if item != "{}" else json.dumps("NULL")}]{model}}}'

    def _runs(self, columns: Sequence[Column] = RUN_COLUMNS) -> pa.Table:
        struct = self.structure("runs", columns)
        # derive() uses and drops these inputs of the flags
        inputs = "".join(f', p.j."{k}" AS "_{k}"' for k in RUN_INPUTS) if _wants_flags(columns) else ""
        sql = f"""
          WITH p AS (SELECT r.*, TRY(from_json(r.run_data, '{struct}')) AS j FROM _all_runs r)
          SELECT {projection([_sql_on(c, 'p.j') for c in columns], 'p', 'p.j')}, {self._bad(None)} AS _bad{inputs} FROM p"""
        return self.con.sql(sql).to_arrow_table()

    def _items(self, columns, list_key: str, index_name: Optional[str]) -> pa.Table:
        struct = self.structure({"messages": "messages", "tools": "tool_calls"}[list_key], columns)
        items = f"CASE WHEN _bad IS NULL THEN j.\"{list_key}\" ELSE [NULL] END"
        index = f", generate_subscripts({items}, 1) - 1 AS {index_name}" if index_name else ""
        # the run's model goes with each item (row columns run_model, run_model_provider)
        model = "j.model AS run_model, j.model_provider AS run_model_provider," if _wants_run_model(columns) else ""
        sql = f"""
          WITH p AS (SELECT r.* EXCLUDE (run_data), r.run_data, TRY(from_json(r.run_data, '{struct}')) AS j FROM _all_runs r),
          q AS (SELECT p.* EXCLUDE (run_data), {self._bad(list_key, list_key)} AS _bad FROM p),
          u AS (SELECT q.* EXCLUDE (j), {model} unnest({items}) AS item{index} FROM q)
          SELECT {projection([_sql_on(c, 'u.item') for c in columns], 'u', 'u.item')}, _bad FROM u"""
        return self.con.sql(sql).to_arrow_table()

    def _messages(self, columns: Sequence[Column] = MESSAGE_COLUMNS) -> pa.Table:
        return self._items(columns, "messages", "message_index")

    def _tool_calls(self, columns: Sequence[Column] = TOOL_CALL_COLUMNS) -> pa.Table:
        return self._items(columns, "tools", None)

    def _sessions(self, columns: Sequence[Column] = SESSION_COLUMNS) -> pa.Table:
        struct = self.structure("sessions", columns)
        doc = f"TRY(from_json(agno_doc(s.session_data), '{struct}'))" if struct != "{}" else "NULL"
        legacy = "runs" in [c[0] for c in self.con.execute("DESCRIBE _raw_sessions").fetchall()]
        # model= matches runs, which a legacy layout keeps in the session row: sessions with one left
        by_model = ("WHERE p.session_id IN (SELECT session_id FROM _all_runs)"
                    if legacy and self._f is not None and self._f.model is not None else "")
        legacy_count = ("+ coalesce(TRY(json_array_length(agno_doc(s.runs))), 0)" if legacy else "")
        counts = ("SELECT session_id, n FROM _raw_counts" if self._counted else
                  "SELECT session_id, count(*) FILTER (WHERE parent_run_id IS NULL) AS n FROM _raw_runs GROUP BY 1")
        sql = f"""
          WITH c AS ({counts}),
          p AS (SELECT s.*, coalesce(c.n, 0) {legacy_count} AS n_runs,
                       {doc} AS d,
                       TRY(json_extract_string(agno_doc(s.summary), '$.summary')) AS summary_text,
                       nullif(CAST(TRY(json_extract(agno_doc(s.summary), '$.topics')) AS VARCHAR), 'null') AS summary_topics
                FROM _raw_sessions s LEFT JOIN c USING (session_id))
          SELECT {projection(columns, 'p', 'p.d')} FROM p {by_model} ORDER BY p.created_at, p.session_id"""
        return self.con.sql(sql).to_arrow_table()


# n_messages / n_tool_calls count list items: parsed as NULL, an item (whatever it holds) is
# counted without being turned into a value (["JSON"] would write each message out as text).
_RUN_COUNT_PATHS = {key: '["NULL"]' for key in RUN_INPUTS}
_LIST_KEYS = {"messages": "messages", "tool_calls": "tools"}
_DECLARED = {"sessions": SESSION_COLUMNS, "runs": RUN_COLUMNS, "messages": MESSAGE_COLUMNS,
             "tool_calls": TOOL_CALL_COLUMNS}




def row_columns(table: str, columns: Sequence[Column], f: Filters) -> Optional[List[str]]:
    """The stored run row's columns a load of ``table`` reads (None: all of them).

    A message or a tool call takes only a few of its run's columns (and ``run_data``), and
    so does a runs load asked for some columns; the filters read theirs again in DuckDB
    (:func:`_post_filter`).
    """
    if table == "sessions":
        return None
    needed = {"session_id", "run_id", "run_data"}
    for c in columns:
        if c.row in RUN_ROW:
            needed.add(c.row)
        if c.sql:
            needed.update(name for name in RUN_ROW if re.search(rf"\b{name}\b", c.sql))
    needed.update(k for k in ("user_id", "agent_id", "team_id", "workflow_id", "status") if getattr(f, k) is not None)
    if f.since is not None or f.until is not None:
        needed.add("created_at")
    return [c for c in RUN_ROW if c in needed]


def _wants_flags(columns: Sequence[Column]) -> bool:
    return any(c.name == "flags" for c in columns)


def _wants_run_model(columns: Sequence[Column]) -> bool:
    return any(c.row in ("run_model", "run_model_provider") for c in columns)


def _sql_on(col, doc: str):
    """Columns whose ``sql`` reads the parsed document refer to it as ``{doc}``."""
    if col.sql and "{doc}" in col.sql:
        return replace(col, sql=col.sql.format(doc=doc))
    return col


def _post_filter(con: duckdb.DuckDBPyConnection, f: Filters) -> str:
    """The filters again, in DuckDB, for run rows that came out of JSON.

    Views cannot take prepared parameters, so the values travel as data: a one-row
    table ``_filter`` that the conditions read from. Nothing is pasted into SQL.
    """
    values = {k: v for k, v in vars(f).items() if v is not None}
    if not values:
        return ""
    con.register("_filter", pa.Table.from_pylist([values]))
    conds = []
    if f.session_ids is not None:
        conds.append("session_id IN (SELECT unnest(session_ids) FROM _filter)")
    for key in ("user_id", "agent_id", "team_id", "workflow_id", "status"):
        if getattr(f, key) is not None:
            conds.append(f"{key} = (SELECT {key} FROM _filter)")
    if f.model is not None:
        # rows read only to be counted carry no run_data: the source's SQL filtered them already
        conds.append("(run_data IS NULL OR TRY(json_extract_string(agno_doc(run_data), '$.model')) = "
                     "(SELECT model FROM _filter))")
    if f.session_type is not None:
        conds.append("session_id IN (SELECT session_id FROM _raw_sessions WHERE session_type = (SELECT session_type FROM _filter))")
    if f.since is not None:
        conds.append("created_at >= (SELECT since FROM _filter)")
    if f.until is not None:
        conds.append("created_at < (SELECT until FROM _filter)")
    return "WHERE " + " AND ".join(conds)
