"""Issue 11 §2: columns on demand (names and Column specs, only those parsed), where= with bound
parameters through sql()'s read-only checks, the model= filter, and sums that are integers."""

import decimal

import pandas as pd
import pytest

import agno_nb
from agno_nb import Agent, Column, ReadOnlyError, Step, Workflow
from agno_nb.analysis import parse
from agno_nb.analysis.columns import TABLES
from agno_nb.analysis.select import selection
from agno_nb.analysis.source import Filters
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import EchoModel, ScriptedModel, tool_call

from conftest import FIXTURES
from _helpers import DTYPES, get_weather


def write(db):
    """Runs of three models: gpt-4o (a tool call), claude-3, and step-model inside a workflow."""
    weather = Agent(id="weather", db=db, tools=[get_weather],
                    model=ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "Sunny.", "Again sunny."],
                                        id="gpt-4o"))
    weather.run("Oslo?", session_id="w-1", user_id="alice", metadata={"temperature": 0.2, "tags": ["a", "b"]})
    weather.run("And now?", session_id="w-1", user_id="alice", metadata={"temperature": 0.9})
    echo = Agent(id="echo", db=db, model=EchoModel(id="claude-3"))
    echo.run("hello", session_id="e-1", user_id="bob", session_state={"n": 3}, metadata={"temperature": 0.5})
    wf = Workflow(id="pipe", db=db, steps=[Agent(id="step-agent", model=EchoModel(id="step-model")),
                                           Step("upper", str.upper)])
    wf.run("draft", session_id="f-1", user_id="alice")
    return db


@pytest.fixture
def ex(make_db):
    return agno_nb.connect(write(make_db()))


PICKS = {
    "sessions": ["total_tokens", "session_id", "n_runs"],
    "runs": ["model", "total_tokens", "created_at", "status"],
    "messages": ["role", "message_index", "content", "from_history"],
    "tool_calls": ["tool_name", "tool_args", "tool_call_error", "duration"],
}


@pytest.mark.parametrize("name", list(TABLES))
def test_columns_by_name_on_every_table(ex, name):
    full = ex.table(name)
    cols = PICKS[name]
    part = getattr(ex, name)(columns=cols)
    assert list(part.columns) == cols  # in the order asked for; session_id/run_id only if asked
    declared = {c.name: c for c in TABLES[name]}
    for c in cols:
        assert str(part[c].dtype) == DTYPES[declared[c].duckdb_type], (name, c)
    pd.testing.assert_frame_equal(part.reset_index(drop=True), full[cols].reset_index(drop=True))
    assert len(part) > 0


def test_column_specs_read_json_paths_typed(ex):
    runs = ex.runs(columns=["session_id", "model", Column("temperature", "DOUBLE", "Sampling temperature",
                                                           path="metadata.temperature"),
                            Column("tags", "VARCHAR[]", "Run tags", path="metadata.tags")])
    assert list(runs.columns) == ["session_id", "model", "temperature", "tags"]
    assert str(runs.temperature.dtype) == "float64"
    top = runs[runs.model.isin(["gpt-4o", "claude-3"])]
    assert sorted(top.temperature.tolist()) == [0.2, 0.5, 0.9]
    assert runs[runs.model == "step-model"].temperature.isna().all()
    tagged = [list(t) for t in runs.tags if t is not None]
    assert tagged == [["a", "b"]]

    msgs = ex.messages(columns=["run_id", "role", Column("stop", "BOOLEAN", "stop_after_tool_call",
                                                          path="stop_after_tool_call")])
    assert str(msgs.stop.dtype) == "boolean" and len(msgs) == len(ex.messages())
    tools = ex.tool_calls(columns=[Column("city", "VARCHAR", "The city asked for", path="tool_args.city"), "tool_name"])
    assert tools.to_dict("list") == {"city": ["Oslo"], "tool_name": ["get_weather"]}
    assert str(tools.city.dtype) == "string"
    sessions = ex.sessions(columns=["session_id", Column("n", "BIGINT", "State counter", path="session_state.n")])
    assert str(sessions.n.dtype) == "Int64"
    assert dict(zip(sessions.session_id, sessions.n.astype(object).where(sessions.n.notna(), None))) == {
        "w-1": None, "e-1": 3, "f-1": None}
    # the same Column spec works through table() and the shortcuts
    again = agno_nb.runs_df(ex.source.url.render_as_string(hide_password=False), db_schema=ex.source.db_schema,
                            columns=[Column("t", "DOUBLE", "t", path="metadata.temperature")])
    assert sorted(again.t.dropna().tolist()) == [0.2, 0.5, 0.9]


def test_only_the_requested_paths_are_parsed(monkeypatch, tmp_path):
    # from_json is given a structure built from the columns asked for, and no other path
    ex = agno_nb.connect(write(SqliteDb(db_file=str(tmp_path / "a.db"))))
    seen = []
    real = parse.Parser.structure

    def spy(table, columns):
        seen.append((table, real(table, columns)))
        return seen[-1][1]

    monkeypatch.setattr(parse.Parser, "structure", staticmethod(spy))
    ex.runs(columns=["total_tokens", Column("temperature", "DOUBLE", "t", path="metadata.temperature")])
    assert seen == [("runs", '{"metrics": {"total_tokens": "BIGINT"}, "metadata": {"temperature": "DOUBLE"}, '
                             '"messages": ["NULL"], "tools": ["NULL"]}')]
    seen.clear()
    ex.messages(columns=["role"])
    assert seen == [("messages", '{"messages": [{"role": "VARCHAR"}]}')]
    seen.clear()
    ex.tool_calls(columns=["session_id", "run_id"])  # row columns only: the items are counted, not read
    assert seen == [("tool_calls", '{"tools": ["NULL"]}')]
    seen.clear()
    ex.sessions(columns=["n_runs"])
    assert seen == [("sessions", "{}")]
    seen.clear()
    ex.runs()  # everything, as before
    assert '"content": "VARCHAR"' in seen[0][1] and '"duration": "DOUBLE"' in seen[0][1]
    # a where= on an unrequested column parses that column too (and returns only those asked for)
    seen.clear()
    out = ex.runs(columns=["run_id"], where="duration >= 0")
    assert '"duration": "DOUBLE"' in seen[0][1] and list(out.columns) == ["run_id"]


def test_unknown_and_malformed_columns_are_refused_clearly(ex):
    with pytest.raises(KeyError) as info:
        ex.runs(columns=["run_id", "tokens"])
    text = str(info.value)
    assert "runs(): no column 'tokens'" in text and "total_tokens" in text and "n_tool_calls" in text
    with pytest.raises(ValueError, match="needs path="):
        ex.runs(columns=[Column("x", "DOUBLE", "x")])
    with pytest.raises(ValueError, match="not a DuckDB type"):
        ex.runs(columns=[Column("x", "DOUBLE); DROP TABLE t; --", "x", path="a")])
    with pytest.raises(ValueError, match="without quotes"):
        ex.runs(columns=[Column("x", "DOUBLE", "x", path="a'); COPY t TO 'f")])
    with pytest.raises(ValueError, match="already a column of runs"):
        ex.runs(columns=[Column("model", "DOUBLE", "x", path="metadata.model")])
    with pytest.raises(ValueError, match="overlap"):
        ex.runs(columns=["input_tokens", Column("m", "JSONTEXT", "x", path="metrics")])
    with pytest.raises(ValueError, match="overlap"):
        ex.runs(columns=[Column("m", "JSONTEXT", "x", path="messages")])
    with pytest.raises(ValueError, match="twice"):
        ex.runs(columns=["model", "model"])
    with pytest.raises(ValueError, match="params= binds"):
        ex.runs(params=[1])


def test_key_columns_are_computed_but_not_returned():
    sel = selection("messages", "messages()", ["role"], None, None)
    assert [c.name for c in sel.parse] == ["role", "session_id", "run_id"] and sel.output == ["role"]
    sel = selection("runs", "runs()", ["model"], "total_tokens > ? AND runs.status = 'COMPLETED'", [1])
    assert {c.name for c in sel.parse} == {"model", "session_id", "run_id", "total_tokens", "status"}


def test_where_with_positional_and_named_params(ex):
    runs = ex.runs()
    cut = int(runs.total_tokens.median())
    a = ex.runs(columns=["run_id"], where="total_tokens > ?", params=[cut])
    assert sorted(a.run_id) == sorted(runs[runs.total_tokens > cut].run_id) and len(a) > 0
    b = ex.runs(columns=["run_id"], where="total_tokens > $cut AND model = $model", params={"cut": 0, "model": "gpt-4o"})
    assert sorted(b.run_id) == sorted(runs[runs.model == "gpt-4o"].run_id) and len(b) == 2
    # next to a keyword filter, on a column of the table qualified by its name; a trailing comment is fine
    c = ex.messages(where="messages.role = ? -- assistant replies", params=["assistant"], user_id="bob")
    assert set(c.role) == {"assistant"} and set(c.session_id) == {"e-1"}
    assert list(c.columns) == [col.name for col in TABLES["messages"]]
    # a subquery over another table reads it (read-only, as in sql())
    d = ex.tool_calls(where="run_id IN (SELECT run_id FROM runs WHERE model = ?)", params=["gpt-4o"])
    assert list(d.tool_name) == ["get_weather"]
    s = ex.sessions(columns=["session_id"], where="n_runs >= 2")
    assert list(s.session_id) == ["w-1"]
    # through DuckDB and back, a table keeps its values and dtypes
    for name in TABLES:
        pd.testing.assert_frame_equal(ex.table(name, where="1 = 1"), ex.table(name))


@pytest.mark.parametrize("predicate", [
    "1=1; COPY (SELECT 1) TO '{out}'",
    "1=1; COPY runs TO '{out}' (FORMAT csv)",
    "run_id IN (SELECT * FROM query('COPY (SELECT 1) TO ''{out}'''))",
    "EXISTS (SELECT 1 FROM read_duckdb('{out}'))",
    "run_id IN (WITH d AS (DELETE FROM runs RETURNING run_id) SELECT run_id FROM d)",
    "1=1 UNION ALL SELECT * FROM '{db}'",
    "1=1; ATTACH '{out}' AS x",
    "1=1; SET lock_configuration = false",
])
def test_where_refuses_anything_that_writes(ex, tmp_path, predicate):
    out = tmp_path / "stolen.csv"
    where = predicate.format(out=out, db=tmp_path / "agno.db")
    with pytest.raises(ReadOnlyError):
        ex.runs(columns=["run_id"], where=where)
    assert not out.exists()


def test_model_filter_is_pushed_down(ex):
    runs = ex.runs(columns=["model", "agent_id", "parent_run_id"], model="gpt-4o")
    assert list(runs.model) == ["gpt-4o", "gpt-4o"] and set(runs.agent_id) == {"weather"}
    # only the matching run rows come out of the database (workflow runs too: their step runs are inside)
    raw = ex.source.fetch(Filters.build(model="claude-3"))
    assert raw.runs.num_rows == 2 and set(raw.runs["run_type"].to_pylist()) == {"agent", "workflow"}
    assert list(ex.runs(model="claude-3").session_id) == ["e-1"]
    steps = ex.runs(model="step-model")
    assert list(steps.agent_id) == ["step-agent"] and steps.parent_run_id.notna().all()
    assert set(ex.messages(model="gpt-4o").session_id) == {"w-1"}
    assert len(ex.messages(model="claude-3")) == len(ex.messages(session_ids=["e-1"]))
    assert list(ex.tool_calls(model="gpt-4o").tool_name) == ["get_weather"]
    assert ex.tool_calls(model="claude-3").empty
    sessions = ex.sessions(model="gpt-4o")
    assert list(sessions.session_id) == ["w-1"] and list(sessions.n_runs) == [2]
    assert ex.sessions(model="nope").empty and ex.runs(model="nope").empty
    assert list(ex.runs(model="gpt-4o", agent_id="echo").columns) == [c.name for c in TABLES["runs"]]
    assert ex.runs(model="gpt-4o", agent_id="echo").empty


def test_model_filter_on_the_legacy_layout_and_parquet(tmp_path):
    for fixture in ("agno-2.9-sqlite.db", "agno-3.1-sqlite.db"):
        ex = agno_nb.connect(FIXTURES / fixture)
        assert len(ex.runs(model="fake-model")) == 7 and ex.runs(model="other").empty
        assert len(ex.sessions(model="fake-model")) == 3 and ex.sessions(model="other").empty
        assert len(ex.messages(model="fake-model")) == 16 and ex.messages(model="other").empty
    ex = agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db")
    folder = ex.to_parquet(tmp_path / "export")
    px = agno_nb.connect(folder)
    assert len(px.runs(model="fake-model")) == 7 and px.runs(model="other").empty
    assert px.tool_calls(model="other").empty and len(px.tool_calls(model="fake-model")) == 1
    assert list(px.runs(columns=["model", "total_tokens"]).columns) == ["model", "total_tokens"]
    assert list(px.runs(columns=["run_id"], where="total_tokens > ?", params=[100]).columns) == ["run_id"]
    with pytest.raises(ValueError, match="Parquet export"):
        px.runs(columns=[Column("t", "DOUBLE", "t", path="metadata.temperature")])


def test_sums_of_tokens_are_integers():
    ex = agno_nb.connect(FIXTURES / "agno-3.1-sqlite.db")
    df = ex.sql("select agent_id, sum(total_tokens) from runs group by 1")  # the README's example
    col = df.columns[1]
    assert str(df[col].dtype) == "Int64"
    assert not any(isinstance(v, decimal.Decimal) for v in df[col].astype(object))
    assert int(df[col].sum()) == int(ex.runs().total_tokens.sum()) == 203 + 203 + 131
    # a sum past int64 stays exact, as a decimal
    big = ex.sql("select sum(x) AS s from (values (9223372036854775807::BIGINT), (1::BIGINT)) t(x)")
    assert big.s[0] == decimal.Decimal(2 ** 63)
    # the %%agno_sql magic goes through sql() too
    assert str(ex.sql("select sum(total_tokens) AS t, sum(input_tokens) AS i from messages").t.dtype) == "Int64"


def test_unknown_keyword_lists_filters_and_the_new_arguments(ex):
    with pytest.raises(TypeError) as info:
        ex.messages(modle="gpt-4o")
    text = str(info.value)
    assert text.startswith("messages() got unexpected keyword argument 'modle'")
    assert "model" in text.split(";")[1] and "columns=" in text and "where=" in text


def test_describe_says_how_to_choose_columns_and_filter():
    doc = agno_nb.describe()
    for shown in (repr(doc), doc._repr_html_()):
        assert "columns=" in shown and "where=" in shown and "Column(" in shown and "model" in shown
    assert type(doc[doc.table == "runs"]) is pd.DataFrame  # a derived frame is a plain one
    assert agno_nb.Column is agno_nb.analysis.Column
