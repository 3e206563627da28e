"""The demo database: builds offline, is deterministic, and has what the tutorials show."""

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import agno_nb
from _venvs import clean_env, copy_repo, uv_bin
from agno_nb.db.sqlite import SqliteDb
from agno_nb.demo import DEMO_START, DemoModel, build, main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build(tmp_path_factory.mktemp("demo") / "demo.db")


@pytest.fixture(scope="module")
def ex(demo):
    return agno_nb.connect(demo)


def test_same_seed_same_tables_and_another_seed_differs(demo, tmp_path):
    again = agno_nb.connect(build(tmp_path / "again.db"))
    other = agno_nb.connect(build(tmp_path / "other.db", seed=8))
    first = agno_nb.connect(demo)
    for table in ("sessions", "runs", "messages", "tool_calls"):
        pd.testing.assert_frame_equal(first.table(table), again.table(table))
    assert not first.sessions()["session_id"].equals(other.sessions()["session_id"])


def test_agents_users_team_and_workflow(ex):
    s = ex.sessions()
    assert len(s) == 60
    assert {"weather-agent", "travel-planner", "support-agent"} <= set(s["agent_id"].dropna())
    assert set(s["team_id"].dropna()) == {"travel-team"} and set(s["workflow_id"].dropna()) == {"trip-brief"}
    assert s["user_id"].nunique() >= 5
    assert (s["n_runs"] > 1).any()  # multi-turn conversations
    assert s["session_name"].notna().all() and s["summary"].notna().any()


def test_tool_calls_with_results_and_errors(ex):
    calls = ex.tool_calls()
    assert {"get_weather", "find_hotels", "lookup_order", "delegate_task_to_member"} <= set(calls["tool_name"])
    assert calls["tool_call_error"].sum() >= 3 and (~calls["tool_call_error"]).sum() >= 50
    assert calls["result"].notna().all() and (calls["duration"] > 0).all()


def test_team_member_runs_and_error_runs(ex):
    runs = ex.runs()
    team_runs = set(runs.loc[runs["run_type"] == "team", "run_id"])
    members = runs[runs["parent_run_id"].isin(team_runs)]
    assert {"weather-agent", "travel-planner"} <= set(members["agent_id"])
    errors = runs[runs["status"] == "ERROR"]
    assert len(errors) >= 3 and set(errors["run_type"]) >= {"agent", "workflow"}
    assert (runs.loc[runs["status"] == "COMPLETED", "content"].str.len() > 0).all()


def test_history_context_and_latency_are_realistic(ex):
    msgs = ex.messages()
    assert msgs["from_history"].any()
    runs = ex.runs()
    means = runs.groupby("agent_id")["duration"].median()
    assert means["travel-planner"] > means["weather-agent"] > 0  # the "large" model is slower


def test_spread_over_weeks_from_a_fixed_date(ex):
    created = ex.sessions()["created_at"]
    assert created.min() >= pd.Timestamp(DEMO_START)
    assert created.max() - created.min() >= pd.Timedelta(weeks=3)
    # runs start within their session, never at build time
    runs = ex.runs().merge(ex.sessions()[["session_id", "created_at"]], on="session_id", suffixes=("", "_s"))
    assert (runs["created_at"] >= runs["created_at_s"]).all()
    assert runs["created_at"].max() < pd.Timestamp(DEMO_START) + pd.Timedelta(weeks=7)


def test_sessions_round_trip_through_the_db_api(demo):
    db = SqliteDb(db_file=str(demo))
    team = db.get_sessions(session_type="team", limit=1)[0]
    assert team.team_data["members"] and any(r.parent_run_id for r in team.runs)
    workflow = db.get_sessions(session_type="workflow", limit=1)[0]
    assert workflow.runs[0].step_results and workflow.runs[0].step_executor_runs


def test_demo_model_is_deterministic_and_can_fail():
    from agno_nb import Agent
    from agno_nb.demo import get_weather

    def ask():
        return Agent(model=DemoModel(), tools=[get_weather]).run("Weather in Oslo?")

    a, b = ask(), ask()
    assert a.content == b.content and "9°C" in a.content
    assert a.metrics.total_tokens == b.metrics.total_tokens
    model = DemoModel()
    model.fail_next = "boom"
    with pytest.warns(RuntimeWarning):
        assert Agent(model=model).run("hi").status == "ERROR"


def test_cli(tmp_path, capsys):
    assert main([str(tmp_path / "small.db"), "--sessions", "6", "--seed", "3"]) == 0
    assert "wrote 6 demo sessions" in capsys.readouterr().out
    assert len(agno_nb.sessions_df(tmp_path / "small.db")) == 6
    out = subprocess.run([sys.executable, "-m", "agno_nb.demo", "--sessions", "5"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "demo.db").exists()


def demo_check():
    """scripts/demo_check.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("demo_check", ROOT / "scripts" / "demo_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_demo_script_sets_up_checks_the_kernel_and_serves_the_notebooks(tmp_path):
    """``bash scripts/demo.sh`` from a fresh copy of the checkout: own .venv, the demo database
    built offline, the notebooks' kernel checked, JupyterLab serving the notebooks.

    demo.sh checks the kernel JupyterLab gives the notebooks (scripts/demo_check.py): it is
    the script's own .venv with agno_nb from the checkout, it imports every module the
    tutorials import (read from them, so the list keeps up) and it reads the demo.db the
    script built next to them. It no longer executes every notebook before serving them:
    tests/test_notebooks.py executes each one (nbval, in the Binder environment), so a
    third execution here would prove nothing new. setup.sh gets the test environment's uv in
    ``$UV`` (every fresh clone's own ``bash scripts/test.sh`` takes the other path: uv
    installed into .venv by its pip).
    """
    repo = tmp_path / "repo"
    copy_repo(repo, names=("agno_nb", "scripts", "notebooks"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = clean_env(os.environ)
    env.update(PYTHON=sys.executable, PORT=str(port), UV=uv_bin())
    log = open(tmp_path / "demo.log", "w+")
    proc = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 1200
        url = None
        while time.monotonic() < deadline and proc.poll() is None:
            log.seek(0)
            text = log.read()
            url = next((line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("JupyterLab: ")), None)
            if url:
                try:
                    with urllib.request.urlopen(url.replace("/lab?", "/api/status?"), timeout=5) as resp:
                        assert resp.status == 200
                        break
                except OSError:
                    pass
            time.sleep(0.5)
        else:
            log.seek(0)
            pytest.fail(f"demo.sh did not serve JupyterLab (exit {proc.poll()}):\n{log.read()[-8000:]}")
        log.seek(0)
        text = log.read()
        assert url == f"http://127.0.0.1:{port}/lab?token=" + url.rsplit("=", 1)[1]
        # the notebooks' kernel: the script's .venv, agno_nb from the checkout, every tutorial import, demo.db
        assert (f"kernel check: the notebooks' python3 kernel runs {repo / '.venv' / 'bin' / 'python'}, "
                f"agno_nb from {repo / 'agno_nb' / '__init__.py'}") in text, text[-5000:]
        modules, extensions = demo_check().tutorial_imports(NOTEBOOKS)
        assert {"agno_nb", "matplotlib.pyplot", "duckdb", "agno_nb.db.postgres", "dask.distributed"} <= set(modules)
        assert extensions == ["agno_nb"]
        assert f"kernel check: it imports the {len(modules)} modules the notebooks use: {', '.join(modules)}" in text
        assert "kernel check: it loads the IPython extensions agno_nb" in text
        assert "kernel check: demo.db holds 60 sessions" in text and (repo / "notebooks" / "demo.db").exists()
        # JupyterLab serves the notebooks folder: every tutorial and the demo database
        with urllib.request.urlopen(url.replace("/lab?", "/api/contents?"), timeout=30) as resp:
            served = {item["name"] for item in json.load(resp)["content"]}
        assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} | {"demo.db"} <= served
        # offline: JupyterLab neither asks to fetch news nor checks for updates
        with urllib.request.urlopen(url, timeout=30) as resp:
            page = resp.read().decode()
        assert re.search(r'"news":\s*\{\s*"disabled":\s*true', page), "JupyterLab's news feed is on"
        with urllib.request.urlopen(url.replace("/lab?", "/lab/api/update?"), timeout=30) as resp:
            assert json.load(resp)["notification"] is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


@pytest.mark.parametrize("column, value", [("agent_id", "weather-agent"), ("agent_id", "travel-planner"),
                                           ("status", "ERROR"), ("status", "COMPLETED")])
def test_a_filter_finds_the_step_runs_inside_workflow_runs(ex, column, value):
    """A workflow's step runs live inside its row, with their own agent and status: the filter
    pushed into SQLite must not drop them (a Parquet export, which stores them as rows, has them)."""
    every = ex.runs()
    steps = every[every.parent_run_id.isin(every.loc[every.run_type == "workflow", "run_id"])]
    assert (steps[column] == value).any()  # the demo has such step runs
    assert set(ex.runs(**{column: value}).run_id) == set(every.loc[every[column] == value, "run_id"])
    msgs = ex.messages()
    assert len(ex.messages(**{column: value})) == len(msgs[msgs.run_id.isin(every.loc[every[column] == value, "run_id"])])
