"""What real agno 3.1 stores and agno_nb used to drop or mix up (issue 18, findings 6 and 7).

A database written once by the real agno package (through the local OpenAI-compatible
server): an agent with a reasoning model, an image (bytes and URL) and a file on its input
and run metadata; a streamed run; a team delegating to a member; a two-step workflow; a
session summary with topics. Each column is held against agno's own API.
"""

import base64
import json
import math
import os
import warnings

import pytest

import agno_nb
from _helpers import get_weather
from agno_nb.testing import FakeOpenAIServer

os.environ.setdefault("AGNO_TELEMETRY", "false")

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
CSV = b"city,temp\nParis,21\n"
PRICES = {"fake": (1.0, 2.0), "fake-reasoner": (3.0, 6.0)}  # USD per million tokens, in and out


def write_with_agno(db):
    """Have the real agno write every case of this file into ``db`` (an agno db object)."""
    from agno.agent import Agent
    from agno.media import File, Image
    from agno.models.openai.like import OpenAILike
    from agno.session.summary import SessionSummary
    from agno.team import Team
    from agno.workflow import Workflow
    from agno.workflow.step import Step

    args = {"get_weather": {"city": "Paris"},
            "delegate_task_to_member": {"member_id": "weather", "task": "Weather in Paris"}}
    with FakeOpenAIServer(tool_args=args) as server:
        def model(mid="fake"):
            return OpenAILike(id=mid, base_url=server.base_url, api_key="none")

        thinker = Agent(id="thinker", model=model("fake-reasoner"), db=db, metadata={"team": "research"})
        thinker.run("Describe this", session_id="s-agent", metadata={"ticket": 7},
                    images=[Image(content=PNG, format="png"), Image(url="https://example.com/cat.png")],
                    files=[File(content=CSV, mime_type="text/csv", filename="temps.csv")])
        list(thinker.run("And again", session_id="s-agent", stream=True))
        session = thinker.get_session(session_id="s-agent")
        session.summary = SessionSummary(summary="Looked at a picture of Paris", topics=["paris", "images"])
        db.upsert_session(session)

        members = [Agent(id="weather", name="Weather", model=model(), tools=[get_weather]),
                   Agent(id="writer", name="Writer", model=model())]
        Team(id="travel-team", members=members, model=model(), db=db).run("Plan a trip to Paris", session_id="s-team")

        steps = [Step(name="research", agent=Agent(id="researcher", model=model())),
                 Step(name="write", agent=Agent(id="author", model=model()))]
        Workflow(id="blog", name="blog", db=db, steps=steps).run("Write about Paris", session_id="s-workflow")


@pytest.fixture(scope="module")
def agno_file(tmp_path_factory):
    """(path, agno's db object) of a SQLite file real agno 3.1 wrote."""
    from agno.db.sqlite import SqliteDb

    path = str(tmp_path_factory.mktemp("agno") / "agno.db")
    db = SqliteDb(db_file=path)
    write_with_agno(db)
    return path, db


@pytest.fixture
def ex(agno_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the models have no price unless a test sets one
        yield agno_nb.connect(agno_file[0], progress=False)


@pytest.fixture
def priced():
    from agno_nb import prices

    for model, (inp, out) in PRICES.items():
        prices.set(model, input=inp, output=out)
    yield
    for model in PRICES:
        prices.unset(model)


def _agno_runs(db, session_id):
    """The runs agno itself reads back for a session."""
    return db.get_session(session_id=session_id, session_type=_kind(session_id)).runs


def _by_type(df, run_type):
    rows = df[df["run_type"] == run_type]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# -- finding 6: fields agno stores ---------------------------------------------------------------

def test_a_workflow_runs_input_is_the_string_agno_stored(ex, agno_file):
    """Agno stores a workflow run's input as the value itself: the column read NULL."""
    (wf_run,) = _agno_runs(agno_file[1], "s-workflow")
    assert wf_run.input == "Write about Paris"  # agno's own record
    runs = ex.runs(session_ids=["s-workflow"])
    assert _by_type(runs, "workflow")["input"] == "Write about Paris"
    # agent and team runs keep reading input.input_content
    assert ex.runs(session_ids=["s-team"]).set_index("run_type")["input"].to_dict() == {
        "team": "Plan a trip to Paris", "agent": "Weather in Paris"}
    assert ex.runs(columns=["input"], session_ids=["s-workflow"])["input"].tolist()[0] == "Write about Paris"


def test_reasoning_content_on_runs_and_assistant_messages(ex, agno_file):
    theirs = _agno_runs(agno_file[1], "s-agent")
    runs = ex.runs(session_ids=["s-agent"]).sort_values("run_index")
    assert runs["reasoning_content"].tolist() == [r.reasoning_content for r in theirs]
    assert all(r.reasoning_content for r in theirs)  # both runs, the streamed one too
    messages = ex.messages(session_ids=["s-agent"])
    assistant = messages[messages["role"] == "assistant"]
    stored = [m.reasoning_content for r in theirs for m in r.messages if m.role == "assistant"]
    assert assistant["reasoning_content"].tolist() == stored
    assert messages[messages["role"] != "assistant"]["reasoning_content"].isna().all()
    # a model that does not reason leaves the column empty
    assert ex.runs(session_ids=["s-team"])["reasoning_content"].isna().all()


def test_media_on_the_runs_input_and_the_user_message_are_listed_without_their_bytes(ex, agno_file):
    (first, _) = _agno_runs(agno_file[1], "s-agent")
    assert first.input.images[0].content and first.input.images[1].url  # agno stored bytes and a URL
    run = ex.runs(session_ids=["s-agent"]).sort_values("run_index").iloc[0]
    assert (run["n_images"], run["n_files"], run["n_audio"], run["n_videos"]) == (2, 1, 0, 0)
    media = json.loads(run["media"])
    assert [(m["kind"], m["url"], m["filename"], m["mime_type"], m["format"], m["size"]) for m in media] == [
        ("image", None, None, None, "png", len(PNG)),
        ("image", "https://example.com/cat.png", None, None, None, None),
        ("file", None, "temps.csv", "text/csv", None, len(CSV)),
    ]
    assert base64.b64encode(PNG).decode()[:20] not in run["media"]  # never the content
    messages = ex.messages(session_ids=["s-agent"])
    user = messages[(messages["role"] == "user") & (messages["run_id"] == run["run_id"])].iloc[0]
    assert (user["n_images"], user["n_files"]) == (2, 1)
    assert json.loads(user["media"]) == media
    # nothing attached: zero counts and no listing
    assert (messages[messages["role"] != "user"]["n_images"] == 0).all()
    assert messages[messages["role"] != "user"]["media"].isna().all()


def test_run_metadata_session_state_and_summary_topics(ex, agno_file):
    theirs = {r.run_id: r for r in _agno_runs(agno_file[1], "s-agent")}
    for row in ex.runs(session_ids=["s-agent"]).itertuples():
        assert json.loads(row.metadata) == theirs[row.run_id].metadata
        assert json.loads(row.session_state) == theirs[row.run_id].session_state
    assert json.loads(ex.runs(session_ids=["s-agent"]).iloc[0]["metadata"]) == {"team": "research", "ticket": 7}
    sessions = ex.sessions().set_index("session_id")
    assert json.loads(sessions.loc["s-agent", "summary_topics"]) == ["paris", "images"]
    assert sessions.loc["s-agent", "summary"] == "Looked at a picture of Paris"
    assert sessions["summary_topics"].drop("s-agent").isna().all()


def test_describe_documents_the_new_columns():
    docs = agno_nb.describe()
    have = set(zip(docs["table"], docs["column"]))
    for table, column in [("runs", "reasoning_content"), ("runs", "media"), ("runs", "n_images"), ("runs", "metadata"),
                          ("runs", "session_state"), ("runs", "self_total_tokens"), ("runs", "cum_total_tokens"),
                          ("runs", "cum_cost_usd"), ("messages", "reasoning_content"), ("messages", "n_files"),
                          ("messages", "media"), ("sessions", "summary_topics"), ("sessions", "runs_total_tokens")]:
        assert (table, column) in have, (table, column)


# -- finding 7: figures that mean the same in every row -------------------------------------------

def test_self_and_cumulative_tokens_for_agent_team_and_workflow_runs(ex, agno_file):
    runs = ex.runs()
    team, member = _by_type(runs[runs.session_id == "s-team"], "team"), _by_type(runs[runs.session_id == "s-team"], "agent")
    # agno stores the leader's calls on the team run; its member is a run of its own
    assert team["self_total_tokens"] == team["total_tokens"]
    assert team["cum_total_tokens"] == team["total_tokens"] + member["total_tokens"]
    assert member["cum_total_tokens"] == member["self_total_tokens"] == member["total_tokens"]
    wf_runs = runs[runs.session_id == "s-workflow"]
    wf, steps = _by_type(wf_runs, "workflow"), wf_runs[wf_runs["run_type"] == "agent"]
    assert len(steps) == 2
    assert wf["self_total_tokens"] == 0  # a workflow calls no model itself
    assert wf["cum_total_tokens"] == steps["total_tokens"].sum()
    for kind in ("input", "output", "total"):
        # every model call counted once: the runs' own figures add up to the top-level runs' cumulative
        top = runs[runs["parent_run_id"].isna()]
        assert runs[f"self_{kind}_tokens"].sum() == top[f"cum_{kind}_tokens"].sum()


def test_workflow_runs_are_priced_like_the_others(ex, priced):
    runs = ex.runs()
    wf = _by_type(runs[runs.session_id == "s-workflow"], "workflow")
    steps = runs[(runs.session_id == "s-workflow") & (runs["run_type"] == "agent")]
    assert wf["cost_usd"] == 0.0  # was NaN: a workflow has no model
    expected = sum((r.input_tokens * 1.0 + r.output_tokens * 2.0) / 1e6 for r in steps.itertuples())
    assert math.isclose(wf["cum_cost_usd"], expected)
    team = _by_type(runs[runs.session_id == "s-team"], "team")
    members = runs[(runs.session_id == "s-team") & (runs["run_type"] == "agent")]
    assert math.isclose(team["cum_cost_usd"], team["cost_usd"] + members["cost_usd"].sum())
    sessions = ex.sessions().set_index("session_id")
    top = runs[runs["parent_run_id"].isna()].groupby("session_id")["cum_cost_usd"].sum()
    for sid, cost in top.items():
        assert math.isclose(sessions.loc[sid, "cost_usd"], cost)


def test_a_filtered_load_still_adds_up_whole_subtrees(ex):
    """team_id= leaves the member runs out; the team run's cum_ figures still count them."""
    whole = ex.runs(session_ids=["s-team"])
    team = _by_type(whole, "team")
    filtered = ex.runs(team_id="travel-team")
    filtered = filtered[filtered["run_type"] == "team"].iloc[0]
    assert filtered["cum_total_tokens"] == team["cum_total_tokens"] > team["total_tokens"]


def test_session_tokens_say_whose_they_are(ex, agno_file):
    """sessions' total_tokens are agno's stored session_metrics; runs_total_tokens adds up the runs."""
    sessions = ex.sessions().set_index("session_id")
    runs = ex.runs()
    for sid in ("s-agent", "s-team", "s-workflow"):
        stored = agno_file[1].get_session(session_id=sid, session_type=_kind(sid)).session_data["session_metrics"]
        assert sessions.loc[sid, "total_tokens"] == stored["total_tokens"]
        assert sessions.loc[sid, "runs_total_tokens"] == runs[runs.session_id == sid]["self_total_tokens"].sum()
        top = runs[(runs.session_id == sid) & runs["parent_run_id"].isna()]
        assert sessions.loc[sid, "runs_total_tokens"] == top["cum_total_tokens"].sum()
    docs = agno_nb.describe("sessions").set_index("column")["description"]
    assert "session_metrics" in docs["total_tokens"] and "runs_total_tokens" not in docs["total_tokens"]
    assert "total_tokens" in docs["runs_total_tokens"] and "may differ" in docs["runs_total_tokens"]


def _kind(session_id):
    from agno.db.base import SessionType

    return {"s-agent": SessionType.AGENT, "s-team": SessionType.TEAM, "s-workflow": SessionType.WORKFLOW}[session_id]


def test_an_id_given_under_the_wrong_filter_is_pointed_out(ex):
    with pytest.warns(UserWarning, match=r"'travel-team' is a team_id, not an agent_id: pass team_id='travel-team'"):
        assert ex.messages(agent_id="travel-team").empty
    with pytest.warns(UserWarning, match=r"'blog' is a workflow_id, not a team_id"):
        assert ex.sessions(team_id="blog").empty
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # an id that is nowhere, and a filter that matches, stay quiet
        assert ex.runs(agent_id="nobody").empty
        assert not ex.messages(team_id="travel-team").empty


# -- the replay shows what agno stored -------------------------------------------------------------

def _replay(ex, session_id):
    from agno_nb.widgets.replay import Replay

    return Replay(ex, session_id)


def _step_to(r, role, run_index=0):
    for i in range(r.n_steps):
        r.goto(i)
        msg, run = r.current_message, r.current_run
        if msg and msg["role"] == role and run["run_index"] == run_index:
            return r
    raise LookupError(role)


def test_replay_shows_reasoning_collapsed(ex):
    r = _step_to(_replay(ex, "s-agent"), "assistant")
    body = r.body.value
    assert '<details class="agno-reasoning"' in body and "<details class=\"agno-reasoning\" open" not in body
    assert "Thinking about 1 message(s) before answering." in body


def test_replay_shows_images_inline_a_url_as_a_link_and_files_by_name_and_size(ex):
    r = _step_to(_replay(ex, "s-agent"), "user")
    body = r.body.value
    assert f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in body
    assert '<a href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer nofollow"' in body
    assert "temps.csv" in body and f"text/csv · {len(CSV)} B" in body


def test_media_html_never_links_or_inlines_what_it_cannot_check():
    from agno_nb.widgets import html as h
    from agno_nb.widgets.data import image_data_url

    media = json.dumps([{"kind": "image", "url": "javascript:alert(1)"},
                        {"kind": "file", "filename": "<script>x</script>.txt", "size": 3},
                        {"kind": "image", "url": None, "format": "svg"}])
    svg = base64.b64encode(b"<svg onload=alert(1)></svg>").decode()
    out = h.media_html(media, [None, image_data_url(svg)])
    assert "<a " not in out and "<img" not in out and "<script>" not in out
    assert "javascript:alert(1)" in out  # shown as text
    assert image_data_url("not base64!") is None and image_data_url(base64.b64encode(PNG).decode()).startswith(
        "data:image/png;base64,")


def test_replay_shows_the_session_summary(ex):
    header = _replay(ex, "s-agent").children[0].value
    assert "Session summary — topics: paris, images" in header and "Looked at a picture of Paris" in header


def test_replay_context_never_claims_a_history_count_it_does_not_know(ex):
    """Agno stores no history copies by default: '0 from history' was a false claim."""
    r = _step_to(_replay(ex, "s-agent"), "assistant", run_index=1)
    r.show_context = True
    ctx = r.context.value
    assert "from history" not in ctx.replace("history not stored", "")
    assert "reconstructed" in ctx and "history not stored" in ctx


def test_replay_lists_a_workflow_runs_input(ex):
    r = _replay(ex, "s-workflow")
    labels = [label for label, _ in r.run_dropdown.options]
    assert any(label.startswith("1. workflow blog: Write about Paris") for label in labels), labels
    assert "Write about Paris" in r.header.value


# -- every source: PostgreSQL written by agno, a Parquet export, an OpenTelemetry file ----------------

FIELDS = {"runs": ["run_id", "input", "reasoning_content", "n_images", "n_files", "media", "metadata",
                   "self_total_tokens", "cum_total_tokens", "cost_usd"],
          "messages": ["run_id", "message_index", "reasoning_content", "n_images", "n_files", "media"],
          "sessions": ["session_id", "summary_topics", "total_tokens", "runs_total_tokens"]}


def _fields(ex, table, **filters):
    df = ex.table(table, **filters)[FIELDS[table]]
    key = FIELDS[table][:2] if table == "messages" else FIELDS[table][:1]
    return df.sort_values(key).astype(object).where(df.notna(), None).values.tolist()


def _without_ids(rows):
    return sorted(json.dumps(r[1:], default=str) for r in rows)


def test_postgres_written_by_agno_reads_the_same(ex, pg_url, pg_schema):
    from agno.db.postgres import PostgresDb

    db = PostgresDb(db_url=pg_url, db_schema=pg_schema)
    try:
        write_with_agno(db)
    finally:
        db.db_engine.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = agno_nb.connect(pg_url, db_schema=pg_schema, progress=False)
        for table in FIELDS:
            # the runs have ids and token counts of their own (the fake model counts words of
            # prompts that hold ids): the shapes and texts are compared
            mine = [[v for k, v in zip(FIELDS[table], r) if "token" not in k and k != "cost_usd"]
                    for r in _fields(pg, table)]
            theirs = [[v for k, v in zip(FIELDS[table], r) if "token" not in k and k != "cost_usd"]
                      for r in _fields(ex, table)]
            assert _without_ids(mine) == _without_ids(theirs), table


def test_the_parquet_export_and_otlp_file_hold_the_new_columns(ex, tmp_path, priced):
    exported = agno_nb.connect(ex.to_parquet(tmp_path / "export"), progress=False)
    traced = agno_nb.connect(ex.to_otlp(tmp_path / "sessions.jsonl"), progress=False)
    for table in FIELDS:
        assert _fields(exported, table) == _fields(ex, table), table
    assert _fields(exported, "runs", team_id="travel-team") == _fields(ex, "runs", team_id="travel-team")
    for table in ("runs", "sessions"):
        assert _fields(traced, table) == _fields(ex, table), table


def test_compare_counts_a_team_turn_with_its_members(ex):
    runs = ex.runs(session_ids=["s-team", "s-workflow"])
    team = _by_type(runs[runs.session_id == "s-team"], "team")
    w = agno_nb.compare(ex, "s-team", "s-workflow")
    metrics = w.metrics.set_index("session_id")["total_tokens"].to_dict()
    assert metrics == {"s-team": team["cum_total_tokens"],
                       "s-workflow": runs[runs.session_id == "s-workflow"]["self_total_tokens"].sum()}
    page = w._repr_html_()
    assert f"{team['cum_total_tokens']:,} tokens" in page and f"{team['total_tokens']:,} tokens" not in page


def test_a_column_spec_inside_a_new_json_column_still_reads(ex):
    """metadata and input are parsed whole now: a spec for a path inside them still works,
    beside columns that need the whole table parsed (cost_usd)."""
    from agno_nb import Column

    df = ex.runs(session_ids=["s-agent"], columns=["run_index", "cost_usd", Column(
        "ticket", "BIGINT", "The run's ticket", path="metadata.ticket"), Column(
        "image_list", "JSONTEXT", "Images as stored", path="input.images")]).sort_values("run_index")
    assert df["ticket"].tolist()[0] == 7 and df["ticket"].isna().tolist() == [False, True]
    assert len(json.loads(df["image_list"].iloc[0])) == 2


def test_replay_names_a_team_runs_tokens_with_its_members(ex):
    runs = ex.runs(session_ids=["s-team", "s-workflow"])
    team = _by_type(runs[runs.session_id == "s-team"], "team")
    header = _replay(ex, "s-team").header.value
    assert f"{team['total_tokens']:,} total" in header and f"{team['cum_total_tokens']:,} tokens with its nested runs" in header
    wf = _by_type(runs[runs.session_id == "s-workflow"], "workflow")
    assert f"{wf['cum_total_tokens']:,} tokens with its nested runs" in _replay(ex, "s-workflow").header.value


def test_replay_says_when_agnos_session_total_and_the_runs_differ():
    from agno_nb.widgets.data import SessionData
    from agno_nb.widgets.replay import session_header_html

    same = SessionData("s", {"session_type": "agent", "total_tokens": 10, "runs_total_tokens": 10}, [], [], {})
    differs = SessionData("s", {"session_type": "agent", "total_tokens": 158, "runs_total_tokens": 129}, [], [], {})
    assert "runs add up" not in session_header_html(same)
    assert "tokens 158 (Agno&#x27;s session total; its runs add up to 129)" in session_header_html(differs)


def test_a_continued_paused_run_shows_both_session_totals(tmp_path):
    """Agno's stored session total counts a paused run's first part again once it is continued:
    sessions() shows it as Agno stored it, beside the runs' own sum, and the replay says both."""
    from agno.agent import Agent
    from agno.db.base import SessionType
    from agno.db.sqlite import SqliteDb
    from agno.models.openai.like import OpenAILike
    from agno.tools import tool

    @tool(requires_confirmation=True)
    def delete_file(name: str) -> str:
        """Delete a file."""
        return f"deleted {name}"

    path = str(tmp_path / "paused.db")
    with FakeOpenAIServer(tool_args={"delete_file": {"name": "x.txt"}}) as server:
        db = SqliteDb(db_file=path)
        agent = Agent(id="cleaner", model=OpenAILike(id="fake", base_url=server.base_url, api_key="none"),
                      tools=[delete_file], db=db)
        paused = agent.run("Delete x.txt", session_id="p1")
        assert paused.is_paused
        for requirement in paused.active_requirements:
            requirement.confirm()
        agent.continue_run(run_response=paused, requirements=paused.requirements, session_id="p1")
    stored = db.get_session(session_id="p1", session_type=SessionType.AGENT).session_data["session_metrics"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = agno_nb.connect(path, progress=False)
        session = ex.sessions().iloc[0]
        runs = ex.runs()
        header = _replay(ex, "p1").children[0].value
    assert session["total_tokens"] == stored["total_tokens"]
    assert session["runs_total_tokens"] == runs["self_total_tokens"].sum() == runs["total_tokens"].sum()
    assert session["runs_total_tokens"] != session["total_tokens"]  # as agno stores them
    assert (f"tokens {session['total_tokens']:,} (Agno&#x27;s session total; its runs add up to "
            f"{session['runs_total_tokens']:,})") in header
