"""The benchmarks' MySQL/MariaDB: where it is, whether it answers, and cleaning up after."""

from __future__ import annotations

import os
from typing import Iterable, Optional

import sqlalchemy as sa

MYSQL_URL = os.environ.get("AGNO_NB_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def mysql_reachable() -> Optional[str]:
    """None if the server answers, else why not (the benchmark then skips MySQL)."""
    try:
        engine = sa.create_engine(MYSQL_URL, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
        return None
    except Exception as exc:  # any driver / URL / network failure means "skip"
        return str(exc).strip().splitlines()[0]


def drop_databases(names: Iterable[str]) -> None:
    engine = sa.create_engine(MYSQL_URL)
    with engine.begin() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    engine.dispose()
