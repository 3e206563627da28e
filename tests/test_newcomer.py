"""Small things a newcomer trips on (issue 13 §7, §8): errors that name the method, compare()'s
positional ids and "$" in session ids, tab completion, the quickstart's file ignored by git."""

import subprocess
from pathlib import Path

import pytest

import agno_nb
from agno_nb import Agent
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel
from agno_nb.widgets import compare

from conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("method", ["sessions", "runs", "messages", "tool_calls"])
def test_an_unknown_filter_names_the_method_and_its_filters(method):
    ex = agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db")
    with pytest.raises(TypeError) as info:
        getattr(ex, method)(agent="x")
    text = str(info.value)
    assert text.startswith(f"{method}() got unexpected keyword argument 'agent'")
    assert "Filters.build" not in text
    for name in ("session_ids", "user_id", "agent_id", "team_id", "workflow_id", "session_type", "since", "until",
                 "status"):
        assert name in text
    with pytest.raises(TypeError, match=r"^runs\(\) got unexpected keyword arguments 'agent', 'usr'"):
        ex.table("runs", agent="x", usr="y")


def test_compare_takes_positional_session_ids():
    ex = agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db")
    by_position = compare(ex, "lit-0", "lit-1", chart=False)
    by_keyword = compare(ex, session_ids=["lit-0", "lit-1"], chart=False)
    assert by_position.session_ids == by_keyword.session_ids == ["lit-0", "lit-1"]
    assert repr(by_position) == repr(by_keyword)
    assert compare(ex, ["lit-0", "picnic-1"], chart=False).session_ids == ["lit-0", "picnic-1"]
    assert agno_nb.compare(ex, "lit-0", "lit-1", "picnic-1", chart=False).session_ids == ["lit-0", "lit-1", "picnic-1"]
    with pytest.raises(TypeError, match="not both"):
        compare(ex, "lit-0", session_ids=["lit-1"])
    with pytest.raises(TypeError, match="needs 2 to 4 session ids"):
        compare(ex)
    with pytest.raises(ValueError, match="2 to 4"):
        compare(ex, "lit-0")


def test_compare_session_ids_with_dollar_signs(tmp_path):
    # matplotlib reads text between two "$" as TeX: "$\\oops{$" does not parse, "$x^2$" would render as math
    ids = ["$\\oops{$", "$x^2$ costs $5"]
    db = SqliteDb(db_file=str(tmp_path / "a.db"))
    agent = Agent(id="echo", db=db, model=EchoModel())
    for sid in ids:
        agent.run(f"hello from {sid}", session_id=sid, user_id="u")
    c = agno_nb.compare(str(tmp_path / "a.db"), *ids)
    # the chart is inline SVG since the widgets merge (no matplotlib): it draws, ids and all
    assert c.session_ids == ids and c._chart.startswith('<svg class="agno-chart"')
    assert 'aria-label="metrics per session"' in c._chart
    assert "$\\oops{$" in c._repr_html_()


def test_dir_lists_the_lazily_imported_names():
    names = dir(agno_nb)
    for name in ("connect", "SessionExplorer", "sessions_df", "runs_df", "messages_df", "tool_calls_df", "describe",
                 "replay", "compare", "browse", "Agent", "ReadOnlyError"):
        assert name in names
    assert set(agno_nb.__all__) <= set(names)
    assert all(hasattr(agno_nb, name) for name in agno_nb.__all__)


def test_the_quickstart_database_is_ignored_by_git(tmp_path):
    # git's own matcher, on the repository's .gitignore (in a scratch repository: the tests may
    # run from an unpacked archive)
    (tmp_path / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    out = subprocess.run(["git", "check-ignore", "--no-index", "-v", "agent.db"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0 and ".gitignore" in out.stdout, (out.stdout, out.stderr)
