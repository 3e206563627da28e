"""Inputs the hostile suite found mishandled (issue 18): a path as a shell would quote it, an id holding NUL."""

from __future__ import annotations

import shutil

import pytest
from IPython.core.error import UsageError

import agno_nb
from agno_nb import Agent
from agno_nb.db.sqlite import SqliteDb
from agno_nb.magics import split_args
from agno_nb.models import EchoModel

from conftest import FIXTURES

NAME = "O'Brien's #1.db"


@pytest.mark.parametrize("line", [
    '"~/agent runs/O\'Brien\'s #1.db"',                    # double quotes around a '
    "~/agent\\ runs/O\\'Brien\\'s\\ \\#1.db",              # backslash escapes, as a shell takes them
    "'~/agent runs/O'\"'\"'Brien'\"'\"'s #1.db'",          # single quotes, ' spliced in
])
def test_a_path_splits_as_a_shell_splits_it(line):
    assert split_args(line) == ["~/agent runs/" + NAME]


def test_an_unbalanced_quote_is_a_usage_error():
    with pytest.raises(UsageError, match="closing quotation"):
        split_args('"~/agent runs/a.db')


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "agno_nb")
    return ip


def test_agno_connect_takes_a_quoted_or_escaped_path_under_home(shell, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "agent runs").mkdir()
    shutil.copy(FIXTURES / "agno-3.1-sqlite.db", tmp_path / "agent runs" / NAME)
    for line in ('"~/agent runs/O\'Brien\'s #1.db"', "~/agent\\ runs/O\\'Brien\\'s\\ \\#1.db",
                 '"~/agent runs/O\'Brien\'s #1.db" --session-table agno_sessions'):
        ex = shell.run_line_magic("agno_connect", line)
        assert ex.source.path == str(tmp_path / "agent runs" / NAME) and len(ex.sessions()) > 0, line
        assert shell.user_ns["agno_explorer"] is ex


def test_session_ids_holding_nul_are_found_on_sqlite(tmp_path):
    path = str(tmp_path / "nul.db")
    agent = Agent(id="echo", model=EchoModel(), db=SqliteDb(db_file=path))
    agent.run("hi", session_id="nul\x00session", user_id="u1")
    agent.run("yo", session_id="plain", user_id="u2")
    ex = agno_nb.connect(path)
    for table in ("sessions", "runs", "messages"):
        by_user = ex.table(table, user_id="u1")
        assert len(by_user) > 0 and set(by_user.session_id) == {"nul\x00session"}
        assert len(ex.table(table, session_ids=["nul\x00session"])) == len(by_user), table
        assert len(ex.table(table, session_ids=["nul\x00session", "plain"])) > len(by_user), table
        assert len(ex.table(table, session_ids=["nul"])) == 0, table  # no match on the text before the NUL


def test_a_nul_session_id_matches_nothing_on_postgres_and_breaks_nothing(pg_url, pg_schema):
    from agno_nb.db.postgres import PostgresDb

    db = PostgresDb(db_url=pg_url, db_schema=pg_schema)
    try:
        Agent(id="echo", model=EchoModel(), db=db).run("hi", session_id="plain")
    finally:
        db.close()
    for engine in ("auto", "sqlalchemy"):
        ex = agno_nb.connect(pg_url, db_schema=pg_schema, engine=engine)
        assert len(ex.runs(session_ids=["nul\x00session"])) == 0  # PostgreSQL text cannot hold NUL
        assert len(ex.runs(session_ids=["nul\x00session", "plain"])) == 1
