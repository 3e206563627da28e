"""cost_usd on runs, messages and sessions, from agno_nb.prices (table, matching rule, overrides)."""

from __future__ import annotations

import math
import warnings

import pytest

import agno_nb
from agno_nb import Agent, prices
from agno_nb.models import EchoModel

from _built import run, write


@pytest.fixture(autouse=True)
def clean_prices():
    prices.reset()
    yield
    prices.reset()


@pytest.mark.parametrize("model_id, entry", [
    ("gpt-4o", "gpt-4o"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("GPT-4o-2024-08-06", "gpt-4o"),
    ("openai/gpt-4o", "gpt-4o"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
    ("o3-mini-2025-01-31", "o3-mini"),
    ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
    ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
    ("claude-sonnet-4-0", "claude-sonnet-4"),
    ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),
    ("models/gemini-1.5-pro-002", "gemini-1.5-pro"),
    ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"),
    ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ("mistral-large-latest", "mistral-large"),
    ("mistral-small-2503", "mistral-small"),
    ("deepseek-chat", "deepseek-chat"),
    ("llama-3.3-70b-versatile", "llama-3.3-70b-versatile"),
])
def test_model_ids_match_their_entry(model_id, entry):
    assert prices.lookup(model_id) == prices.PRICES[entry]


@pytest.mark.parametrize("model_id", ["gpt-5-pro", "gpt-4.5-preview", "gpt-4o-audio-preview", "my-llama", "", None])
def test_other_ids_are_unknown_not_a_neighbour(model_id):
    # a different model sharing a prefix must not take its neighbour's price
    assert prices.lookup(model_id) is None


def test_the_table_records_its_date_and_lists_prices():
    assert prices.PRICES_AS_OF == "2025-08"
    t = prices.table()
    assert {"gpt-4o", "claude-sonnet-4", "gemini-2.5-pro", "mistral-large", "deepseek-chat",
            "llama-3.3-70b-versatile"} <= set(t["model"])
    assert (t["input"] > 0).all() and (t["output"] >= t["input"]).all()


def test_cost_of_runs_messages_and_sessions(tmp_path):
    write(tmp_path / "c.db", {
        "s1": [run("r1", model="gpt-4o-2024-08-06", inp=1000, out=500, cached=200, message_metrics=True),
               run("r2", model="claude-3-5-sonnet-20241022", provider="Anthropic", inp=1000, out=500, cached=200,
                   message_metrics=True)],
        "s2": [run("r3", model="gpt-4o-mini", inp=10_000, out=0)],
    })
    ex = agno_nb.connect(tmp_path / "c.db", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every model is known: no note
        runs = ex.runs().set_index("run_id")
        sessions = ex.sessions().set_index("session_id")
        messages = ex.messages()
    # OpenAI counts cached tokens inside input_tokens: 800 at 2.50, 200 at 1.25, 500 at 10.00
    assert runs.loc["r1", "cost_usd"] == pytest.approx((800 * 2.5 + 200 * 1.25 + 500 * 10) / 1e6)
    # Anthropic does not: 1000 at 3.00, 200 cached at 0.30, 500 at 15.00
    assert runs.loc["r2", "cost_usd"] == pytest.approx((1000 * 3 + 200 * 0.3 + 500 * 15) / 1e6)
    assert runs.loc["r3", "cost_usd"] == pytest.approx(10_000 * 0.15 / 1e6)
    assert runs.loc["r1", "cache_read_tokens"] == 200
    assert sessions.loc["s1", "cost_usd"] == pytest.approx(runs.loc[["r1", "r2"], "cost_usd"].sum())
    assert sessions.loc["s2", "cost_usd"] == pytest.approx(runs.loc["r3", "cost_usd"])
    # the message that carried the metrics costs the run's amount; the others nothing
    by_run = messages.groupby("run_id")["cost_usd"].sum()
    assert by_run["r1"] == pytest.approx(runs.loc["r1", "cost_usd"])
    assert set(messages.loc[messages.run_id == "r2", "model"]) == {"claude-3-5-sonnet-20241022"}
    # a filtered load gives the same session cost
    assert ex.sessions(session_ids=["s1"])["cost_usd"].iloc[0] == pytest.approx(sessions.loc["s1", "cost_usd"])


def test_unknown_models_are_nan_with_one_note_naming_them_once_per_explorer(tmp_path):
    write(tmp_path / "u.db", {"s1": [run("r1", model="acme-1", provider="Acme"), run("r2", model="acme-2"),
                                     run("r3", model="acme-1"), run("r4", model="gpt-4o")]})
    ex = agno_nb.connect(tmp_path / "u.db", progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = ex.runs().set_index("run_id")
    notes = [w for w in caught if "no price" in str(w.message)]
    assert len(notes) == 1
    assert "'acme-1', 'acme-2'" in str(notes[0].message) and "agno_nb.prices.set" in str(notes[0].message)
    assert runs.loc[["r1", "r2", "r3"], "cost_usd"].isna().all() and runs.loc["r4", "cost_usd"] > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sessions = ex.sessions()
        ex.messages()
    assert not [w for w in caught if "no price" in str(w.message)]  # this explorer named them already
    assert sessions["cost_usd"].iloc[0] == pytest.approx(runs.loc["r4", "cost_usd"])  # the priced runs' sum
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        agno_nb.connect(tmp_path / "u.db", progress=False).sessions()
    assert len([w for w in caught if "no price" in str(w.message)]) == 1  # a new explorer names them again


def test_set_overrides_the_table_and_prices_unknown_models(tmp_path):
    write(tmp_path / "o.db", {"s1": [run("r1", model="acme-1", inp=2_000_000, out=1_000_000, cached=1_000_000),
                                     run("r2", model="gpt-4o-2024-11-20", inp=1_000_000, out=0)]})
    ex = agno_nb.connect(tmp_path / "o.db", progress=False)
    agno_nb.prices.set("acme-1", input=1.0, output=2.0, cached_input=0.5)
    agno_nb.prices.set("gpt-4o", input=1.0, output=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = ex.runs().set_index("run_id")
    assert runs.loc["r1", "cost_usd"] == pytest.approx(1.0 * 1 + 0.5 * 1 + 2.0 * 1)
    assert runs.loc["r2", "cost_usd"] == pytest.approx(1.0)  # the dated id takes the override too
    prices.unset("gpt-4o")
    assert ex.runs().set_index("run_id").loc["r2", "cost_usd"] == pytest.approx(2.5)
    assert prices.table().iloc[0]["source"] == "set"


@pytest.mark.parametrize("bad", [{"input": -1, "output": 1}, {"input": "2", "output": 1}, {"input": 1, "output": True}])
def test_set_refuses_what_is_not_a_price(bad):
    with pytest.raises(ValueError, match="per million tokens"):
        prices.set("x", **bad)


def test_offline_models_cost_nothing_and_make_no_note(tmp_path):
    from agno_nb.db.sqlite import SqliteDb

    db = SqliteDb(db_file=str(tmp_path / "e.db"))
    Agent(id="echo", db=db, model=EchoModel()).run("hi", session_id="s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = agno_nb.connect(db, progress=False).runs()
    assert runs["cost_usd"].tolist() == [0.0] and not math.isnan(runs["cost_usd"].iloc[0])
    prices.set("echo", input=1000, output=1000)  # a price set for it wins
    assert agno_nb.connect(db, progress=False).runs()["cost_usd"].iloc[0] > 0


def test_sessions_read_the_runs_once_and_count_bad_runs_as_the_sql_count_does(tmp_path):
    """An unfiltered sessions() prices and counts its runs from one read of the runs table (the
    columns the cost needs, not all of them); a run whose JSON is damaged still counts in
    n_runs, as the SQL count of a filtered load counts it."""
    import sqlite3

    from agno_nb.analysis import sqlite_read

    path = tmp_path / "s.db"
    write(path, {"s1": [run("r1", inp=1000), run("r2", inp=1000)], "s2": [run("r3", inp=10)]})
    statements = []
    real = sqlite_read.ArrowCursor.execute

    def recording(self, sql, params=()):
        statements.append(sql)
        return real(self, sql, params)

    sqlite_read.ArrowCursor.execute = recording
    try:
        sessions = agno_nb.connect(path, progress=False).sessions()
    finally:
        sqlite_read.ArrowCursor.execute = real
    reads = [q for q in statements if "FROM agno_runs" in q and "run_data" in q.split("FROM")[0]]
    # run_type and parent_run_id: a workflow run's own cost is 0, its steps carry it
    assert len(reads) == 1 and "agent_id" not in reads[0].split("FROM")[0]
    assert not [q for q in statements if "count(" in q.lower()]  # no second scan to count the runs
    assert sessions.set_index("session_id")["n_runs"].to_dict() == {"s1": 2, "s2": 1}

    con = sqlite3.connect(path)
    con.execute("UPDATE agno_runs SET run_data = '{not json' WHERE run_id = 'r2'")
    con.commit()
    con.close()
    ex = agno_nb.connect(path, progress=False, errors="ignore")
    sessions = ex.sessions().set_index("session_id")
    counted = ex.sessions(session_ids=["s1", "s2"]).set_index("session_id")  # filtered: the SQL count
    assert sessions.loc["s1", "n_runs"] == counted.loc["s1", "n_runs"] == 2
    assert sessions.loc["s1", "cost_usd"] == pytest.approx(counted.loc["s1", "cost_usd"])
    assert sessions.loc["s1", "cost_usd"] == pytest.approx(ex.runs().set_index("run_id").loc["r1", "cost_usd"])
