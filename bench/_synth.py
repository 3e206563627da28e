"""Synthetic Agno 3.1 session stores for the load benchmark, written fast and deterministically.

The tables are created by the real agno 3.1 (``SqliteDb`` / ``PostgresDb`` ``_get_table``),
so names, types and indexes are exactly agno's; the rows are then written directly
(``sqlite3`` ``executemany`` / psycopg ``COPY``). Every run's ``run_data`` has the key
order, separators and message shapes agno 3.1.10 writes (checked against a run written
by agno with instructions and a tool): a system message (the agent's instructions), the
user message, then either the assistant's answer or an assistant tool call, the tool
message and the final answer; ``tools`` holds the tool executions with their results;
run and per-message metrics. History messages are not stored with a run (agno 3.1 does
not by default), so a run holds 3 or 5 messages: 3.6 on average.

Sessions are spread over ``WEEKS`` weeks before ``END`` (a fixed date, so the files do
not depend on today's date), over ``len(AGENTS)`` agents with uneven traffic and
``n_users`` users; a session's runs follow each other by 20 s to 6 min, and runs are
written in time order across sessions as a live store would hold them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Dict, Iterator, List, Sequence, Tuple

END = int(dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc).timestamp())  # a Monday
WEEKS = 6
START = END - WEEKS * 7 * 86400
TOOL_SHARE = 0.3        # runs with a tool call (5 messages instead of 3)
TOOL_ERROR_SHARE = 0.03

_WORDS = (
    "the of and to in is that for it as with was on be by this are or from at an have not which but "
    "they their will can has more all one would there been if when also other into its about than "
    "these only some time data model agent user session query result order report customer account "
    "payment invoice shipping delivery refund policy weather forecast city temperature rain wind "
    "flight hotel booking price total amount table column index database search document summary "
    "review code function error warning request response latency token cost please thanks could "
    "you help me check find show update cancel confirm tomorrow today week month year number list "
    "first last next previous because however therefore example detail information available"
).split()

# name, weight (share of sessions), tools, instruction length in characters
AGENTS: Sequence[Tuple[str, str, float, Sequence[str], int]] = (
    ("support-agent", "Support", 0.30, ("lookup_order", "refund_status"), 420),
    ("research-agent", "Researcher", 0.20, ("web_search",), 480),
    ("sql-agent", "SQL Analyst", 0.15, ("run_sql", "describe_table"), 420),
    ("travel-agent", "Travel", 0.15, ("search_flights", "search_hotels"), 330),
    ("weather-agent", "Weather", 0.10, ("get_weather",), 200),
    ("code-reviewer", "Reviewer", 0.10, ("read_file",), 480),
)
MODELS = {"support-agent": "gpt-4o-mini", "research-agent": "gpt-4o", "sql-agent": "gpt-4o-mini",
          "travel-agent": "gpt-4o-mini", "weather-agent": "gpt-4o-mini", "code-reviewer": "gpt-4o"}
_NULL_TOOL_FIELDS = ("requires_confirmation", "confirmed", "confirmation_note", "requires_user_input",
                     "user_input_schema", "user_feedback_schema", "answered", "external_execution_required",
                     "external_execution_silent", "approval_type", "approval_id", "parent_tool_call_id")


class _Text:
    """A pool of sentences; a text of about n characters is a run of consecutive ones."""

    def __init__(self, rng: random.Random, size: int = 8192):
        words = _WORDS
        pool = []
        for _ in range(size):
            n = rng.randint(6, 22)
            s = " ".join(rng.choice(words) for _ in range(n))
            pool.append(s[0].upper() + s[1:] + rng.choice(".....?!"))
        self.pool = pool
        self.size = size

    def text(self, rng: random.Random, n: int) -> str:
        i = rng.randrange(self.size)
        out, total = [], 0
        while total < n:
            s = self.pool[i % self.size]
            out.append(s)
            total += len(s) + 1
            i += 1
        return " ".join(out)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _instructions(rng: random.Random, text: _Text, n: int) -> str:
    lines = []
    while sum(len(x) + 3 for x in lines) < n:
        lines.append("- " + text.text(rng, rng.randint(40, 160)))
    return "\n".join(lines)


def _lognormal_len(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(rng.lognormvariate(0, sigma) * median)))


class Generator:
    """Deterministic rows for ``n_sessions`` sessions of ``runs_per_session`` runs."""

    def __init__(self, n_sessions: int, runs_per_session: int, seed: int = 42, n_users: int = 0):
        self.n_sessions = n_sessions
        self.runs_per_session = runs_per_session
        self.seed = seed
        rng = random.Random(seed)
        self.text = _Text(rng)
        self.instructions = {a[0]: _instructions(rng, self.text, a[4]) for a in AGENTS}
        self.n_users = n_users or max(20, min(2000, n_sessions // 20))
        self.users = [f"user-{i:05d}" for i in range(self.n_users)]
        # session start times: sorted, so sessions (and, chunk by chunk, runs) come in time order
        self.starts = sorted(rng.randrange(START, END - 3600) for _ in range(n_sessions))
        self.agent_names = [a[0] for a in AGENTS]
        self.agent_weights = [a[2] for a in AGENTS]
        self.agents = {a[0]: a for a in AGENTS}

    # -- one run ---------------------------------------------------------------------------

    def _message(self, rng, role, content, created_at, **extra):
        m = {"id": _uuid(rng)}
        if content is not None:
            m["content"] = content
        m.update({"from_history": False, "stop_after_tool_call": False, "role": role})
        m.update(extra)
        m["created_at"] = created_at
        return m

    def _metrics(self, rng, input_tokens, output_tokens, ttft=True):
        duration = round(rng.uniform(0.4, 9.0), 15)
        m = {"input_tokens": input_tokens, "output_tokens": output_tokens,
             "total_tokens": input_tokens + output_tokens, "duration": duration}
        if ttft:
            m["time_to_first_token"] = round(duration * rng.uniform(0.05, 0.4), 15)
        return m

    def run(self, rng: random.Random, session_id: str, agent_id: str, user_id: str, created_at: int):
        """(run_id, run_data JSON text, total tokens of the run)."""
        _, name, _, tools, _ = self.agents[agent_id]
        model = MODELS[agent_id]
        text = self.text
        run_id = _uuid(rng)
        system = self.instructions[agent_id]
        question = text.text(rng, _lognormal_len(rng, 60, 0.8, 12, 2000))
        base_tokens = (len(system) + len(question)) // 4
        messages = [self._message(rng, "system", system, created_at),
                    self._message(rng, "user", question, created_at)]
        tool_execs = []
        prov = {"id": f"chatcmpl-{rng.getrandbits(40):x}"}
        answer = text.text(rng, _lognormal_len(rng, 140, 0.8, 20, 6000))
        out_tokens = len(answer) // 4 + 1
        if rng.random() < TOOL_SHARE:
            tool = rng.choice(tools)
            call_id = f"call_{rng.getrandbits(96):024x}"
            args = {"query": text.text(rng, rng.randint(10, 60))[:60], "limit": rng.randint(1, 20)}
            m1 = self._metrics(rng, base_tokens, 25, ttft=False)
            messages.append(self._message(
                rng, "assistant", None, created_at,
                tool_calls=[{"id": call_id, "function": {"arguments": json.dumps(args), "name": tool},
                             "type": "function"}],
                provider_data={"id": prov["id"]}, metrics=m1))
            error = rng.random() < TOOL_ERROR_SHARE
            result = (f"Error: {tool} failed: timeout after 30s" if error
                      else text.text(rng, _lognormal_len(rng, 200, 1.0, 20, 12000)))
            messages.append(self._message(rng, "tool", result, created_at, tool_call_id=call_id, tool_name=tool,
                                          tool_args=args, tool_call_error=error))
            start = created_at + rng.uniform(0.5, 3.0)
            took = rng.uniform(0.05, 4.0)
            tool_execs.append({
                "tool_call_id": call_id, "tool_name": tool, "tool_args": args, "tool_call_error": error,
                "result": result, "metrics": {"start_time": start, "end_time": start + took, "duration": took},
                "child_run_id": None, "stop_after_tool_call": False, "created_at": created_at,
                **{k: None for k in _NULL_TOOL_FIELDS}})
            m2 = self._metrics(rng, base_tokens + 25 + len(result) // 4, out_tokens)
            messages.append(self._message(rng, "assistant", answer, created_at,
                                          provider_data={"id": prov["id"]}, metrics=m2))
            metric_list = [m1, m2]
        else:
            m2 = self._metrics(rng, base_tokens, out_tokens)
            messages.append(self._message(rng, "assistant", answer, created_at,
                                          provider_data={"id": prov["id"]}, metrics=m2))
            metric_list = [m2]
        inp = sum(m["input_tokens"] for m in metric_list)
        outp = sum(m["output_tokens"] for m in metric_list)
        duration = sum(m["duration"] for m in metric_list) + sum(t["metrics"]["duration"] for t in tool_execs)
        run_metrics = {"input_tokens": inp, "output_tokens": outp, "total_tokens": inp + outp,
                       "time_to_first_token": metric_list[-1]["time_to_first_token"], "duration": duration,
                       "details": {"model": [{"input_tokens": inp, "output_tokens": outp, "total_tokens": inp + outp,
                                              "id": model, "provider": "OpenAI"}]}}
        doc = {"run_id": run_id, "agent_id": agent_id, "agent_name": name, "session_id": session_id,
               "user_id": user_id, "content": answer, "content_type": "str", "model_provider_data": prov,
               "model": model, "model_provider": "OpenAI", "session_state": {}, "created_at": created_at,
               "status": "COMPLETED", "metrics": run_metrics, "messages": messages, "tools": tool_execs,
               "input": {"input_content": question}}
        return run_id, json.dumps(doc), (inp, outp)

    # -- all rows --------------------------------------------------------------------------

    def chunks(self, chunk_sessions: int = 1000) -> Iterator[Tuple[List[tuple], List[tuple]]]:
        """(session rows, run rows) chunk by chunk; run rows sorted by created_at within a chunk.

        Session row: (session_id, session_type, agent_id, team_id, workflow_id, user_id,
        session_data, agent_data, team_data, workflow_data, metadata, summary, created_at, updated_at).
        Run row: (run_id, session_id, run_type, agent_id, team_id, workflow_id, user_id,
        parent_run_id, status, run_index, run_data, created_at, updated_at).
        """
        for lo in range(0, self.n_sessions, chunk_sessions):
            sessions, runs = [], []
            for i in range(lo, min(lo + chunk_sessions, self.n_sessions)):
                rng = random.Random((self.seed << 32) ^ i)  # per session: any chunking gives the same rows
                agent_id = rng.choices(self.agent_names, self.agent_weights)[0]
                user_id = self.users[rng.randrange(self.n_users)]
                session_id = _uuid(rng)
                t = self.starts[i]
                inp = outp = 0
                for k in range(self.runs_per_session):
                    if k:
                        t += rng.randint(20, 360)
                    run_id, data, (a, b) = self.run(rng, session_id, agent_id, user_id, t)
                    inp += a
                    outp += b
                    runs.append((run_id, session_id, "agent", agent_id, None, None, user_id, None, "COMPLETED",
                                 k, data, t, t))
                model = MODELS[agent_id]
                session_data = {"session_state": {}, "session_metrics": {
                    "input_tokens": inp, "output_tokens": outp, "total_tokens": inp + outp,
                    "details": {"model": [{"input_tokens": inp, "output_tokens": outp, "total_tokens": inp + outp,
                                           "id": model, "provider": "OpenAI"}]}}}
                agent_data = {"name": self.agents[agent_id][1], "agent_id": agent_id,
                              "model": {"name": "OpenAIChat", "id": model, "provider": "OpenAI"}}
                sessions.append((session_id, "agent", agent_id, None, None, user_id, json.dumps(session_data),
                                 json.dumps(agent_data), None, None, "null", "null", self.starts[i], t))
            runs.sort(key=lambda r: r[11])
            yield sessions, runs


SESSION_COLS = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
                "agent_data", "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at")
RUN_COLS = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "parent_run_id",
            "status", "run_index", "run_data", "created_at", "updated_at")


def fresh_agno_file(path: str, tables) -> "sqlite3.Connection":
    """A new SQLite file at ``path`` (any old one removed) with agno 3.1's own ``tables``, created
    by agno's ``SqliteDb``, and a connection that writes fast: no journal, no syncs (a generated
    file is written again if anything goes wrong)."""
    import os
    import sqlite3

    from agno.db.sqlite import SqliteDb

    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = SqliteDb(db_file=path)
    for table in tables:
        db._get_table(table, create_table_if_not_found=True)
    db.db_engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    return con


def write_sqlite(path: str, gen: Generator) -> Dict[str, int]:
    """A fresh SQLite file at ``path`` with agno 3.1's tables (WAL mode, as agno leaves it)."""
    con = fresh_agno_file(path, ("sessions", "runs"))
    s_sql = f"INSERT INTO agno_sessions ({', '.join(SESSION_COLS)}) VALUES ({', '.join('?' * len(SESSION_COLS))})"
    r_sql = f"INSERT INTO agno_runs ({', '.join(RUN_COLS)}) VALUES ({', '.join('?' * len(RUN_COLS))})"
    n_runs = 0
    with con:
        for sessions, runs in gen.chunks():
            con.executemany(s_sql, sessions)
            con.executemany(r_sql, runs)
            n_runs += len(runs)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return {"sessions": gen.n_sessions, "runs": n_runs}


def write_postgres(url: str, schema: str, gen: Generator) -> Dict[str, int]:
    """Agno 3.1's tables in a new ``schema`` (created by agno), filled with COPY."""
    import psycopg
    import sqlalchemy as sa

    from agno.db.postgres import PostgresDb

    db = PostgresDb(db_url=url, db_schema=schema)
    db._get_table("sessions", create_table_if_not_found=True)
    db._get_table("runs", create_table_if_not_found=True)
    db.db_engine.dispose()
    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    n_runs = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        s_copy = f'COPY "{schema}".agno_sessions ({", ".join(SESSION_COLS)}) FROM STDIN'
        r_copy = f'COPY "{schema}".agno_runs ({", ".join(RUN_COLS)}) FROM STDIN'
        for sessions, runs in gen.chunks():
            with cur.copy(s_copy) as cp:
                for row in sessions:
                    cp.write_row(row)
            with cur.copy(r_copy) as cp:
                for row in runs:
                    cp.write_row(row)
            n_runs += len(runs)
        conn.commit()
        cur.execute(f'ANALYZE "{schema}".agno_sessions')
        cur.execute(f'ANALYZE "{schema}".agno_runs')
        conn.commit()
    return {"sessions": gen.n_sessions, "runs": n_runs}
