"""Writer processes for the concurrency tests (importable by spawned children)."""

from __future__ import annotations


def open_db(spec):
    kind, target, schema = spec
    if kind == "sqlite":
        from agno_nb.db.sqlite import SqliteDb

        return SqliteDb(db_file=target)
    from agno_nb.db.postgres import PostgresDb

    return PostgresDb(target, db_schema=schema)


def write_runs(spec, session_id: str, n: int, worker: int) -> int:
    from agno_nb import Agent
    from agno_nb.models import EchoModel

    agent = Agent(id="writer", model=EchoModel(), db=open_db(spec), session_state={f"w{worker}": 0})
    for i in range(n):
        agent.run(f"worker {worker} run {i}", session_id=session_id)
    return n
