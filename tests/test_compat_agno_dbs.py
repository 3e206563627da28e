"""connect() and agno_nb's dbs take what Agno users have: async SQLAlchemy URLs and agno's db objects.

Real agno 3.1.10 writes the sessions (its ``SqliteDb``/``PostgresDb``); agno_nb reads them through
``postgresql+psycopg_async://``, ``postgresql+asyncpg://`` and ``sqlite+aiosqlite://`` URLs and
through agno's ``SqliteDb``, ``PostgresDb`` and ``AsyncPostgresDb`` objects (issue 18, finding 8).
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

os.environ.setdefault("AGNO_TELEMETRY", "false")

import agno.agent  # noqa: E402
from agno.models.openai.like import OpenAILike as AgnoOpenAILike  # noqa: E402

import agno_nb  # noqa: E402
from _helpers import get_weather  # noqa: E402
from agno_nb.db.postgres import PostgresDb  # noqa: E402
from agno_nb.db.sqlite import SqliteDb  # noqa: E402
from agno_nb.db.urls import install_hint, sync_url  # noqa: E402
from agno_nb.models import EchoModel  # noqa: E402


def _agno_writes(db, server, session_id="s1"):
    """One agno agent run (with a tool call) into ``db``; returns its run_id."""
    agent = agno.agent.Agent(id="weather", model=AgnoOpenAILike(id="fake-model", base_url=server.base_url,
                                                                 api_key="sk-test"),
                             db=db, tools=[get_weather], telemetry=False)
    return agent.run("Weather in Paris?", session_id=session_id, user_id="alice").run_id


def _seen(ex):
    runs = ex.runs()
    return sorted(zip(runs.session_id, runs.agent_id, runs.user_id))


def test_connect_takes_agno_sqlite_db_objects_and_aiosqlite_urls(tmp_path, openai_server):
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb

    path = tmp_path / "agno.db"
    db = AgnoSqliteDb(db_file=str(path), session_table="my_sessions")
    _agno_writes(db, openai_server)
    expected = [("s1", "weather", "alice")]
    assert _seen(agno_nb.connect(db)) == expected  # its file and its table names
    assert agno_nb.connect(db).tool_calls().tool_name.tolist() == ["get_weather"]
    assert _seen(agno_nb.connect(f"sqlite+aiosqlite:///{path}", session_table="my_sessions")) == expected
    # agno's AsyncSqliteDb (its aiosqlite driver is not a test dependency: an object of its shape,
    # attributes as agno.db.sqlite.AsyncSqliteDb sets them)
    from types import SimpleNamespace

    async_db = SimpleNamespace(db_engine=SimpleNamespace(url=sa.make_url(f"sqlite+aiosqlite:///{path}")),
                               db_url=None, db_file=str(path), session_table_name="my_sessions",
                               runs_table_name="my_sessions_runs", memory_table_name="agno_memories")
    ex = agno_nb.connect(async_db)
    assert _seen(ex) == expected and ex.source.other_tables == {"memory": "agno_memories"}
    # agno_nb's own SqliteDb takes AsyncSqliteDb's URL too
    nb = SqliteDb(db_url=f"sqlite+aiosqlite:///{path}", session_table="my_sessions")
    assert nb.get_session("s1").runs[0].agent_id == "weather"


def test_connect_takes_async_postgres_urls_and_agno_postgres_db_objects(pg_url, pg_schema, openai_server):
    from agno.db.postgres import AsyncPostgresDb
    from agno.db.postgres import PostgresDb as AgnoPostgresDb

    sync = AgnoPostgresDb(db_url=pg_url, db_schema=pg_schema, session_table="crew_sessions")
    try:
        _agno_writes(sync, openai_server)
    finally:
        sync.db_engine.dispose()
    expected = [("s1", "weather", "alice")]
    opts = dict(db_schema=pg_schema, session_table="crew_sessions")
    url = sa.make_url(pg_url)
    for driver in ("postgresql+psycopg_async", "postgresql+asyncpg", "postgresql"):
        text = url.set(drivername=driver).render_as_string(hide_password=False)
        assert _seen(agno_nb.connect(text, **opts)) == expected, driver  # no MissingGreenlet, no asyncpg needed
    assert _seen(agno_nb.connect(AgnoPostgresDb(db_url=pg_url, db_schema=pg_schema,
                                                session_table="crew_sessions"))) == expected
    async_url = url.set(drivername="postgresql+psycopg_async").render_as_string(hide_password=False)
    adb = AsyncPostgresDb(db_url=async_url, db_schema=pg_schema, session_table="crew_sessions")
    ex = agno_nb.connect(adb)
    assert _seen(ex) == expected and ex.messages().role.tolist()[:2] == ["user", "assistant"]
    # agno_nb's PostgresDb writes through AsyncPostgresDb's URL, and takes its AsyncEngine
    nb = PostgresDb(db_url=async_url, db_schema=pg_schema, session_table="crew_sessions")
    try:
        agno_nb.Agent(id="echo", model=EchoModel(), db=nb).run("hi", session_id="s2")
        assert {s.session_id for s in nb.get_sessions()} == {"s1", "s2"}
    finally:
        nb.close()
    nb = PostgresDb(db_engine=adb.db_engine, db_schema=pg_schema, session_table="crew_sessions")
    try:
        assert {s.session_id for s in nb.get_sessions()} == {"s1", "s2"}
    finally:
        nb.close()


def test_async_urls_map_to_the_sync_driver_with_its_install_hint():
    assert sync_url(sa.make_url("postgresql+asyncpg://u@h/db?ssl=require")).render_as_string() == \
        "postgresql+psycopg://u@h/db?sslmode=require"
    assert sync_url(sa.make_url("postgresql+psycopg_async://u@h/db")).drivername == "postgresql+psycopg"
    assert sync_url(sa.make_url("sqlite+aiosqlite:///x.db")).drivername == "sqlite"
    hint = install_hint(sync_url(sa.make_url("postgresql+asyncpg://u@h/db")))
    assert "agno_nb[postgres]" in hint and "psycopg" in hint and "asyncpg" not in hint


def test_the_missing_driver_error_names_psycopg_for_an_asyncpg_url(monkeypatch):
    """Without psycopg, an asyncpg URL asks for what agno_nb uses (psycopg), not for asyncpg."""
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    with pytest.raises(agno_nb.MissingDependencyError, match=r"agno_nb\[postgres\]") as caught:
        PostgresDb(db_url="postgresql+asyncpg://u:secret@127.0.0.1:1/db")
    assert "asyncpg" not in str(caught.value).replace("postgresql+asyncpg", "") and "secret" not in str(caught.value)
