"""Agno 3.1 code that must run unchanged on agno_nb (issue 18, finding 8).

Each scenario goes through the real agno 3.1.10 and through agno_nb, against the same local
OpenAI-compatible server, and the two are compared: tools taking ``run_context`` (and the
other parameters Agno injects), a tool that raises, workflow inputs as stored, and
Agno's constructor flags.
"""

from __future__ import annotations

import inspect
import os

import pytest

os.environ.setdefault("AGNO_TELEMETRY", "false")

import agno.agent  # noqa: E402
import agno.team  # noqa: E402
import agno.workflow  # noqa: E402
from agno.db.sqlite import SqliteDb as AgnoSqliteDb  # noqa: E402
from agno.models.openai.like import OpenAILike as AgnoOpenAILike  # noqa: E402
from agno.run import RunContext as AgnoRunContext  # noqa: E402

import agno_nb  # noqa: E402
from agno_nb import Agent, RunContext, Team, Workflow  # noqa: E402
from agno_nb.db.sqlite import SqliteDb  # noqa: E402
from agno_nb.models import EchoModel, OpenAILike  # noqa: E402
from agno_nb.testing import FakeOpenAIServer  # noqa: E402

# ---------------------------------------------------------------------------------------
# tools written the Agno 3.1 way
# ---------------------------------------------------------------------------------------


def add_item(item: str, run_context: AgnoRunContext) -> str:
    """Add an item to the shopping list (Agno 3.1's documented example, annotated with agno's class)."""
    run_context.session_state.setdefault("items", []).append(item)
    return f"added {item} in {run_context.session_id} for {run_context.user_id} ({run_context.metadata})"


def whoami(item: str, agent, ctx: RunContext, images=None, files=None) -> str:
    """Who runs this tool: ``agent`` by name, ``ctx`` by its annotation, media by name."""
    return f"{agent.name} {ctx.session_id} {ctx.run_id is not None} {images} {files}"


def boom(item: str) -> str:
    """A tool that raises."""
    raise ValueError(f"cannot add {item}")


@pytest.fixture
def server():
    with FakeOpenAIServer(tool_args={"add_item": {"item": "milk"}, "whoami": {"item": "x"},
                                     "boom": {"item": "eggs"}}) as srv:
        yield srv


def _both(server, tmp_path, tool):
    """The same agent in agno and in agno_nb, each on its own SQLite file."""
    kw = dict(name="Shopper", id="shopper", tools=[tool], session_state={"items": []})
    theirs = agno.agent.Agent(model=AgnoOpenAILike(id="m", base_url=server.base_url, api_key="k"),
                              db=AgnoSqliteDb(db_file=str(tmp_path / "agno.db")), telemetry=False, **kw)
    ours = Agent(model=OpenAILike(id="m", base_url=server.base_url, api_key="k"),
                 db=SqliteDb(db_file=str(tmp_path / "nb.db")), **kw)
    return {"agno": theirs, "agno_nb": ours}


def _schemas(server):
    return [t["function"]["parameters"] for r in server.requests for t in (r.get("tools") or [])]


def test_run_context_tool_changes_the_session_state_as_in_agno(server, tmp_path):
    got = {}
    for name, agent in _both(server, tmp_path, add_item).items():
        server.requests.clear()
        out = agent.run("buy milk", session_id="s1", user_id="alice", metadata={"list": "weekly"})
        call = out.tools[0]
        got[name] = (str(out.status).rsplit(".", 1)[-1].upper(), call.tool_call_error, call.result,
                     agent.get_session_state("s1"), _schemas(server))
    assert got["agno_nb"] == got["agno"]
    assert got["agno"][2] == "added milk in s1 for alice ({'list': 'weekly'})"
    assert got["agno"][3] == {"items": ["milk"]}
    # run_context is the runtime's: the model never sees it
    assert got["agno"][4][0] == {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]}


def test_agent_media_and_annotated_run_context_are_injected(server, tmp_path):
    ours = _both(server, tmp_path, whoami)["agno_nb"]
    out = ours.run("who", session_id="s1")
    assert (out.tools[0].tool_call_error, out.tools[0].result) == (False, "Shopper s1 True None None")
    assert list(_schemas(server)[0]["properties"]) == ["item"]


def test_a_tool_that_raises_is_an_error_call_in_a_completed_run_as_in_agno(server, tmp_path):
    got = {}
    for name, agent in _both(server, tmp_path, boom).items():
        out = agent.run("buy eggs", session_id="s1")
        stored = agent.get_session("s1").runs[0]
        got[name] = [(str(r.status).rsplit(".", 1)[-1].upper(), r.tools[0].tool_call_error,
                      "cannot add eggs" in r.tools[0].result) for r in (out, stored)]
    assert got["agno_nb"] == got["agno"] == [("COMPLETED", True, True)] * 2


def test_run_context_has_agnos_fields():
    ours = {f for f in inspect.signature(RunContext).parameters}
    theirs = {f for f in inspect.signature(AgnoRunContext).parameters}
    assert ours == theirs
    assert agno_nb.RunContext is agno_nb.agent.RunContext
