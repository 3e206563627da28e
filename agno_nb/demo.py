"""A realistic demo database, built offline and deterministically.

    python -m agno_nb.demo [PATH] [--sessions N] [--seed S] [--force]     # or: agno-nb-demo

writes ``PATH`` (default ``demo.db``; an earlier demo database there is replaced, any
other file only with ``--force``): three agents with tools (weather, travel
planning, customer support), a team that delegates to two of them, and a workflow,
used by several users over six weeks, with tool errors and a few failed (ERROR) runs.

Everything goes through the real runtime (:class:`~agno_nb.Agent`, :class:`~agno_nb.Team`,
:class:`~agno_nb.Workflow`) with :class:`DemoModel`, an offline model that calls the
tools a question needs and answers from their results. The runtime stamps wall-clock
times and random ids, so the sessions are first written to a scratch database, then
re-timed from the seed (relative to :data:`DEMO_START`) and given ids derived from the
seed, and written to ``PATH`` with ``db.upsert_sessions``. The same seed therefore gives
the same sessions, runs, messages and tool calls: ids, times, tokens and durations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Union

from .agent import Agent, Step, Team, Workflow
from .agent.agent import SUMMARY_PROMPT
from .agent.models import Model, ModelError, ModelResponse, _usage, tool_call
from .db.schema import check_identifier
from .db.sqlite import SqliteDb
from .errors import AgnoNbError
from .records import Message, Metrics, RunOutput, Session, session_from_dict

DEMO_START = dt.datetime(2026, 9, 7, tzinfo=dt.timezone.utc)  # a Monday; the demo's first day
DEMO_WEEKS = 6
DEFAULT_SESSIONS = 60
DEFAULT_SEED = 7
USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
USER_WEIGHTS = (6, 4, 3, 3, 2, 1)  # a few heavy users, as in real traffic

# -- the tools ---------------------------------------------------------------------------

WEATHER = {"Paris": (18, "partly cloudy"), "Lisbon": (24, "sunny"), "Oslo": (9, "light rain"),
           "Tokyo": (21, "overcast"), "Nairobi": (26, "sunny"), "Lima": (17, "foggy")}
UNKNOWN_CITIES = ("Atlantis", "Eldorado")  # the model asks about them; the tools fail
CITIES = (*WEATHER, *UNKNOWN_CITIES)
HOTELS = {"Paris": [("Hôtel du Nord", 145), ("Le Petit Jardin", 98)],
          "Lisbon": [("Casa Alfama", 88), ("Tejo View", 120)],
          "Oslo": [("Fjord Inn", 160)], "Tokyo": [("Shinjuku Stay", 110), ("Asakusa Ryokan", 135)],
          "Nairobi": [("Karen Lodge", 95)]}  # none in Lima: a tool error
ORDERS = {"10231": ("shipped", "arrives Thursday"), "10457": ("processing", "ships within 2 days"),
          "10562": ("delivered", "delivered on Monday"), "10618": ("shipped", "arrives tomorrow"),
          "10733": ("cancelled", "refund issued")}
UNKNOWN_ORDERS = ("99812", "10999")


def get_weather(city: str) -> str:
    """Current weather in a city: temperature in °C and sky."""
    if city not in WEATHER:
        raise ValueError(f"unknown city {city!r}")
    temp, sky = WEATHER[city]
    return f"{temp}°C, {sky}"


def find_hotels(city: str, nights: int = 2) -> List[Dict[str, Any]]:
    """Hotels with free rooms in a city, with the price for the stay."""
    if city not in HOTELS:
        raise LookupError(f"no hotels listed for {city}")
    return [{"name": name, "price_per_night": price, "total": price * int(nights)} for name, price in HOTELS[city]]


def lookup_order(order_id: str) -> Dict[str, str]:
    """Status of a customer's order by its number."""
    if order_id not in ORDERS:
        raise KeyError(f"order {order_id} not found")
    status, detail = ORDERS[order_id]
    return {"order_id": order_id, "status": status, "detail": detail}


# -- the offline model -------------------------------------------------------------------

_OPENERS = {"concise": [""], "friendly": ["Happy to help!", "Sure thing!", "Good question!"],
            "detailed": ["Here is what I found.", "Let me walk you through it."]}
_CLOSERS = {"concise": [""], "friendly": ["Anything else I can do for you?", "Have a great day!"],
            "detailed": ["Let me know if you want me to go deeper on any of this.",
                         "Prices and conditions can change, so check again before you book."]}
_KNOWLEDGE = {
    "password": "You can reset your password from Settings → Account → Reset password; the link is valid for 1 hour.",
    "invoice": "Invoices are under Orders → Details → Download invoice, as a PDF.",
    "refund": "Refunds go back to the original payment method within 5 business days of approval.",
    "address": "The delivery address can be changed until the order ships, under Orders → Details.",
    "pack": "Pack layers, a light rain jacket and comfortable walking shoes.",
    "visa": "Check the embassy's website: visa rules depend on your passport and the length of stay.",
}


class DemoModel(Model):
    """An offline model for demos and tutorials: it calls the tools a question needs, then
    answers from their results, in a ``style`` ("concise", "friendly" or "detailed").

    Deterministic: the same conversation always gets the same answer, token counts and
    simulated latency (it grows with the output, scaled by ``latency``), reported in
    ``metrics.duration`` without waiting. With ``time_scale`` > 0 the model really waits
    that fraction of the simulated latency, so measured run durations compare like real
    models' would. Set ``fail_next`` to a message to make the next call fail like an
    unreachable endpoint.

    It plans from the tools offered: ``get_weather``, ``find_hotels``, ``lookup_order``
    and a team's ``delegate_task_to_member``.
    """

    name = "DemoModel"
    provider = "agno_nb-demo"

    def __init__(self, id: str = "demo-small", style: str = "friendly", latency: float = 1.0, seed: int = 0,
                 time_scale: float = 0.0):
        if style not in _OPENERS:
            raise ValueError(f"style must be one of {sorted(_OPENERS)}; got {style!r}")
        self.id, self.style, self.latency, self.seed, self.time_scale = id, style, latency, seed, time_scale
        self.fail_next: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return {**super().to_dict(), "style": self.style}

    def _respond(self, messages: List[Message], tools: List[Dict[str, Any]]) -> ModelResponse:
        if self.fail_next:
            error, self.fail_next = self.fail_next, None
            raise ModelError(error)
        # Seeded by the conversation, not by call order: reruns give the same text.
        question = next((str(m.content) for m in reversed(messages) if m.role == "user"), "")
        rng = random.Random(f"{self.seed}|{self.id}|{question}|{len(messages)}")
        if messages and messages[0].role == "system" and messages[0].content == SUMMARY_PROMPT:
            return self._reply(messages, _summary(str(messages[-1].content)), rng)
        last_user = max(i for i, m in enumerate(messages) if m.role == "user") if question else len(messages)
        results = [m for m in messages[last_user + 1:] if m.role == "tool"]
        if not results:
            calls = self._plan(question, {t["function"]["name"] for t in tools}, messages)
            if calls:
                return self._reply(messages, None, rng, calls)
        body = " ".join([*(_describe_result(m) for m in results), *_knowledge(question)]) or _fallback(question)
        parts = [rng.choice(_OPENERS[self.style]), body]
        if self.style == "detailed" and results:
            parts.append(f"I checked {len(results)} source{'s' if len(results) > 1 else ''} to answer this.")
        parts.append(rng.choice(_CLOSERS[self.style]))
        return self._reply(messages, " ".join(p for p in parts if p), rng)

    def _plan(self, question: str, names: Set[str], messages: Sequence[Message]) -> List[Dict[str, Any]]:
        """The tool calls a question needs, given the tools on offer."""
        cities = [c for c in CITIES if c in question]
        days = int(m.group(1)) if (m := re.search(r"(\d+)[- ](?:day|night)", question)) else 2
        q = question.lower()
        if "delegate_task_to_member" in names and cities:
            roster = re.findall(r"^- ([\w-]+):", str(messages[0].content), re.M) if messages else []
            tasks = {"weather": f"What is the weather in {cities[0]}?",
                     "plan": f"Find a hotel in {cities[0]} for {days} nights."}
            return [tool_call("delegate_task_to_member", {"member_id": member, "task": task})
                    for member in roster for key, task in tasks.items() if key in member]
        # An agent with both tools picks by the question; one with a single tool always uses it.
        wants_hotels = any(w in q for w in ("hotel", "stay", "trip", "plan", "weekend"))
        calls = []
        if "get_weather" in names and cities and ("find_hotels" not in names or not wants_hotels or "weather" in q):
            calls += [tool_call("get_weather", {"city": c}) for c in cities[:2]]
        if ("find_hotels" in names and cities and ("get_weather" not in names or wants_hotels)
                and not any(w in q for w in ("pack", "visa"))):
            calls.append(tool_call("find_hotels", {"city": cities[0], "nights": days}))
        if "lookup_order" in names and (order := re.search(r"#?(\d{5})", question)):
            calls.append(tool_call("lookup_order", {"order_id": order.group(1)}))
        return calls

    def _reply(self, messages: Sequence[Message], content: Optional[str], rng: random.Random,
               calls: Sequence[Dict[str, Any]] = ()) -> ModelResponse:
        metrics = _usage(messages, content, list(calls))
        metrics.time_to_first_token = round(self.latency * (0.15 + rng.random() * 0.2), 3)
        metrics.duration = round(metrics.time_to_first_token + self.latency * 0.02 * metrics.output_tokens
                                 + rng.random() * 0.1, 3)
        if self.time_scale > 0:
            time.sleep(metrics.duration * self.time_scale)
            metrics.duration = metrics.time_to_first_token = None  # measured by Model.invoke instead
        return ModelResponse(content=content, tool_calls=list(calls), metrics=metrics)


def _describe_result(msg: Message) -> str:
    """One sentence about a tool result, for the model's answer."""
    args, text = msg.tool_args or {}, str(msg.content)
    if msg.tool_name == "get_weather":
        return (f"I could not get the weather for {args.get('city')}: {text.split(': ', 2)[-1]}."
                if msg.tool_call_error else f"In {args.get('city')} it is {text}.")
    if msg.tool_name == "find_hotels":
        if msg.tool_call_error:
            return f"I found no hotels in {args.get('city')}."
        best = min(json.loads(text), key=lambda h: h["price_per_night"])
        return (f"In {args.get('city')}, {best['name']} has rooms at {best['price_per_night']} € a night "
                f"({best['total']} € for {args.get('nights', 2)} nights).")
    if msg.tool_name == "lookup_order":
        if msg.tool_call_error:
            return f"I could not find order {args.get('order_id')}; please check the number."
        order = json.loads(text)
        return f"Order {order['order_id']} is {order['status']}: {order['detail']}."
    if msg.tool_name == "delegate_task_to_member":
        return f"{args.get('member_id')} says: {text}"
    return text


def _knowledge(question: str) -> List[str]:
    """Canned answers for the topics a question mentions."""
    q = question.lower()
    return [text for key, text in _KNOWLEDGE.items() if key in q]


def _fallback(question: str) -> str:
    if any(c in question for c in CITIES):
        return "I can't look that up right now, but spring and autumn are usually the best time to go."
    return "I don't have a tool for that, but I can help with weather, trips and orders."


def _summary(transcript: str) -> str:
    asked = [line[len("user: "):] for line in transcript.splitlines() if line.startswith("user: ")]
    topics = sorted({w for w in ("order", "refund", "password", "invoice", "address") if w in transcript.lower()})
    return (f"The user asked {len(asked)} question{'s' if len(asked) != 1 else ''}, "
            f"starting with: {asked[0] if asked else '(nothing)'} The assistant answered each one.\n"
            f"Topics: {', '.join(topics) or 'general'}")


# -- the components ----------------------------------------------------------------------

def demo_components(db: Optional[SqliteDb] = None, seed: int = DEFAULT_SEED) -> Dict[str, Any]:
    """The demo's agents, team and workflow, by id, writing to ``db``."""
    weather = Agent(name="Weather Agent", id="weather-agent", db=db, tools=[get_weather],
                    model=DemoModel("demo-small", style="concise", latency=0.6, seed=seed),
                    instructions=["Answer weather questions with the get_weather tool.", "Give temperatures in °C."],
                    description="Knows the current weather anywhere.", add_history_to_context=True)
    planner = Agent(name="Travel Planner", id="travel-planner", db=db, tools=[find_hotels],
                    model=DemoModel("demo-large", style="detailed", latency=1.5, seed=seed),
                    instructions=["Plan trips: hotels first, then a day-by-day outline.", "Quote prices in euros."],
                    description="Plans trips and finds hotels.")
    support = Agent(name="Support Agent", id="support-agent", db=db, tools=[lookup_order],
                    model=DemoModel("demo-small", style="friendly", latency=0.8, seed=seed),
                    instructions=["You are customer support for an online shop.",
                                  "Look orders up before answering about them.", "Be polite."],
                    add_history_to_context=True, num_history_runs=2, enable_session_summaries=True)
    team = Team(name="Travel Team", id="travel-team", db=db, members=[weather, planner],
                model=DemoModel("demo-large", style="friendly", latency=1.2, seed=seed),
                instructions=["Split trip questions between the weather agent and the planner."])
    brief = Workflow(name="Trip Brief", id="trip-brief", db=db, steps=[
        Step("clean", clean_request), Step("forecast", weather), Step("plan", planner), Step("format", format_brief)],
        description="A trip brief: forecast, then hotels, then a formatted summary.")
    return {c.id: c for c in (weather, planner, support, team, brief)}


def clean_request(text: str) -> str:
    """Workflow step: normalise whitespace in the request."""
    return " ".join(str(text).split())


def format_brief(text: str) -> str:
    """Workflow step: the plan as a short brief."""
    return f"TRIP BRIEF\n{text}"


_QUESTIONS = {
    "weather-agent": ["What's the weather in {city}?", "Do I need an umbrella in {city} today?",
                      "Is it warm enough for the beach in {city}?", "Compare the weather in {city} and {city2}.",
                      "And what about {city2}?"],
    "travel-planner": ["Plan a {days}-day trip to {city}.", "Find me a hotel in {city} for {days} nights.",
                       "What should I pack for {city}?", "Do I need a visa for {city}?"],
    "support-agent": ["Where is my order #{order}?", "I want a refund for order #{order}.",
                      "How do I reset my password?", "Can I change the delivery address of order #{order}?",
                      "Where do I find my invoice?"],
    "travel-team": ["I'm going to {city} for {days} days: what's the weather and where should I stay?",
                    "Weekend in {city}: weather and a hotel please."],
    "trip-brief": ["Trip to {city}, {days}-day stay, what will the weather be like?",
                   "Brief me for a {days}-day stay in {city}."],
}
_KINDS = ("weather-agent", "support-agent", "travel-planner", "travel-team", "trip-brief")
_KIND_WEIGHTS = (30, 30, 20, 12, 8)
_RUNS = {"weather-agent": (1, 4), "support-agent": (1, 4), "travel-planner": (1, 3), "travel-team": (1, 2),
         "trip-brief": (1, 2)}


@dataclass
class _Plan:
    session_id: str
    component: str
    user_id: str
    start: float  # Unix seconds
    questions: List[str]
    gaps: List[float]  # seconds between runs
    fail: List[bool]  # which runs hit a model failure


def _question(kind: str, rng: random.Random) -> str:
    city = rng.choice(CITIES) if rng.random() < 0.12 else rng.choice(list(WEATHER))
    order = rng.choice(UNKNOWN_ORDERS) if rng.random() < 0.15 else rng.choice(list(ORDERS))
    return rng.choice(_QUESTIONS[kind]).format(city=city, city2=rng.choice(list(WEATHER)), order=order,
                                               days=rng.randint(2, 5))


def _plans(n: int, seed: int) -> List[_Plan]:
    rng = random.Random(seed)
    plans = []
    for i in range(n):
        # every component shows up even in a small demo; then traffic is weighted
        kind = _KINDS[i] if i < len(_KINDS) else rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        runs = rng.randint(*_RUNS[kind])
        day = rng.randrange(DEMO_WEEKS * 7)
        start = DEMO_START.timestamp() + day * 86400 + rng.uniform(7.5, 21) * 3600
        plans.append(_Plan(
            session_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), component=kind,
            user_id=rng.choices(USERS, USER_WEIGHTS)[0], start=start,
            questions=[_question(kind, rng) for _ in range(runs)],
            gaps=[rng.uniform(20, 900) for _ in range(runs)],
            # the 4th session's last run always fails, so even a tiny demo has an ERROR run
            fail=[rng.random() < 0.05 or (i == 3 and r == runs - 1) for r in range(runs)],
        ))
    return sorted(plans, key=lambda p: p.start)


# -- deterministic times and ids ---------------------------------------------------------

ERROR_LATENCY = 30.0  # a failed model call: the endpoint timed out
_FAILURE = "upstream model timed out after 30 s (simulated)"


def _tool_latency(name: Optional[str], args: Any) -> float:
    digest = hashlib.sha256(f"{name}|{json.dumps(args, sort_keys=True)}".encode()).digest()
    return round(0.05 + digest[0] / 255 * 0.6, 3)


class _Retimer:
    """Gives a session's runs, messages and tool calls times on a simulated clock."""

    def __init__(self, runs: Sequence[RunOutput]):
        self.by_id = {r.run_id: r for r in runs}
        self.seen: Dict[str, int] = {}  # message id -> time; history copies keep the original's
        self.done: Set[str] = set()  # runs re-timed so far

    def run(self, run: RunOutput, start: float) -> float:
        """Re-time ``run`` (and the member runs it delegated to) from ``start``; returns its end."""
        run.created_at = int(start)
        self.done.add(run.run_id)
        if run.step_results is not None:
            return self._workflow(run, start)
        t = start
        tools = {x.tool_call_id: x for x in run.tools or []}
        first_token = None
        for m in run.messages or []:
            if m.from_history:
                m.created_at = self.seen.get(m.id, int(start))
                continue
            if m.role == "assistant" and m.metrics is not None:
                first_token = first_token if first_token is not None else t - start + (m.metrics.time_to_first_token or 0)
                t += m.metrics.duration or 0
            elif m.role == "tool" and m.tool_call_id in tools:
                x = tools[m.tool_call_id]
                child = self.by_id.get(x.child_run_id)
                end = self.run(child, t) if child is not None else t + _tool_latency(x.tool_name, x.tool_args)
                x.created_at = int(t)
                x.metrics = {"start_time": round(t, 3), "end_time": round(end, 3), "duration": round(end - t, 3)}
                t = end
            m.created_at = int(t)
            self.seen[m.id] = m.created_at
        if run.status == "ERROR":
            t += ERROR_LATENCY
        run.metrics = run.metrics or Metrics()
        run.metrics.duration = round(t - start, 3)
        run.metrics.time_to_first_token = None if first_token is None else round(first_token, 3)
        return t

    def _workflow(self, run: RunOutput, start: float) -> float:
        t = start
        executor_runs = iter(r for r in run.step_executor_runs or [] if r.parent_run_id == run.run_id)
        self.by_id.update({r.run_id: r for r in run.step_executor_runs or []})
        total = Metrics()
        for step in run.step_results:
            step_start = t
            if step.get("step_type") in ("agent", "team"):
                out = next(executor_runs, None)
                if out is not None:
                    t = self.run(out, t)
                    total = total + (out.metrics or Metrics())
            else:
                t += 0.002
            step["duration"] = round(t - step_start, 3)
        total.duration = round(t - start, 3)
        total.time_to_first_token = None
        run.metrics = total
        return t


_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|call_[0-9a-f]{12}\b")


def _rekey(session: Session, seed: int) -> Session:
    """Replace the runtime's random run, message and tool-call ids with ids derived from the seed."""
    rng = random.Random(f"{seed}:{session.session_id}")
    mapping = {session.session_id: session.session_id}

    def new_id(match: re.Match) -> str:
        old = match.group(0)
        if old not in mapping:
            mapping[old] = (f"call_{rng.getrandbits(48):012x}" if old.startswith("call_")
                            else str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        return mapping[old]

    return session_from_dict(json.loads(_IDS.sub(new_id, json.dumps(session.to_dict()))))


def _finish(session: Session, plan: _Plan, seed: int) -> Session:
    """Deterministic times, ids, metrics and a name for one session read from the scratch db."""
    clock = _Retimer(session.runs)
    t = end = plan.start
    top = [r for r in session.runs if r.parent_run_id is None]
    for run, gap in zip(top, plan.gaps):
        end = clock.run(run, t)
        t = end + gap
    for run in session.runs:  # a member run no tool call points to: at its parent's start
        if run.run_id not in clock.done:
            clock.run(run, clock.by_id[run.parent_run_id].created_at if run.parent_run_id in clock.by_id else t)
    session.created_at, session.updated_at = int(plan.start), int(end)
    if session.summary:
        # Agno's format (ISO text), in UTC so that the demo file is the same on every machine
        session.summary.updated_at = dt.datetime.fromtimestamp(int(end), dt.timezone.utc).replace(tzinfo=None)
    total = Metrics()
    for run in session.runs:  # as the runtime counts: every stored run, member runs included
        total = total + (run.metrics or Metrics())
    total.duration = round(total.duration or 0, 3)
    session.session_data = {**(session.session_data or {}), "session_metrics": total.to_dict(),
                            "session_name": plan.questions[0][:60]}
    return _rekey(session, seed)


# -- building ----------------------------------------------------------------------------

def build(path: Union[str, os.PathLike] = "demo.db", sessions: int = DEFAULT_SESSIONS, seed: int = DEFAULT_SEED,
          session_table: Optional[str] = None, force: bool = False) -> Path:
    """Write the demo database to ``path`` and return the path.

    ``path`` may be missing, or an earlier demo database that nobody has written to since
    (recognised by its ``PRAGMA application_id`` and the ``agno_nb_demo`` table, which
    records what was built; one built by agno_nb 0.1, before demo databases were marked,
    by its contents): that one is replaced. Anything else (your own agent
    database, any other file, a demo database with sessions added since) is replaced only
    with ``force=True``; otherwise :class:`DemoPathError` says why.

    The file appears complete or not at all: it is built next to ``path`` and renamed,
    so notebooks started at the same time never see half a database.
    """
    path = Path(path)
    if sessions < 1:
        raise ValueError(f"sessions must be at least 1; got {sessions}")
    check_target(path, force)  # before the build: fail fast
    plans = _plans(sessions, seed)
    with tempfile.TemporaryDirectory(prefix=".agno-nb-demo-", dir=path.parent) as tmp:
        # synchronous=NORMAL: no fsync per commit for a file built here and thrown away or renamed whole
        # (the WAL is checkpointed, and synced, when the engines close below)
        scratch = SqliteDb(db_file=os.path.join(tmp, "scratch.db"), synchronous="NORMAL")
        components = demo_components(scratch, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the failed runs are on purpose
            for plan in plans:
                component = components[plan.component]
                for question, fail in zip(plan.questions, plan.fail):
                    if fail:
                        _model_to_fail(component).fail_next = _FAILURE
                    component.run(question, session_id=plan.session_id, user_id=plan.user_id)
        target_file = os.path.join(tmp, "demo.db")
        target = SqliteDb(db_file=target_file, session_table=session_table, synchronous="NORMAL")
        # preserve_updated_at: the re-timed sessions keep their own updated_at (Agno's rule would stamp now)
        target.upsert_sessions([_finish(scratch.get_session(plan.session_id), plan, seed) for plan in plans],
                               preserve_updated_at=True)
        scratch.engine.dispose()
        target.engine.dispose()
        _mark(target_file, target.session_table_name, sessions, seed)
        check_target(path, force)  # again: something may have appeared there meanwhile
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(target_file, path)
    return path


# -- recognising a demo database ---------------------------------------------------------

DEMO_APPLICATION_ID = 0x61676E64  # "agnd", at offset 68 of the SQLite header of every demo database
DEMO_TABLE = "agno_nb_demo"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class DemoPathError(AgnoNbError, OSError):
    """The demo database cannot be written where asked (a missing folder, or a file it must not replace)."""


def _mark(db_file: str, session_table: str, sessions: int, seed: int) -> None:
    """Mark a freshly built demo database, and record what it holds, so a later build knows
    it may replace it (and that nobody has added sessions to it since)."""
    con = sqlite3.connect(db_file)
    try:
        con.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        con.execute(f"CREATE TABLE {DEMO_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        about = {"built_by": "agno_nb.demo", "seed": seed, "sessions": sessions, "session_table": session_table,
                 "fingerprint": _fingerprint(con, session_table)}
        con.executemany(f"INSERT INTO {DEMO_TABLE} VALUES (?, ?)", [(k, json.dumps(v)) for k, v in about.items()])
        con.commit()
        # The file alone must be complete: it is renamed without its -wal.
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def _fingerprint(con: sqlite3.Connection, session_table: str) -> Dict[str, Any]:
    """Rows per table and the sessions' latest ``updated_at``: what changes when anyone writes."""
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
              if r[0] != DEMO_TABLE]
    counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # names from the file itself
    last = con.execute(f'SELECT max(updated_at) FROM "{session_table}"').fetchone()[0]
    return {"rows": counts, "last_updated_at": last}


def check_target(path: Path, force: bool = False) -> None:
    """Raise :class:`DemoPathError` unless the demo database may be written to ``path``."""
    if not path.parent.is_dir():
        raise DemoPathError(f"cannot write the demo database to {str(path)!r}: "
                            f"the folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise DemoPathError(f"cannot write the demo database to {str(path)!r}: it is a folder; give a file path")
    if force or not (path.exists() or path.is_symlink()):
        return
    problem = "it is a symbolic link" if path.is_symlink() else not_a_demo(path)
    if problem:
        raise DemoPathError(f"refusing to replace {str(path)!r}: {problem}. "
                            "Pass --force (force=True) to replace it anyway, or choose another path")


def not_a_demo(path: Path) -> Optional[str]:
    """Why ``path`` is not an earlier, unchanged demo database (None if it is one).

    The header is read as bytes first, so a file that is not a SQLite database is never
    opened by SQLite; a SQLite database is only ever opened read-only.
    """
    with open(path, "rb") as f:
        header = f.read(100)
    if not header.startswith(_SQLITE_MAGIC):
        return "it is not a SQLite database" if header else "it is an empty file"
    marked = len(header) >= 72 and int.from_bytes(header[68:72], "big") == DEMO_APPLICATION_ID
    try:
        con = sqlite3.connect(_read_only_uri(Path(path)), uri=True)
        try:
            if not marked:
                return None if _unmarked_demo(con) else \
                    "it is a SQLite database that agno_nb's demo did not write (it may hold your sessions)"
            about = {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {DEMO_TABLE}")}
            now = _fingerprint(con, check_identifier(about["session_table"], "session table"))
        finally:
            con.close()
    except (sqlite3.Error, KeyError, ValueError) as exc:
        return f"it looks like a demo database but cannot be checked ({exc})"
    then = about["fingerprint"]
    changed = {t for t in set(now["rows"]) | set(then["rows"]) if now["rows"].get(t, 0) != then["rows"].get(t, 0)}
    if changed or now["last_updated_at"] != then["last_updated_at"]:
        return ("it was built as a demo database but has been written to since "
                f"({', '.join(sorted(changed)) or 'sessions updated'}); it may hold your sessions")
    return None


def _read_only_uri(path: Path) -> str:
    """A read-only URI that leaves no -wal/-shm file beside ``path``: with no write-ahead log
    pending, everything is in the file, which can be read as immutable (no locks, no log)."""
    wal = Path(str(path) + "-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    return path.resolve().as_uri() + ("?mode=ro" if pending else "?mode=ro&immutable=1")


def _unmarked_demo(con: sqlite3.Connection) -> bool:
    """A demo database built before demo databases were marked (agno_nb 0.1): Agno's default
    tables only, and every session and run one of the demo's components and users, within
    the demo's weeks. A run added since (stamped with the current time) fails the test."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")}
    if tables != {"agno_sessions", "agno_runs", "agno_schema_versions"}:
        return False
    lo = int(DEMO_START.timestamp())
    hi = lo + (DEMO_WEEKS * 7 + 2) * 86400
    ids, users = ", ".join("?" * len(_KINDS)), ", ".join("?" * len(USERS))
    sessions, strays = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT (coalesce(agent_id, team_id, workflow_id) IN ({ids}) "
        f"AND user_id IN ({users}) AND created_at BETWEEN ? AND ? AND updated_at BETWEEN ? AND ?) "
        "OR updated_at IS NULL) FROM agno_sessions", [*_KINDS, *USERS, lo, hi, lo, hi]).fetchone()
    stray_runs = con.execute("SELECT count(*) FROM agno_runs WHERE NOT (created_at BETWEEN ? AND ?) "
                             "OR session_id NOT IN (SELECT session_id FROM agno_sessions)", [lo, hi]).fetchone()[0]
    return sessions > 0 and strays == 0 and stray_runs == 0


def _model_to_fail(component: Any) -> DemoModel:
    # A workflow fails in its planning step; agents and teams in their own model.
    if isinstance(component, Workflow):
        return next(s.executor for s in component.steps if s.name == "plan").model
    return component.model


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``agno-nb-demo [PATH] [--sessions N] [--seed S] [--force]``."""
    parser = argparse.ArgumentParser(prog="agno-nb-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="demo.db",
                        help="SQLite file to write; an earlier demo database there is replaced, anything else only with --force")
    parser.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, help="number of sessions (default 60)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 7)")
    parser.add_argument("--force", action="store_true", help="replace whatever file is at PATH")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        path = build(args.path, sessions=args.sessions, seed=args.seed, force=args.force)
    except (AgnoNbError, ValueError, OSError) as exc:
        print(f"agno-nb-demo: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.sessions} demo sessions (seed {args.seed}) to {path} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
