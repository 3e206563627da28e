"""The benchmarks' database servers: where they are, whether they answer, cleaning up after."""

from __future__ import annotations

import os
from typing import Iterable, Optional

import sqlalchemy as sa

PG_URL = os.environ.get("AGNO_NB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("AGNO_NB_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
# how one schema is dropped (MySQL's schemas are databases)
_DROP = {PG_URL: 'DROP SCHEMA IF EXISTS "{}" CASCADE', MYSQL_URL: "DROP DATABASE IF EXISTS `{}`"}


def reachable(url: str) -> Optional[str]:
    """None if the server at ``url`` answers, else why not (the benchmark then skips it)."""
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
        return None
    except Exception as exc:  # any driver / URL / network failure means "skip"
        return str(exc).strip().splitlines()[0]


def drop_schemas(url: str, schemas: Iterable[str]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(_DROP[url].format(schema))
    engine.dispose()
