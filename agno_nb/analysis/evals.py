"""Agno's own eval runs (``agno_eval_runs``), read-only, as a DataFrame.

Agno's evals (``AccuracyEval``, ``AgentAsJudgeEval``, ``PerformanceEval``,
``ReliabilityEval``) given a ``db`` write one row per eval run into its eval table
(``agno_eval_runs`` unless ``eval_table=`` named another), in the same database and
schema as the sessions. The columns are ``describe("evals")``. A source without that
table (or a Parquet export, which holds no evals) gives an empty DataFrame with the same
columns: "no evals" is an answer, not an error.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import duckdb
import pyarrow as pa

from ..db.schema import check_identifier
from .columns import EVAL_COLUMNS

DEFAULT_EVAL_TABLE = "agno_eval_runs"  # agno.db.base.BaseDb's default eval_table
_TEXT = {"eval_data", "eval_input"}
_TIMES = {"created_at", "updated_at"}
_STORED = [c.name for c in EVAL_COLUMNS if c.name != "avg_score"]


def _arrow_type(duckdb_type: str) -> pa.DataType:
    return {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC")}[duckdb_type]


def empty() -> pa.Table:
    return pa.schema([(c.name, _arrow_type(c.duckdb_type)) for c in EVAL_COLUMNS]).empty_table()


def read_evals(source: Any, table: Optional[str] = None) -> pa.Table:
    """The eval runs of ``source``'s database (its sessions' schema), oldest first."""
    import sqlalchemy as sa

    from .source import SqlSource

    name = check_identifier(table or DEFAULT_EVAL_TABLE, "eval table")
    if not isinstance(source, SqlSource):
        return empty()
    engine = source._sa_engine()  # read-only: SQLite mode=ro, PostgreSQL READ ONLY below
    try:
        with engine.connect() as conn:
            if source.backend == "postgresql":
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            insp = sa.inspect(conn)
            if not insp.has_table(name, schema=source.db_schema):
                return empty()
            present = {c["name"] for c in insp.get_columns(name, schema=source.db_schema)}
            t = sa.table(name, *[sa.column(c) for c in _STORED if c in present], schema=source.db_schema)
            cols = [sa.cast(t.c[c], sa.Text).label(c) if c in _TEXT else t.c[c] for c in _STORED if c in present]
            rows = conn.execute(sa.select(*cols).order_by(t.c.created_at if "created_at" in present
                                                          else sa.literal(1))).mappings().all()
            conn.rollback()
    except sa.exc.DBAPIError as exc:
        raise source._unreachable(exc) from None
    finally:
        engine.dispose()
    return _typed([dict(r) for r in rows])


def _typed(rows: List[Dict[str, Any]]) -> pa.Table:
    data: Dict[str, List[Any]] = {c: [r.get(c) for r in rows] for c in _STORED}
    for c in _TEXT:  # PostgreSQL's JSON may come back decoded
        data[c] = [v if v is None or isinstance(v, str) else json.dumps(v) for v in data[c]]
    for c in _TIMES:
        data[c] = [None if v is None else float(v) for v in data[c]]
    for c in set(_STORED) - _TEXT - _TIMES:
        data[c] = [None if v is None else str(v) for v in data[c]]
    raw = pa.table({c: pa.array(v, pa.float64() if c in _TIMES else pa.string()) for c, v in data.items()})
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        exprs = []
        for c in EVAL_COLUMNS:
            if c.name == "avg_score":
                expr = "TRY_CAST(json_extract(eval_data, '$.avg_score') AS DOUBLE)"
            elif c.name in _TIMES:
                expr = f"to_timestamp({c.name})"
            else:
                expr = c.name
            exprs.append(f'{expr} AS "{c.name}"')
        out = con.sql(f"SELECT {', '.join(exprs)} FROM raw").to_arrow_table()
    return out.cast(empty().schema)

