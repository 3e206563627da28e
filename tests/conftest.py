"""Shared fixtures: real SQLite files, the real local PostgreSQL and MariaDB/MySQL, a local OpenAI-compatible server.

PostgreSQL is the machine's own server (``AGNO_NB_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Every test gets a fresh schema,
named after this run, so runs never see each other's rows. MySQL likewise
(``AGNO_NB_TEST_MYSQL_URL``, default ``mysql+pymysql://root@127.0.0.1:3306/test``): a fresh
database (MySQL's schema) per test, all of this run's dropped at the end. Without a server
these tests skip locally, but under ``CI=true`` they fail.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from agno_nb.db.sqlite import SqliteDb
from agno_nb.testing import FakeOpenAIServer

# Databases written by the real agno 3.1.10 and 2.9.0 (kept in the repository, so a plain
# clone tests itself).
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("AGNO_NB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("AGNO_NB_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
RUN_TAG = f"t{uuid.uuid4().hex[:8]}"
_counter = itertools.count()


def _server_problem(url: str) -> str | None:
    """None if the database server at ``url`` answers, else why not."""
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_url():
    problem = _server_problem(PG_URL)
    if problem:
        msg = f"PostgreSQL at {PG_URL} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: PostgreSQL is required)")
        pytest.skip(msg)
    yield PG_URL
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        schemas = conn.execute(sa.text(
            "select schema_name from information_schema.schemata where schema_name like :p"), {"p": f"{RUN_TAG}%"}).scalars().all()
        for schema in schemas:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    engine.dispose()


@pytest.fixture
def pg_schema(pg_url):
    """A fresh, empty schema name for one test."""
    return f"{RUN_TAG}_{os.getpid()}_{next(_counter)}"


@pytest.fixture(scope="session")
def mysql_url():
    problem = _server_problem(MYSQL_URL)
    if problem:
        msg = f"MySQL at {MYSQL_URL} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: MySQL/MariaDB is required)")
        pytest.skip(msg)
    yield MYSQL_URL
    engine = sa.create_engine(MYSQL_URL)
    with engine.begin() as conn:
        names = conn.execute(sa.text("select schema_name from information_schema.schemata where schema_name like :p"),
                             {"p": f"{RUN_TAG}%"}).scalars().all()
        for name in names:
            conn.execute(sa.text(f"drop database `{name}`"))
    engine.dispose()


@pytest.fixture
def mysql_schema(mysql_url):
    """A fresh database name (MySQL's schema) for one test; created by the first write."""
    return f"{RUN_TAG}_{os.getpid()}_{next(_counter)}"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    """The storage backends every storage test runs on; tests/test_mysql.py runs chosen ones on "mysql"."""
    return request.param


@pytest.fixture
def make_db(backend, tmp_path, request):
    """Build a db of the parametrized backend: ``make_db(session_table=...)``."""
    made = []

    def make(**kwargs):
        if backend == "sqlite":
            db = SqliteDb(db_file=str(tmp_path / "agno.db"), **kwargs)
        elif backend == "mysql":
            from agno_nb.db.mysql import MySQLDb

            db = MySQLDb(db_url=request.getfixturevalue("mysql_url"),
                         db_schema=request.getfixturevalue("mysql_schema"), **kwargs)
        else:
            from agno_nb.db.postgres import PostgresDb

            schema = request.getfixturevalue("pg_schema")
            db = PostgresDb(request.getfixturevalue("pg_url"), db_schema=schema, **kwargs)
        made.append(db)
        return db
    yield make
    for db in made:
        db.close()


@pytest.fixture
def db(make_db):
    return make_db()


@pytest.fixture
def fixture_copy(tmp_path):
    """A writable copy of one of tests/fixtures (the originals stay untouched)."""
    def copy(name: str) -> str:
        dst = tmp_path / name
        dst.write_bytes((FIXTURES / name).read_bytes())
        return str(dst)
    return copy


@pytest.fixture
def openai_server():
    with FakeOpenAIServer(tool_args={"get_weather": {"city": "Paris"}}) as server:
        yield server
