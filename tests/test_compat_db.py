"""SqliteDb / PostgresDb keep agno 3.1's session API: same parameters, same results.

Two halves:
- signatures: every method of Agno's session API on ``agno.db.sqlite.SqliteDb`` and
  ``agno.db.postgres.PostgresDb`` (agno 3.1.10, installed) is compared with
  ``inspect.signature`` against agno_nb's: same names at the same positions;
- behaviour: the same scenario runs through real agno and through agno_nb, side by side
  on SQLite and on PostgreSQL, and every answer is compared.
"""

from __future__ import annotations

import inspect
import os
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

os.environ.setdefault("AGNO_TELEMETRY", "false")

import agno.db.postgres as agno_pg  # noqa: E402
import agno.db.sqlite as agno_sqlite  # noqa: E402
from agno.db.base import SessionType as AgnoSessionType  # noqa: E402
from agno.run.base import RunStatus as AgnoRunStatus  # noqa: E402
from agno.session import AgentSession as AgnoAgentSession  # noqa: E402
from agno.session import TeamSession as AgnoTeamSession  # noqa: E402
from agno.session import WorkflowSession as AgnoWorkflowSession  # noqa: E402

import agno_nb  # noqa: E402
from agno_nb import RunStatus, SessionNotFoundError, SessionOwnershipError, SessionType  # noqa: E402
from agno_nb.db.postgres import PostgresDb  # noqa: E402
from agno_nb.db.sqlite import SqliteDb  # noqa: E402
from agno_nb.records import session_from_dict  # noqa: E402

# -- signatures ----------------------------------------------------------------------------

SESSION_METHODS = (
    "get_session", "get_sessions", "upsert_session", "upsert_sessions", "upsert_run", "get_run", "get_runs",
    "delete_run", "delete_runs", "delete_session", "delete_sessions", "rename_session",
)
# Agno parameters agno_nb deliberately leaves out, per (class, method). Also listed in
# docs/compat.md. Empty: every parameter of the methods above is accepted.
ALLOWED_OMISSIONS: dict = {}

PAIRS = [(SqliteDb, agno_sqlite.SqliteDb), (PostgresDb, agno_pg.PostgresDb)]


def _params(func):
    return [p for p in inspect.signature(func).parameters.values() if p.name != "self"]


def _check_signature(ours, theirs, where):
    mine = _params(ours)
    names = [p.name for p in mine]
    omitted = ALLOWED_OMISSIONS.get(where, set())
    for position, ref in enumerate(_params(theirs)):
        if ref.name in omitted:
            continue
        assert ref.name in names, f"{where}: Agno's parameter {ref.name!r} is missing"
        got = mine[names.index(ref.name)]
        if ref.kind in (ref.POSITIONAL_ONLY, ref.POSITIONAL_OR_KEYWORD):
            assert names.index(ref.name) == position, (
                f"{where}: {ref.name!r} is at position {names.index(ref.name)}, Agno has it at {position}")
            assert got.kind == ref.POSITIONAL_OR_KEYWORD, f"{where}: {ref.name!r} must be positional-or-keyword"
        assert (got.default is inspect.Parameter.empty) == (ref.default is inspect.Parameter.empty), (
            f"{where}: {ref.name!r} is {'required' if ref.default is inspect.Parameter.empty else 'optional'} in Agno")
        if ref.default is not inspect.Parameter.empty:
            assert got.default == ref.default, f"{where}: {ref.name!r} defaults to {got.default!r}, Agno to {ref.default!r}"
    # anything agno_nb adds comes after Agno's parameters and is keyword-only or optional
    extra = [p for p in mine[len(_params(theirs)):]]
    assert all(p.kind == p.KEYWORD_ONLY or p.default is not inspect.Parameter.empty for p in extra), where


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=["sqlite", "postgres"])
@pytest.mark.parametrize("method", ("__init__", *SESSION_METHODS))
def test_signature_matches_agno(ours, theirs, method):
    _check_signature(getattr(ours, method), getattr(theirs, method), (ours.__name__, method))


def test_signature_check_catches_the_old_order():
    """The check itself fails on agno_nb's pre-3.1-compat signatures (so it can fail)."""
    def old_get_session(self, session_id, user_id=None): ...
    def old_upsert_run(self, session_id, run, user_id=None): ...
    def old_rename(self, session_id, session_name, user_id=None): ...
    for old, name in ((old_get_session, "get_session"), (old_upsert_run, "upsert_run"), (old_rename, "rename_session")):
        with pytest.raises(AssertionError):
            _check_signature(old, getattr(agno_sqlite.SqliteDb, name), ("old", name))


def test_enums_have_agnos_members_and_work_as_strings():
    assert {m.name: m.value for m in SessionType} == {m.name: m.value for m in AgnoSessionType}
    assert {m.name: m.value for m in RunStatus} == {m.name: m.value for m in AgnoRunStatus}
    assert agno_nb.SessionType is SessionType and agno_nb.db.SessionType is SessionType
    assert agno_nb.db.RunStatus is RunStatus
    assert SessionType.AGENT == "agent" and str(SessionType.TEAM) == "team" and f"{RunStatus.error}" == "ERROR"
    assert {"agent": 1}[SessionType.AGENT] == 1 and {SessionType.WORKFLOW: 2}["workflow"] == 2


# -- behaviour: the same scenario through agno and agno_nb -----------------------------------

SESSIONS = [
    {"session_id": "s1", "session_type": "agent", "agent_id": "a1", "user_id": "alice", "created_at": 1000,
     "session_data": {"session_name": "Trip to Paris"}, "metadata": {"k": 1}},
    {"session_id": "s2", "session_type": "agent", "agent_id": "a2", "user_id": "alice", "created_at": 1001,
     "session_data": {"session_name": "Groceries"}},
    {"session_id": "s3", "session_type": "agent", "agent_id": "a1", "user_id": "bob", "created_at": 1002},
    {"session_id": "t1", "session_type": "team", "team_id": "crew", "user_id": "bob", "created_at": 1003,
     "session_data": {"session_name": "paris team"}},
    {"session_id": "w1", "session_type": "workflow", "workflow_id": "flow", "created_at": 1004},
]
RUNS = [  # (session_id, user_id, run)
    ("s1", "alice", {"run_id": "s1-r1", "agent_id": "a1", "session_id": "s1", "status": "COMPLETED",
                     "content": "one", "input": {"input_content": "q1"}, "created_at": 2000}),
    ("s1", "alice", {"run_id": "s1-r2", "agent_id": "a1", "session_id": "s1", "status": "ERROR",
                     "content": "failed", "created_at": 2001}),
    ("s1", "alice", {"run_id": "s1-r3", "agent_id": "a1", "session_id": "s1", "status": "COMPLETED",
                     "content": "three", "created_at": 2002}),
    ("s1", "alice", {"run_id": "s1-r4", "agent_id": "a9", "session_id": "s1", "parent_run_id": "s1-r3",
                     "status": "COMPLETED", "content": "sub-run", "created_at": 2003}),
    ("s3", "bob", {"run_id": "s3-r1", "agent_id": "a1", "session_id": "s3", "status": "PAUSED", "created_at": 2004}),
    ("t1", "bob", {"run_id": "t1-r1", "team_id": "crew", "session_id": "t1", "status": "COMPLETED",
                   "content": "team answer", "created_at": 2005}),
    ("t1", "bob", {"run_id": "t1-m1", "agent_id": "m", "session_id": "t1", "parent_run_id": "t1-r1",
                   "status": "COMPLETED", "content": "member answer", "created_at": 2006}),
    ("w1", None, {"run_id": "w1-r1", "workflow_id": "flow", "session_id": "w1", "status": "RUNNING",
                  "created_at": 2007}),
]
AGNO_SESSION_CLASSES = {"agent": AgnoAgentSession, "team": AgnoTeamSession, "workflow": AgnoWorkflowSession}


def _agno_session(data):
    return AGNO_SESSION_CLASSES[data["session_type"]].from_dict(data)


def _ours_session(data):
    return session_from_dict(data)


@pytest.fixture
def pair(backend, tmp_path, request):
    """(theirs, ours): real agno 3.1 and agno_nb, each on its own fresh database of ``backend``."""
    if backend == "sqlite":
        theirs = agno_sqlite.SqliteDb(db_file=str(tmp_path / "agno.db"))
        ours = SqliteDb(db_file=str(tmp_path / "agno_nb.db"))
    elif backend == "mysql":  # tests/test_mysql.py runs these scenarios on MySQL
        import agno.db.mysql as agno_mysql

        from agno_nb.db.mysql import MySQLDb

        url, schema = request.getfixturevalue("mysql_url"), request.getfixturevalue("mysql_schema")
        theirs = agno_mysql.MySQLDb(db_url=url, db_schema=f"{schema}_agno")
        ours = MySQLDb(db_url=url, db_schema=f"{schema}_nb")
    else:
        url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
        theirs = agno_pg.PostgresDb(db_url=url, db_schema=f"{schema}_agno")
        ours = PostgresDb(url, db_schema=f"{schema}_nb")
    sides = (
        SimpleNamespace(db=theirs, T=AgnoSessionType, S=AgnoRunStatus, session=_agno_session, name="agno"),
        SimpleNamespace(db=ours, T=SessionType, S=RunStatus, session=_ours_session, name="agno_nb"),
    )
    for side in sides:
        for data in SESSIONS:
            side.db.upsert_session(side.session(data))
        for session_id, user_id, run in RUNS:
            side.db.upsert_run(dict(run), session_id, user_id=user_id)
    yield sides
    theirs.db_engine.dispose()
    ours.close()


_JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")


def _norm(value):
    """Results made comparable: write-time stamps (``updated_at``) dropped, enums as values.

    An empty JSON column counts as NULL: Agno's WorkflowSession serializes absent
    ``session_data``/``metadata`` as ``{}`` (how records serialize is the records'
    business, tested with them; here the storage is compared).
    """
    if isinstance(value, dict):
        return {k: (None if k in _JSON_COLUMNS and v == {} else _norm(v)) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, (list, tuple)):
        return type(value)(_norm(v) for v in value)
    return getattr(value, "value", value)


def _view(obj):
    """A deserialized session or run, by the attributes both libraries share."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [_view(o) for o in obj]
    if hasattr(obj, "session_data"):
        return _norm({"class": type(obj).__name__, "session_id": obj.session_id, "user_id": obj.user_id,
                "agent_id": getattr(obj, "agent_id", None), "team_id": getattr(obj, "team_id", None),
                "workflow_id": getattr(obj, "workflow_id", None), "session_data": obj.session_data,
                "metadata": obj.metadata, "created_at": obj.created_at,
                "runs": None if obj.runs is None else [r.run_id for r in obj.runs]})
    return {"run_id": obj.run_id, "content": obj.content, "parent_run_id": obj.parent_run_id,
            "status": getattr(obj.status, "value", obj.status), "session_id": obj.session_id}


def same(pair, call, view=_norm):
    """Run ``call(side)`` on agno and on agno_nb; the answers must be equal. Returns agno_nb's."""
    theirs, ours = (call(side) for side in pair)
    assert view(ours) == view(theirs)
    return ours


def ids(sessions):
    return sorted(s.session_id for s in sessions)


def test_create_and_read(pair):
    for data in SESSIONS:
        same(pair, lambda x: x.db.get_session(data["session_id"], deserialize=False))
        same(pair, lambda x: x.db.get_session(data["session_id"]), _view)
    # the headline bug: the session type as second positional argument, as Agno's docs write it
    got = same(pair, lambda x: x.db.get_session("s2", x.T.AGENT), _view)
    assert got is not None and got.session_id == "s2"
    # session_type picks the record class; it does not filter (as in Agno)
    same(pair, lambda x: type(x.db.get_session("t1", x.T.TEAM)).__name__)
    same(pair, lambda x: type(x.db.get_session("w1", None)).__name__)
    same(pair, lambda x: x.db.get_session("missing"))
    same(pair, lambda x: [r["run_id"] for r in x.db.get_session("t1", x.T.TEAM, deserialize=False)["runs"]])


def test_filter(pair):
    # each answer is agno's and agno_nb's alike, and the one SESSIONS holds: two empty answers do not pass
    assert same(pair, lambda x: ids(x.db.get_sessions(x.T.AGENT))) == ["s1", "s2", "s3"]
    assert same(pair, lambda x: ids(x.db.get_sessions(session_type=x.T.TEAM))) == ["t1"]
    assert same(pair, lambda x: ids(x.db.get_sessions(user_id="bob"))) == ["s3", "t1"]
    assert same(pair, lambda x: ids(x.db.get_sessions(component_id="a1"))) == ["s1", "s3"]
    assert same(pair, lambda x: ids(x.db.get_sessions(x.T.TEAM, component_id="crew"))) == ["t1"]
    assert same(pair, lambda x: ids(x.db.get_sessions(x.T.AGENT, component_id="crew"))) == []  # a team's id
    assert same(pair, lambda x: ids(x.db.get_sessions(session_name="paris"))) == ["s1", "t1"]
    assert same(pair, lambda x: ids(x.db.get_sessions(start_timestamp=1001, end_timestamp=1003))) == ["s2", "s3", "t1"]
    assert same(pair, lambda x: ids(x.db.get_sessions(x.T.AGENT, "alice", "a1"))) == ["s1"]


def test_sort_and_page(pair):
    for order in ("asc", "desc"):
        for key in ("created_at", "session_id", "updated_at"):
            same(pair, lambda x: [s.session_id for s in x.db.get_sessions(sort_by=key, sort_order=order)])
        same(pair, lambda x: [s.session_id for s in x.db.get_sessions(limit=2, page=2, sort_by="created_at",
                                                                      sort_order=order)])
    same(pair, lambda x: [s.session_id for s in x.db.get_sessions(limit=2, page=9, sort_by="created_at")])
    for bad in ({"page": 1}, {"limit": 2, "page": 0}):
        same(pair, lambda x: pytest.raises(ValueError, x.db.get_sessions, **bad).type)


def test_deserialize_false_returns_dicts_and_total(pair):
    rows, total = same(pair, lambda x: x.db.get_sessions(limit=2, page=1, sort_by="created_at", sort_order="asc",
                                                         deserialize=False))
    assert total == len(SESSIONS) and [r["session_id"] for r in rows] == ["s1", "s2"]
    assert [r["run_id"] for r in rows[0]["runs"]] == ["s1-r1", "s1-r2", "s1-r3", "s1-r4"]
    same(pair, lambda x: x.db.get_sessions(x.T.TEAM, deserialize=False))
    rows, _ = same(pair, lambda x: x.db.get_sessions(include_runs=False, sort_by="session_id", deserialize=False))
    assert all(r["runs"] is None for r in rows)
    same(pair, lambda x: [s.runs for s in x.db.get_sessions(include_runs=False, sort_by="session_id")])
    same(pair, lambda x: x.db.get_run("t1-m1", deserialize=False))
    same(pair, lambda x: x.db.get_runs(session_id="s1", deserialize=False))
    same(pair, lambda x: x.db.get_runs(deserialize=False, limit=3, page=2))


def test_runs_limit_gives_the_last_context_relevant_runs(pair):
    for n in (0, 1, 2, 10):
        got = same(pair, lambda x: x.db.get_session("s1", runs_limit=n, deserialize=False))
        same(pair, lambda x: x.db.get_session("s1", x.T.AGENT, runs_limit=n), _view)
    # ERROR runs and sub-runs (parent_run_id) are not context: the last two are r1 and r3
    assert [r["run_id"] for r in same(pair, lambda x: x.db.get_session("s1", runs_limit=2, deserialize=False))["runs"]] \
        == ["s1-r1", "s1-r3"]
    assert got["runs"] and len(got["runs"]) == 2
    same(pair, lambda x: x.db.get_session("s3", runs_limit=5, deserialize=False))  # PAUSED only: none
    same(pair, lambda x: x.db.get_session("t1", runs_limit=5, deserialize=False))  # member run left out


def test_runs_queries(pair):
    # as test_filter: agno's answer, agno_nb's, and the one RUNS holds
    run = same(pair, lambda x: x.db.get_run("s1-r3"), _view)
    assert (run.run_id, run.session_id, run.content) == ("s1-r3", "s1", "three")
    assert same(pair, lambda x: x.db.get_run("nope")) is None
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(session_id="s1")]) == \
        ["s1-r1", "s1-r2", "s1-r3", "s1-r4"]
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(status=x.S.error)]) == ["s1-r2"]
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(user_id="bob")]) == ["s3-r1", "t1-r1", "t1-m1"]
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(agent_id="a1", sort_by="created_at",
                                                                 sort_order="desc")]) == \
        ["s3-r1", "s1-r3", "s1-r2", "s1-r1"]
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(team_id="crew")]) == ["t1-r1"]
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(workflow_id="flow", status="RUNNING")]) == ["w1-r1"]
    assert same(pair, lambda x: [r.run_id for r in x.db.get_runs(limit=3, page=2, sort_by="created_at",
                                                                 sort_order="asc")]) == ["s1-r4", "s3-r1", "t1-r1"]
    assert same(pair, lambda x: x.db.get_runs(session_id="s1", limit=1, deserialize=False)[1]) == 4


def test_rename(pair):
    renamed = same(pair, lambda x: x.db.rename_session("s2", x.T.AGENT, "Weekly shop", deserialize=False))
    assert renamed["session_data"] == {"session_name": "Weekly shop"}
    same(pair, lambda x: x.db.rename_session("s1", x.T.AGENT, "Alice's", user_id="alice"), _view)
    # (agno's SQLite rename re-serializes its run objects, adding defaults: compare the runs by id)
    same(pair, lambda x: x.db.rename_session("t1", x.T.TEAM, "Crew", "bob", False),
         view=lambda d: _norm({**d, "runs": [r["run_id"] for r in d["runs"]]}))
    # a session without session_data: agno 3.1 on PostgreSQL fails here (jsonb_set on NULL); agno_nb renames it
    assert pair[1].db.rename_session("s3", SessionType.AGENT, "Bob's", user_id="bob").session_name == "Bob's"
    same(pair, lambda x: x.db.rename_session("missing", x.T.AGENT, "x"))
    same(pair, lambda x: ids(x.db.get_sessions(session_name="weekly")))
    same(pair, lambda x: x.db.get_session("s2", deserialize=False))


def test_user_isolation(pair):
    same(pair, lambda x: x.db.get_session("s1", x.T.AGENT, "bob"))
    same(pair, lambda x: x.db.get_session("s1", x.T.AGENT, "alice"), _view)
    same(pair, lambda x: ids(x.db.get_sessions(user_id="alice")))
    same(pair, lambda x: x.db.rename_session("s1", x.T.AGENT, "stolen", user_id="bob"))
    same(pair, lambda x: x.db.delete_session("s1", user_id="bob"))
    x_theirs, x_ours = pair
    x_ours.db.delete_sessions(["s1", "s2", "t1"], user_id="bob")
    x_theirs.db.delete_sessions(["s1", "s2", "t1"], user_id="bob")
    same(pair, lambda x: ids(x.db.get_sessions()))  # only bob's t1 went
    same(pair, lambda x: [r.run_id for r in x.db.get_runs(session_id="t1")])
    # writing another user's session: Agno silently writes nothing (None); agno_nb refuses loudly.
    # Either way the stored session is unchanged.
    hijack = {"session_id": "s1", "session_type": "agent", "agent_id": "evil", "user_id": "bob", "created_at": 1}
    assert x_theirs.db.upsert_session(x_theirs.session(hijack)) is None
    with pytest.raises(SessionOwnershipError, match="s1"):
        x_ours.db.upsert_session(x_ours.session(hijack))
    with pytest.raises(SessionOwnershipError, match="s1"):
        x_ours.db.upsert_sessions([x_ours.session(hijack)])
    same(pair, lambda x: x.db.get_session("s1", deserialize=False))


def test_runs_need_their_session_and_deletes_cascade(pair):
    x_theirs, x_ours = pair
    orphan = {"run_id": "orphan", "agent_id": "a1", "session_id": "ghost", "created_at": 3000}
    with pytest.raises(sa.exc.IntegrityError):
        x_theirs.db.upsert_run(dict(orphan), "ghost")
    with pytest.raises(SessionNotFoundError, match="ghost"):
        x_ours.db.upsert_run(dict(orphan), "ghost")
    same(pair, lambda x: x.db.get_run("orphan"))
    same(pair, lambda x: x.db.delete_run("s1-r2"))
    same(pair, lambda x: x.db.delete_run("s1-r2"))  # already gone: False
    x_theirs.db.delete_runs(["s1-r3", "t1-m1"])
    assert x_ours.db.delete_runs(["s1-r3", "t1-m1"]) == 2
    same(pair, lambda x: [r.run_id for r in x.db.get_runs()])
    same(pair, lambda x: x.db.delete_session("s3"))
    same(pair, lambda x: x.db.delete_session("s3"))
    x_theirs.db.delete_sessions(["t1", "w1", "nope"])
    assert x_ours.db.delete_sessions(["t1", "w1", "nope"]) == 2
    same(pair, lambda x: ids(x.db.get_sessions()))
    same(pair, lambda x: x.db.get_runs(deserialize=False))  # the deleted sessions' runs went with them


def test_upsert_sessions_and_preserve_updated_at(pair):
    batch = [{"session_id": f"b{i}", "session_type": "agent", "agent_id": "bulk", "user_id": "carol",
              "created_at": 5000 + i, "updated_at": 6000 + i} for i in range(3)]
    kept = same(pair, lambda x: sorted(s["updated_at"] for s in x.db.upsert_sessions(
        [x.session(d) for d in batch], deserialize=False, preserve_updated_at=True)), view=lambda v: v)
    assert kept == [6000, 6001, 6002]
    same(pair, lambda x: sorted((s.session_id, s.updated_at) for s in x.db.get_sessions(component_id="bulk")),
         view=lambda v: v)
    stamped = same(pair, lambda x: [s.session_id for s in x.db.upsert_sessions([x.session(d) for d in batch])],
                   view=sorted)
    assert sorted(stamped) == ["b0", "b1", "b2"]
    assert all(s.updated_at > 10_000 for s in pair[1].db.get_sessions(component_id="bulk"))
    same(pair, lambda x: x.db.upsert_session(x.session(batch[0]), deserialize=False)["created_at"])


# -- what only agno_nb has, and the other tables ------------------------------------------------


def test_other_agno_tables_construct_and_their_features_say_not_implemented(tmp_path):
    db = SqliteDb(db_file=str(tmp_path / "a.db"), memory_table="mem", metrics_table="met", traces_table="tr",
                  knowledge_table="kn", id="my-db")
    assert db.id == "my-db" and db.other_tables["memory_table"] == "mem"
    for call, feature in ((lambda: db.get_user_memory("m1"), "user memories"),
                          (lambda: db.upsert_user_memory(object()), "user memories"),
                          (lambda: db.get_metrics(), "metrics"), (lambda: db.get_traces(), "traces"),
                          (lambda: db.get_knowledge_contents(), "knowledge")):
        with pytest.raises(NotImplementedError, match=feature) as err:
            call()
        assert "sessions" in str(err.value) and "agno_nb" in str(err.value)
    with pytest.raises(AttributeError):
        db.no_such_thing  # noqa: B018 - a typo stays an AttributeError
    insp = sa.inspect(db.db_engine)
    db.upsert_session(session_from_dict({"session_id": "s", "agent_id": "a"}))
    assert set(insp.get_table_names()) == {"agno_sessions", "agno_runs", "agno_schema_versions"}


def test_positional_arguments_in_agnos_order(tmp_path, pg_url, pg_schema):
    path = str(tmp_path / "p.db")
    db = SqliteDb(path, None, None, "my_sessions", "my_runs")
    assert (db.db_file, db.session_table_name, db.runs_table_name) == (path, "my_sessions", "my_runs")
    pg = PostgresDb(pg_url, None, pg_schema, "pg_sessions")
    assert (pg.db_schema, pg.session_table_name, pg.runs_table_name) == (pg_schema, "pg_sessions", "pg_sessions_runs")
    assert PostgresDb(pg_url).db_schema == "ai" == PostgresDb(pg_url, db_schema=None).db_schema
    assert SqliteDb(db_file=path).id == SqliteDb(db_file=path).id != SqliteDb(db_file=path + "x").id
    pg.close()


def test_db_engine_is_used_and_exposed(tmp_path, pg_url, pg_schema):
    path = str(tmp_path / "e.db")
    agno_side = agno_sqlite.SqliteDb(db_file=path)
    agno_side.upsert_session(AgnoAgentSession(session_id="s1", agent_id="a", user_id="u", created_at=5))
    agno_side.upsert_run({"run_id": "r1", "agent_id": "a", "content": "hi", "created_at": 6}, "s1", user_id="u")
    engine = sa.create_engine(f"sqlite:///{path}")
    db = SqliteDb(db_engine=engine)
    assert db.db_engine is engine and db.db_file == path
    assert [r.content for r in db.get_session("s1", SessionType.AGENT, "u").runs] == ["hi"]
    db.upsert_run({"run_id": "r2", "agent_id": "a", "content": "more"}, "s1", "u")
    assert [r.run_id for r in agno_side.get_session("s1", AgnoSessionType.AGENT).runs] == ["r1", "r2"]
    with pytest.raises(ValueError, match="one of"):
        SqliteDb(db_file=path, db_engine=engine)

    pg_engine = sa.create_engine(pg_url)
    pg = PostgresDb(db_engine=pg_engine, db_schema=pg_schema)
    assert pg.db_engine is pg_engine and pg.db_url is None
    pg.upsert_session(session_from_dict({"session_id": "s1", "agent_id": "a"}))
    theirs = agno_pg.PostgresDb(db_engine=pg_engine, db_schema=pg_schema)
    assert theirs.get_session("s1", AgnoSessionType.AGENT).agent_id == "a"
    with pytest.raises(ValueError, match="db_url or db_engine"):
        PostgresDb()
    pg_engine.dispose()
    engine.dispose()


def test_create_schema_false_leaves_the_schema_to_the_user(pg_url, pg_schema):
    db = PostgresDb(pg_url, db_schema=pg_schema, create_schema=False)
    with pytest.raises(sa.exc.ProgrammingError):
        db.upsert_session(session_from_dict({"session_id": "s1"}))
    db.close()
    with sa.create_engine(pg_url).begin() as conn:
        conn.execute(sa.text(f'create schema "{pg_schema}"'))
    db = PostgresDb(pg_url, db_schema=pg_schema, create_schema=False)
    db.upsert_session(session_from_dict({"session_id": "s1"}))
    assert db.get_session("s1").session_id == "s1"
    db.close()


def test_strings_and_agnos_enums_are_accepted_too(make_db):
    db = make_db()
    for data in SESSIONS:
        db.upsert_session(_ours_session(data))
    for session_id, user_id, run in RUNS:
        db.upsert_run(dict(run), session_id, user_id)
    for kind in ("team", SessionType.TEAM, AgnoSessionType.TEAM):
        assert ids(db.get_sessions(kind)) == ["t1"]
        assert type(db.get_session("t1", kind)).__name__ == "TeamSession"
    for status in ("ERROR", RunStatus.error, AgnoRunStatus.error):
        assert [r.run_id for r in db.get_runs(status=status)] == ["s1-r2"]
    with pytest.raises(ValueError, match="session_type"):
        db.get_sessions("agents")
    # enum members written into records are stored as their plain values
    from agno_nb.records import RunOutput, TeamSession

    db.upsert_session(TeamSession(session_id="t2", session_type=SessionType.TEAM, team_id="crew"))
    db.upsert_run(RunOutput(run_id="t2-r1", team_id="crew", status=RunStatus.paused), "t2")
    row = db.get_run("t2-r1", deserialize=False)
    assert row["status"] == "PAUSED" and type(row["status"]) is str and row["run_data"]["status"] == "PAUSED"
    assert db.get_session("t2", deserialize=False)["session_type"] == "team"
    # the old agno_nb argument orders now fail loudly instead of binding to the wrong parameter
    with pytest.raises(TypeError, match="Agno's order"):
        db.upsert_run("s1", dict(RUNS[0][2]))
    with pytest.raises(TypeError):
        db.rename_session("s1", "New name")


def test_upsert_session_also_stores_its_runs(make_db):
    """agno_nb's one difference in upsert_session: the session's runs are written too."""
    db = make_db()
    session = _ours_session({**SESSIONS[0], "runs": [run for sid, _, run in RUNS if sid == "s1"]})
    db.upsert_session(session)
    assert [r.run_id for r in db.get_session("s1").runs] == ["s1-r1", "s1-r2", "s1-r3", "s1-r4"]
    assert [r.run_id for r in db.get_session("s1", runs_limit=1).runs] == ["s1-r3"]


def test_run_methods_on_an_agno_29_database(fixture_copy):
    """Agno 2.x keeps runs in a JSON column: get_run(s), runs_limit and delete_run read and edit it in place."""
    db = SqliteDb(db_file=fixture_copy("agno-2.9-sqlite.db"))
    runs = db.get_runs(session_id="lit-0")
    assert len(runs) == 3 and all(r.session_id == "lit-0" for r in runs)
    rows, total = db.get_runs(session_id="lit-0", limit=2, page=2, deserialize=False)
    assert total == 3 and [r["run_id"] for r in rows] == [runs[2].run_id] and rows[0]["run_index"] == 2
    assert db.get_run(runs[1].run_id).content == runs[1].content
    assert [r.run_id for r in db.get_session("lit-0", SessionType.AGENT, runs_limit=2).runs] == [r.run_id for r in runs[1:]]
    assert db.delete_run(runs[0].run_id) is True and db.get_run(runs[0].run_id) is None
    assert [r.run_id for r in db.get_session("lit-0").runs] == [r.run_id for r in runs[1:]]
    assert not sa.inspect(db.db_engine).has_table("agno_runs")  # still not migrated
