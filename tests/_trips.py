"""The travel-assistant sessions the browser tests display, written by agno_nb's own agents.

The browser tests build them in the test process (in a thread, while JupyterLab starts) and
their notebooks only ``agno_nb.connect`` the file, so every browser test shows the same
sessions: a failed run, agents whose tool trajectories differ, a long session.
"""

from __future__ import annotations

import json

from agno_nb import Agent
from agno_nb.agent.models import ModelError
from agno_nb.db.sqlite import SqliteDb
from agno_nb.models import ScriptedModel, tool_call

from _helpers import weather_tool

TIMEOUT_TEXT = "upstream model timed out after 30 s"
BIG = json.dumps({"rows": [{"id": i, "name": f"item {i}", "city": "Lisbon"} for i in range(300)]})
QUESTIONS = ["What's the weather in Lisbon?", "Find me a hotel in Lisbon for 3 nights.", "And in Atlantis?"]


def timeout(_):
    raise ModelError(TIMEOUT_TEXT)


# the trip's own forecasts (the scripted answers quote them); Atlantis fails, as in every test
get_weather = weather_tool({"Lisbon": "24C, sunny", "Oslo": "9C, light rain"})


def find_hotels(city: str, nights: int) -> str:
    """Hotels with a free room."""
    return json.dumps([{"name": "Casa Alfama", "price": 88 * nights}, {"name": "Tejo View", "price": 120 * nights}])


def every_hotel(city: str, nights: int) -> str:
    """Every hotel in a city (20 KB of JSON)."""
    return BIG


every_hotel.__name__ = "find_hotels"  # the tool's name, as the failed session called it


def lookup(i: int) -> str:
    """Looks a number up."""
    return f"value {i}"


def failed_trip(db: SqliteDb) -> None:
    """``trip-failed``: a weather run, then a hotel search whose 20 KB result precedes a model timeout."""
    flaky = Agent(id="flaky", db=db, tools=[every_hotel, get_weather], instructions=["Be brief."],
                  model=ScriptedModel([tool_call("get_weather", {"city": "Lisbon"}), "24C and sunny in Lisbon.",
                                       tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), timeout]))
    flaky.run(QUESTIONS[0], session_id="trip-failed", user_id="alice")
    flaky.run(QUESTIONS[1], session_id="trip-failed", user_id="alice")
    flaky.rename_session("trip-failed", "Lisbon trip: the hotel search timed out")


def three_trips(db: SqliteDb) -> None:
    """``trip-concise``, ``trip-no-hotels``, ``trip-plain``: the same questions, different tool calls."""
    scripts = {
        "concise": [tool_call("get_weather", {"city": "Lisbon"}), "24C and sunny.",
                    tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), "Casa Alfama, 264 EUR.",
                    tool_call("get_weather", {"city": "Atlantis"}), "No such city."],
        "no-hotels": [tool_call("get_weather", {"city": "Lisbon"}), "24C and sunny.",
                      tool_call("get_weather", {"city": "Lisbon"}), "No hotels, but it is sunny.",
                      tool_call("get_weather", {"city": "Atlantis"}), "No such city."],
        "plain": ["Sunny, I think.", "Try Casa Alfama.", "Atlantis is a legend."],
    }
    for name, script in scripts.items():
        agent = Agent(id=name, db=db, tools=[get_weather, find_hotels], model=ScriptedModel(script))
        for q in QUESTIONS:
            agent.run(q, session_id=f"trip-{name}", user_id="bob")


def two_agents(db: SqliteDb) -> None:
    """``trip-concise`` and ``trip-chatty``: four questions, the same first two turns, then apart."""
    questions = [*QUESTIONS[:2], "What should I pack for Oslo?", "And the weather in Atlantis?"]
    common = [tool_call("get_weather", {"city": "Lisbon"}), "It is 24C and sunny in Lisbon.",
              tool_call("find_hotels", {"city": "Lisbon", "nights": 3}), "Casa Alfama: 264 EUR for 3 nights."]
    concise = Agent(name="Concise", id="concise", db=db, tools=[get_weather, find_hotels],
                    instructions=["Answer in one sentence."], add_history_to_context=True, num_history_runs=1,
                    model=ScriptedModel(common + [tool_call("get_weather", {"city": "Oslo"}),
                                                  "Pack a rain jacket: 9C and light rain.",
                                                  tool_call("get_weather", {"city": "Atlantis"}),
                                                  "Sorry, I cannot find Atlantis."]))
    chatty = Agent(name="Chatty", id="chatty", db=db, tools=[get_weather, find_hotels],
                   model=ScriptedModel(common + ["Pack layers, a sweater and sunglasses for Oslo.",
                                                 "Atlantis is a legend; no forecast exists."]))
    for q in questions:
        concise.run(q, session_id="trip-concise", user_id="alice")
        chatty.run(q, session_id="trip-chatty", user_id="alice")


def long_session(db: SqliteDb, n_runs: int) -> None:
    """``long``: ``n_runs`` runs alternating a tool call turn (4 messages) and a plain one (2)."""
    long = Agent(id="long", db=db, tools=[lookup],
                 model=ScriptedModel([tool_call("lookup", {"i": 1}), "found it", "plain answer"], cycle=True))
    for i in range(n_runs):
        long.run(f"question {i}", session_id="long", user_id="carol")
