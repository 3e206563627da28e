"""Writer processes for the concurrency tests (importable by spawned children)."""

from __future__ import annotations


def open_db(spec):
    kind, target, schema = spec
    if kind == "sqlite":
        from agno_nb.db.sqlite import SqliteDb

        return SqliteDb(db_file=target)
    if kind == "mysql":
        from agno_nb.db.mysql import MySQLDb

        return MySQLDb(db_url=target, db_schema=schema)
    from agno_nb.db.postgres import PostgresDb

    return PostgresDb(target, db_schema=schema)


def write_runs(spec, session_id: str, n: int, worker: int) -> int:
    from agno_nb import Agent
    from agno_nb.models import EchoModel

    with open_db(spec) as db:
        agent = Agent(id="writer", model=EchoModel(), db=db)
        for i in range(n):
            # a run's session_state is merged over the stored one (an Agent's own session_state
            # only seeds a new session, as in Agno): each writer's key must survive the others
            agent.run(f"worker {worker} run {i}", session_id=session_id, session_state={f"w{worker}": i})
    return n


def write_forever(path: str, session_id: str, payload_kb: int) -> None:
    """Append runs until killed, printing each run_id once its transaction committed."""

    from agno_nb import Agent
    from agno_nb.db.sqlite import SqliteDb
    from agno_nb.models import EchoModel

    agent = Agent(id="crasher", model=EchoModel(), db=SqliteDb(db_file=path))
    text = "x" * (payload_kb * 1024)
    i = 0
    while True:
        out = agent.run(f"{i} {text}", session_id=session_id)
        print(out.run_id, flush=True)
        i += 1


if __name__ == "__main__":
    import sys

    write_forever(sys.argv[1], sys.argv[2], int(sys.argv[3]))
