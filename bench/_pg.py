"""The benchmarks' PostgreSQL: where it is, whether it answers, and cleaning up after."""

from __future__ import annotations

import os
from typing import Iterable, Optional

import sqlalchemy as sa

PG_URL = os.environ.get("AGNO_NB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_reachable() -> Optional[str]:
    """None if the server answers, else why not (the benchmark then skips PostgreSQL)."""
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
        return None
    except Exception as exc:  # any driver / URL / network failure means "skip"
        return str(exc).strip().splitlines()[0]


def drop_schemas(schemas: Iterable[str]) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()
