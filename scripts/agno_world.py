"""Have the real agno 3.1 write a database with every feature its users switch on, offline.

    python scripts/agno_world.py sqlite OUT.db
    python scripts/agno_world.py postgres postgresql+psycopg://postgres@127.0.0.1:5432/test SCHEMA

Needs the ``test`` extra (agno 3.1.10, opentelemetry-sdk, openinference-instrumentation-agno).
The only stand-in is the model: ``agno_nb.testing.FakeOpenAIServer`` on 127.0.0.1, an
OpenAI-compatible endpoint that calls the first tool it is offered, echoes otherwise, fills
JSON schemas, and gives ``reasoning_content`` for the model id ``fake-reasoner``. Everything
else is agno's own code writing agno's own tables:

- agents with tools (``get_weather``), history, session state, run metadata, a user message
  with an image as bytes, an image by URL and a file; a streamed run and an async run;
- ``offload_tool_results=True``: a tool returning ~60 KB, so ``agno_tool_results`` and
  ``agno_fs`` (on PostgreSQL, schema ``fs``) hold the payload and the run a pointer envelope;
- a team delegating to both its members (nested member runs), a workflow with a Step,
  Parallel, Condition, Loop and Router (its input a plain string);
- a cancelled run (the tool cancels its own run) and an errored one (the endpoint answers 400);
- approvals: a ``@approval`` tool pauses three runs: one approved and one rejected via
  ``db.update_approval`` then ``continue_run``, one left pending (its run PAUSED); and an
  ``@approval(type="audit")`` tool, confirmed in the run, which agno records afterwards;
- compaction (``Compaction(compact_at_tokens=...)``): ``agno_compactions`` rows with the
  archived messages;
- user memories (``update_memory_on_run``), learnings (``learning=True``: user profile and
  user memory), session summaries, a reasoning model's answer (``reasoning_content``);
- tracing (``agno.tracing.setup_tracing(db)``): ``agno_traces`` and ``agno_spans``;
- ``agent.save()`` / ``team.save()``: ``agno_components``, ``agno_component_configs`` (two
  versions of one agent) and ``agno_component_links`` (the team's members);
- ``db.calculate_metrics()``: ``agno_metrics``.

Tracing instruments the whole process, so run this in a process of its own. A JSON manifest
of what was made goes to stdout (last line) and, with ``--manifest FILE``, to FILE:

- ``agno_version``, ``backend`` (sqlite|postgres), ``schema`` (PostgreSQL, else null);
- ``sessions``: feature -> session id, for the features ``tools``, ``media``, ``stream``,
  ``async``, ``reasoning``, ``offload``, ``team``, ``workflow``, ``cancelled``, ``error``,
  ``approval_approved``, ``approval_rejected``, ``approval_pending``, ``approval_audit``,
  ``compaction``;
- ``runs``: feature -> the top-level run ids in order (``tools`` 2, ``compaction`` 6, else 1);
- ``member_run_ids`` (the team's member runs); ``approvals``: ``approved``, ``rejected``,
  ``pending``, ``audit`` -> approval id; ``offloaded_result_ids``; ``compaction_ids``;
  ``memory_user`` (whose memories); ``component_versions``: component id -> versions saved.

Agno's logs go to stderr (the cancelled and the errored run log errors). On PostgreSQL every
session id starts with SCHEMA, so that the rows agno writes into the shared schema ``fs`` can
be told apart (and deleted) per world. A SQLite file is checkpointed and VACUUMed into one
small file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
import zlib
from importlib.metadata import version
from pathlib import Path

from agno.agent import Agent
from agno.approval import approval
from agno.compaction import Compaction
from agno.media import File, Image
from agno.models.openai.like import OpenAILike
from agno.run import RunContext
from agno.run.cancel import cancel_run
from agno.team import Team
from agno.tools import tool
from agno.workflow import Condition, Loop, Parallel, Router, Step, Workflow

from agno_nb.testing import FakeOpenAIServer

MODEL_ID = "fake-model"
REASONER_ID = "fake-reasoner"
USER = "alice"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}, 21C"


def big_report(topic: str) -> str:
    """A long report on a topic (about 60 KB of text)."""
    return "\n".join(f"line {i:04d}: {topic} figures, all nominal, reading {i * 7 % 101}" for i in range(1200))


def _png() -> bytes:
    """A valid 1x1 PNG, small enough to keep the committed database small."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00")) + \
        chunk(b"IEND", b"")


def build(db, server: FakeOpenAIServer, prefix: str) -> dict:
    def model(model_id: str = MODEL_ID) -> OpenAILike:
        return OpenAILike(id=model_id, base_url=server.base_url, api_key="sk-test")

    def sid(name: str) -> str:
        return f"{prefix}{name}"

    common = dict(db=db, telemetry=False, model=model())
    made: dict = {"sessions": {}, "runs": {}}

    def note(feature: str, output) -> None:
        made["sessions"][feature] = output.session_id
        made["runs"].setdefault(feature, []).append(output.run_id)

    # Tools, history, session state, run metadata, media; memories, learnings, summaries.
    weather = Agent(name="Weather", id="weather-agent", tools=[get_weather], add_history_to_context=True,
                    session_state={"trips": 0}, update_memory_on_run=True, enable_session_summaries=True,
                    learning=True, **common)
    note("tools", weather.run("Picnic in Paris?", session_id=sid("tools"), user_id=USER,
                              metadata={"channel": "web", "ticket": 42}, session_state={"trips": 1}))
    note("tools", weather.run("And an umbrella?", session_id=sid("tools"), user_id=USER))
    note("media", weather.run(
        "What is in these?", session_id=sid("media"), user_id=USER,
        images=[Image(content=_png(), format="png"), Image(url="https://example.com/paris.jpg")],
        files=[File(content=b"city,temp\nParis,21\n", mime_type="text/csv", filename="temps.csv")]))

    # Streaming (its events stored with the run) and async.
    plain = Agent(name="Plain", id="plain-agent", store_events=True, **common)
    for _ in plain.run("Stream a greeting", session_id=sid("stream"), user_id="bob", stream=True, stream_events=True):
        pass
    note("stream", plain.get_last_run_output(session_id=sid("stream")))
    note("async", asyncio.run(plain.arun("Hello asynchronously", session_id=sid("async"), user_id="bob")))

    # A reasoning model's answer carries reasoning_content.
    thinker = Agent(name="Thinker", id="thinker-agent", db=db, telemetry=False, model=model(REASONER_ID))
    note("reasoning", thinker.run("Is 17 prime?", session_id=sid("reasoning"), user_id="bob"))

    # Offloaded tool result: the run keeps an envelope, agno_tool_results/agno_fs the payload.
    reporter = Agent(name="Reporter", id="report-agent", tools=[big_report], offload_tool_results=True, **common)
    note("offload", reporter.run("Full report on Paris", session_id=sid("offload"), user_id=USER))

    # A workflow with every kind of step.
    writer = Agent(name="Writer", id="writer", telemetry=False, model=model())
    editor = Agent(name="Editor", id="editor", telemetry=False, model=model())
    workflow = Workflow(name="Blog", id="blog-workflow", db=db, steps=[
        Step(name="draft", agent=writer),
        Parallel(Step(name="check", agent=editor), Step(name="shorten", agent=writer), name="review"),
        Condition(name="if_long", evaluator=lambda step_input: True, steps=[Step(name="trim", agent=editor)]),
        Loop(name="polish", steps=[Step(name="pass", agent=editor)], max_iterations=2),
        Router(name="route", selector=lambda step_input: [Step(name="publish", agent=writer)],
               choices=[Step(name="publish", agent=writer)]),
    ])
    note("workflow", workflow.run("A post about Paris", session_id=sid("workflow"), user_id=USER))

    # Cancelled: the tool cancels the run it belongs to. Errored: the endpoint refuses the request.
    def stop_here(run_context: RunContext) -> str:
        """Stop this run."""
        cancel_run(run_context.run_id)
        return "stopping"

    stopper = Agent(name="Stopper", id="stopper-agent", tools=[stop_here], **common)
    note("cancelled", stopper.run("Please stop", session_id=sid("cancelled"), user_id="bob"))
    server.fail_next = 400
    note("error", plain.run("This one fails", session_id=sid("error"), user_id="bob"))

    # Approvals: each run pauses at the tool; one is approved, one rejected, then continued.
    @approval
    @tool(requires_confirmation=True)
    def book_trip(city: str) -> str:
        """Book a trip to a city."""
        return f"Booked {city}"

    booker = Agent(name="Booker", id="booker-agent", tools=[book_trip], **common)
    made["approvals"] = {}
    for decision in ("approved", "rejected"):
        paused = booker.run(f"Book Paris ({decision})", session_id=sid(f"approval_{decision}"), user_id=USER)
        pending, _ = db.get_approvals(run_id=paused.run_id, status="pending")
        assert len(pending) == 1, pending
        db.update_approval(pending[0]["id"], expected_status="pending", status=decision, resolved_by="carol",
                           resolved_at=int(time.time()))
        note(f"approval_{decision}", paused)
        booker.continue_run(run_id=paused.run_id, session_id=paused.session_id, user_id=USER)
        made["approvals"][decision] = pending[0]["id"]
    # One left waiting: the run stays PAUSED.
    waiting = booker.run("Book Paris (later)", session_id=sid("approval_pending"), user_id=USER)
    note("approval_pending", waiting)
    made["approvals"]["pending"] = db.get_approvals(run_id=waiting.run_id)[0][0]["id"]

    # Audit: the user confirms in the run itself; agno records the decision after the fact.
    @approval(type="audit")
    @tool(requires_confirmation=True)
    def cancel_booking(city: str) -> str:
        """Cancel a booking."""
        return f"Cancelled {city}"

    auditor = Agent(name="Auditor", id="audit-agent", tools=[cancel_booking], **common)
    paused = auditor.run("Cancel Paris", session_id=sid("approval_audit"), user_id=USER)
    for requirement in paused.active_requirements:
        requirement.confirm()
    note("approval_audit", auditor.continue_run(run_response=paused, session_id=paused.session_id, user_id=USER))
    made["approvals"]["audit"] = db.get_approvals(run_id=paused.run_id)[0][0]["id"]

    # Compaction: a low threshold folds the older turns every run or two. The local server's
    # "summary" echoes the whole transcript; the budget cuts it, as agno cuts a long summary.
    folding = Compaction(compact_at_tokens=400, uncompacted_runs=1, compacted_token_budget=60)
    compacting = Agent(name="Chatty", id="chatty-agent", add_history_to_context=True, compaction=folding, **common)
    for i in range(6):
        note("compaction", compacting.run(f"Turn {i}: " + "tell me more about Paris " * 8,
                                          session_id=sid("compaction"), user_id="bob"))

    # A team: the leader's run and the members' runs, linked by parent_run_id. Last, because agno
    # 3.1's tracing leaves the team run's span current: every later run would join its trace.
    members = [Agent(name="Forecaster", id="forecaster", tools=[get_weather], telemetry=False, model=model()),
               Agent(name="Planner", id="planner", telemetry=False, model=model())]
    team = Team(name="Travel", id="travel-team", members=members, db=db, telemetry=False, model=model(),
                delegate_to_all_members=True)
    team_run = team.run("Trip to Paris?", session_id=sid("team"), user_id=USER)
    note("team", team_run)
    made["member_run_ids"] = [m.run_id for m in team_run.member_responses]

    # Saved configs (agno_components, agno_component_configs): two versions of one agent, and the team.
    made["component_versions"] = {"weather-agent": [weather.save(label="first"), weather.save(label="second")],
                                  "travel-team": [team.save()]}

    db.calculate_metrics()
    made["offloaded_result_ids"] = [r["result_id"] for r in db.get_tool_results_for_session(sid("offload"))]
    made["compaction_ids"] = sorted(r["compaction_id"] for r in db.get_compactions_for_session(sid("compaction")))
    made["memory_user"] = USER
    return made


def open_db(kind: str, target: str, schema: str | None):
    if kind == "sqlite":
        from agno.db.sqlite import SqliteDb

        return SqliteDb(db_file=target)
    from agno.db.postgres import PostgresDb

    return PostgresDb(db_url=target, db_schema=schema)


def compact_sqlite(path: str) -> None:
    """One file, as small as it gets: the WAL folded in and free pages dropped."""
    con = sqlite3.connect(path)
    con.execute("pragma wal_checkpoint(truncate)")
    con.execute("pragma journal_mode=delete")
    con.execute("vacuum")
    con.close()


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["sqlite", "postgres"])
    parser.add_argument("target", help="the SQLite file to write, or the PostgreSQL URL")
    parser.add_argument("schema", nargs="?", help="PostgreSQL schema")
    parser.add_argument("--manifest", help="also write the manifest to this file")
    args = parser.parse_args(argv)
    if args.kind == "postgres" and not args.schema:
        parser.error("postgres needs a SCHEMA")
    if args.kind == "sqlite" and Path(args.target).exists():
        parser.error(f"{args.target} exists: the world is written into a new file")

    from agno.tracing import setup_tracing

    db = open_db(args.kind, args.target, args.schema)
    setup_tracing(db)
    # The local server calls the first tool offered, with these arguments: the world's own tools,
    # and those agno offers itself (team delegation, the memory manager's and the learning stores'
    # tools, compaction's search over its archive).
    tool_args = {"get_weather": {"city": "Paris"}, "big_report": {"topic": "Paris"}, "book_trip": {"city": "Paris"},
                 "cancel_booking": {"city": "Paris"}, "delegate_task_to_members": {"task": "Weather in Paris?"},
                 "add_memory": {"memory": "Alice plans a picnic in Paris", "topics": ["travel"]},
                 "update_profile": {"name": "Alice"}, "search_compacted_history": {"pattern": "Paris"}}
    reasoning = {REASONER_ID: "17 has no divisor but 1 and itself."}
    with FakeOpenAIServer(tool_args=tool_args, reasoning=reasoning) as server:
        made = build(db, server, f"{args.schema}-" if args.kind == "postgres" else "")
    manifest = {"agno_version": version("agno"), "backend": args.kind, "schema": args.schema, **made}
    if args.kind == "sqlite":
        db.db_engine.dispose()
        compact_sqlite(args.target)
    if args.manifest:
        Path(args.manifest).write_text(json.dumps(manifest, indent=1))
    print(json.dumps(manifest))
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
