"""Property tests: any session written through agno_nb reads back equal, by the db methods and as DataFrames."""

import json
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agno_nb
from agno_nb import AgentSession, Message, Metrics, RunOutput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

json_scalars = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)

messages = st.builds(
    lambda role, content, extra: Message(role=role, content=content, id=str(uuid.uuid4()), extra=extra),
    st.sampled_from(["system", "user", "assistant", "tool"]),
    st.text(max_size=300) | st.text(alphabet="🦉שלוםمرحبا<>&\"'\\\n\t\x00\ud800\udfff", max_size=50),
    st.dictionaries(st.from_regex(r"x_[a-z]{1,6}", fullmatch=True), json_values, max_size=2),
)
runs = st.builds(
    lambda msgs, tokens, meta: RunOutput(
        run_id=str(uuid.uuid4()), agent_id="prop", status="COMPLETED", input={"input_content": "q"},
        content=msgs[-1].content if msgs else None, messages=msgs, metadata=meta,
        metrics=Metrics(input_tokens=tokens, output_tokens=1, total_tokens=tokens + 1)),
    st.lists(messages, max_size=6), st.integers(0, 10**9), st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)
sessions = st.builds(
    lambda rs, user, state: AgentSession(session_id=str(uuid.uuid4()), agent_id="prop", user_id=user, runs=rs,
                                         session_data={"session_state": state}),
    st.lists(runs, min_size=1, max_size=4), st.none() | st.text(min_size=1, max_size=10),
    st.dictionaries(st.text(max_size=6), json_values, max_size=3),
)


def _normal(value, pg):
    """What a store can give back: JSON's own round trip (and, on PostgreSQL, U+FFFD for NUL/lone surrogates)."""
    text = json.dumps(value)
    value = json.loads(text)
    if pg:
        from agno_nb.db.codec import storable

        # JSONB keeps numbers as numeric: 4.79e16 comes back as the integer 47943300498734950
        value = _numbers_as_floats(storable(value))
    return value


def _numbers_as_floats(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    return [_numbers_as_floats(v) for v in value]


def _check(db, session, pg):
    db.upsert_session(session)
    back = db.get_session(session.session_id)
    assert [_normal(r.to_dict(), pg) for r in back.runs] == [_normal(r.to_dict(), pg) for r in session.runs]
    assert _normal(back.session_state, pg) == _normal(session.session_data["session_state"], pg)
    df = agno_nb.connect(db, progress=False, errors="raise").messages(session_ids=[session.session_id])
    want = [("" if m.content is None else _normal(m.content, pg), m.role) for r in session.runs for m in r.messages]
    got = list(zip(df.content.fillna(""), df.role))
    # DuckDB holds no lone surrogates either: the analysis side shows U+FFFD for them
    assert got == [(re.sub("[\ud800-\udfff]", "\ufffd", c), role) for c, role in want]


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory):
    from agno_nb.db.sqlite import SqliteDb

    with SqliteDb(db_file=str(tmp_path_factory.mktemp("prop") / "prop.db")) as db:
        yield db


@pytest.fixture(scope="module")
def postgres_db(pg_url):
    from agno_nb.db.postgres import PostgresDb

    from conftest import RUN_TAG

    with PostgresDb(pg_url, db_schema=f"{RUN_TAG}_prop") as db:
        yield db


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session=sessions)
def test_sqlite_round_trip(session, sqlite_db):
    _check(sqlite_db, session, pg=False)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session=sessions)
def test_postgres_round_trip(session, postgres_db):
    ids = [session.user_id, *(v for r in session.runs for v in (r.run_id, r.agent_id, r.user_id))]
    if any(isinstance(v, str) and "\x00" in v for v in ids):
        # a text column cannot hold NUL on PostgreSQL: refused whole, nothing written
        from agno_nb.errors import UnstorableValueError

        with pytest.raises(UnstorableValueError, match="NUL|\\x00"):
            postgres_db.upsert_session(session)
        assert postgres_db.get_session(session.session_id) is None
        return
    _check(postgres_db, session, pg=True)
