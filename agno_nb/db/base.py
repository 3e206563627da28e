"""The SQL core shared by SQLite, PostgreSQL and MySQL.

Everything here is plain SQLAlchemy Core; :mod:`agno_nb.db.sqlite`,
:mod:`agno_nb.db.postgres` and :mod:`agno_nb.db.mysql` add only what truly differs
(engine setup, how a write transaction starts, inserting a row unless its key exists,
serializing table creation).

Writes follow one rule so that concurrent writers never lose each other's work: a
write transaction first makes sure the session row exists, then locks it
(``SELECT ... FOR UPDATE`` on PostgreSQL and MySQL; SQLite's ``BEGIN IMMEDIATE``
already holds the write lock), and only then reads what it merges (run_index,
metrics, state).
Appending a run is one row insert; the session row update is O(1) too.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import functools
import random
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, or_, select
from sqlalchemy import exc as sa_exc

from ..errors import (CorruptRowError, DatabaseUnreachableError, SessionNotFoundError, SessionOwnershipError,
                      UnstorableValueError)
from ..records import SESSION_CLASSES, Metrics, RunOutput, Session, now, session_from_dict
from . import codec
from .enums import HISTORY_SKIP_STATUSES, RunStatus, SessionType, plain
from .query import (
    check_pagination,
    context_runs,
    merge_run_dicts,
    ordering,
    paged,
    run_type_of,
    session_type_value,
    sort_desc,
)
from .unsupported import unsupported_feature
from .schema import (
    DEFAULT_SESSION_TABLE,
    SCHEMA_VERSION,
    check_identifier,
    default_runs_table,
    detect_layout,
    runs_table,
    sessions_table,
    versions_table,
)

_JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
# Columns a listing can be sorted by (Agno takes any column; JSON ones make no sense).
_SORTABLE = ("created_at", "updated_at", "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id")
_RUN_SORTABLE = ("run_index", "created_at", "updated_at", "run_id", "session_id", "run_type", "agent_id", "team_id",
                 "workflow_id", "user_id", "parent_run_id", "status")



def _retried(method):
    """Run a write method again when the backend calls its failure transient (a MySQL deadlock).

    Each write method is one transaction, rolled back whole on failure, so running it again
    is safe; InnoDB may pick any of several writers of one new session as a deadlock victim.
    """
    @functools.wraps(method)
    def write(self, *args, **kwargs):
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                return method(self, *args, **kwargs)
            except sa_exc.DBAPIError as exc:
                if attempt == _WRITE_ATTEMPTS - 1 or not self._transient(exc):
                    raise
            time.sleep(random.uniform(0.005, 0.02) * 2 ** attempt)
    return write


_WRITE_ATTEMPTS = 8

@dataclass
class Layout:
    """The tables found (or created) in the database."""

    sessions: Table
    runs: Optional[Table]
    legacy: bool  # the sessions table has Agno 2.x's `runs` column
    versions: Table
    complete: bool = True  # False: a 3.x sessions table whose runs table does not exist (yet)


class BaseDb:
    """Session storage in Agno's tables; subclassed per backend.

    Tables are looked up on first use and created when missing, in the Agno 3 layout.
    An Agno 2 sessions table (runs as a JSON column) is read and appended to in its
    own layout; nothing is migrated.
    """

    dialect: str = ""

    def __init__(self, engine: Engine, *, session_table: Optional[str], runs_table: Optional[str],
                 db_schema: Optional[str], id: Optional[str] = None, seed: str = "",
                 other_tables: Optional[Dict[str, Optional[str]]] = None, own_engine: bool = True):
        if session_table is None:
            session_table = DEFAULT_SESSION_TABLE
        self.session_table_name: str = check_identifier(session_table, "session_table")  # type: ignore[assignment]
        if runs_table is None:
            runs_table = default_runs_table(self.session_table_name)
        self.runs_table_name: str = check_identifier(runs_table, "runs_table")  # type: ignore[assignment]
        self.db_schema = check_identifier(db_schema, "db_schema")
        self.engine = engine
        self.own_engine = own_engine
        if own_engine:
            # Pooled connections are closed when this object goes, or at interpreter exit, not
            # left to the driver's garbage collection (psycopg warns of an unclosed connection).
            # A caller's own engine (db_engine=) is the caller's to dispose.
            weakref.finalize(self, engine.dispose)
        # Agno derives a stable id from where the data lives; so do we.
        self.id: str = id if id is not None else str(uuid.uuid5(uuid.NAMESPACE_DNS, seed)) if seed else str(uuid.uuid4())
        # Table names for Agno features agno_nb does not store (memories, metrics, ...):
        # accepted so Agno code constructs, kept for repr/inspection only.
        self.other_tables: Dict[str, str] = {k: v for k, v in (other_tables or {}).items() if v is not None}
        self._layout: Optional[Layout] = None
        self._layout_lock = threading.Lock()

    @property
    def db_engine(self) -> Engine:
        """The SQLAlchemy engine (Agno's attribute name; ``engine`` is the same object)."""
        return self.engine

    def __getattr__(self, name: str) -> Any:
        feature = unsupported_feature(name)
        if feature is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise NotImplementedError(
                f"{type(self).__name__}.{name}: Agno's {feature} are not available in agno_nb, which stores "
                "sessions and runs only (see docs/compat.md). Use agno's own db class for this feature.")
        refuse.__name__ = name
        return refuse

    # -- what each backend provides -----------------------------------------------------

    def _insert(self, table: Table):  # pragma: no cover - abstract
        """The dialect's ``insert`` construct (SQLite's and PostgreSQL's have ``on_conflict_do_*``)."""
        raise NotImplementedError

    def _insert_missing(self, conn: Connection, table: Table, values: Dict[str, Any]) -> bool:
        """Insert the row unless one with its primary key exists; True if this call inserted it."""
        key = list(table.primary_key.columns)
        insert = self._insert(table).values(**values).on_conflict_do_nothing(index_elements=[c.name for c in key])
        return conn.execute(insert.returning(*key)).first() is not None

    def _next_run_index(self, conn: Connection, runs: Table, session_id: str) -> Any:
        """The ``run_index`` a new run of the (locked) session gets: one past the highest."""
        return (select(func.coalesce(func.max(runs.c.run_index) + 1, 0))
                .where(runs.c.session_id == session_id).scalar_subquery())

    def _begin_write(self, conn: Connection) -> None:
        """Start a transaction that will write (SQLite: BEGIN IMMEDIATE)."""
        conn.begin()

    def _lock_ddl(self, conn: Connection) -> None:
        """Serialize table creation between processes."""

    def _unlock_ddl(self, conn: Connection) -> None:
        """Release what :meth:`_lock_ddl` took, if the transaction's end does not."""

    def _describe(self) -> str:  # pragma: no cover - abstract
        """Where the data lives, without secrets, for error messages."""
        raise NotImplementedError

    def _connect_hint(self) -> str:
        return ""

    #: a character this backend's text columns refuse (PostgreSQL: NUL), or None
    _text_refuses: Optional[str] = None

    def _check_text(self, values: Mapping[str, Any], table: str, session_id: Any, run_id: Any = None) -> None:
        """Refuse, before anything is written, a text column value the backend cannot hold.

        JSON columns keep such a character as U+FFFD (:func:`codec.dumps_pg`); an id is
        refused rather than changed, since a changed id would name another session or user.
        """
        if self._text_refuses is None:
            return
        for column, value in values.items():
            if isinstance(value, str) and self._text_refuses in value:
                where = f"session_id={session_id!r}" + (f", run_id={run_id!r}" if run_id is not None else "")
                raise UnstorableValueError(
                    f"cannot store {column}={value!r} in table {table!r} of {self._describe()} ({where}): it holds "
                    f"the character {self._text_refuses!r}, which this database's text columns refuse. Nothing "
                    "was written; remove the character from the value (it is almost always a bug upstream).")

    def _transient(self, exc: "sa_exc.DBAPIError") -> bool:
        """Whether a failed write transaction may simply be run again (MySQL: a deadlock)."""
        return False

    # -- connections ---------------------------------------------------------------------

    def _open(self) -> Connection:
        try:
            return self.engine.connect()
        except sa_exc.DBAPIError as exc:
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            password = self.engine.url.password
            if password:
                detail = detail.replace(str(password), "***")
            hint = self._connect_hint()
            raise DatabaseUnreachableError(
                f"cannot connect to {self._describe()}: {detail}" + (f". {hint}" if hint else "")
            ) from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        conn = self._open()
        try:
            self._begin_write(conn)
            yield conn
            conn.commit()
        except sa_exc.DBAPIError as exc:
            with contextlib.suppress(Exception):
                conn.rollback()
            if exc.connection_invalidated:
                # The server dropped us mid-transaction: nothing of it was committed, and the
                # pool has discarded the connection, so the next write starts on a fresh one.
                raise DatabaseUnreachableError(
                    f"lost the connection to {self._describe()} during a write; the transaction was rolled "
                    f"back, so nothing of it was stored. Retry the write. ({str(exc.orig).strip().splitlines()[0]})"
                ) from exc
            raise
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        finally:
            conn.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        conn = self._open()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.close()

    # -- tables --------------------------------------------------------------------------

    def tables(self, create: bool = True) -> Optional[Layout]:
        """Find the session tables, creating them (Agno 3 layout) when missing."""
        if self._layout is not None:
            return self._layout
        with self._layout_lock:
            if self._layout is not None:
                return self._layout
            layout = self._find_or_create(create)
            if layout is not None and layout.complete:
                # an incomplete layout is looked at again next time, not kept
                self._layout = layout
        return layout

    def _inspect(self) -> Tuple[bool, bool, bool]:
        """(sessions table exists, runs table exists, the sessions table has a legacy ``runs`` column)."""
        conn = self._open()
        try:
            return detect_layout(conn, self.session_table_name, self.runs_table_name, self.db_schema)
        finally:
            conn.close()

    def _wait_for_ddl(self) -> bool:
        """Wait until no other process is creating tables; True if that can be the case (DDL not atomic)."""
        return False

    def _find_or_create(self, create: bool) -> Optional[Layout]:
        has_sessions, has_runs, legacy = self._inspect()
        if not create and has_sessions and not (has_runs or legacy) and self._wait_for_ddl():
            # MySQL commits each CREATE TABLE on its own: the sessions table can be seen before
            # the runs table, while another process is creating them
            has_sessions, has_runs, legacy = self._inspect()
        metadata = MetaData(schema=self.db_schema)
        layout = Layout(
            sessions=sessions_table(metadata, self.session_table_name, legacy_runs=legacy, dialect=self.dialect),
            runs=None,
            legacy=legacy,
            versions=versions_table(metadata, dialect=self.dialect),
        )
        if has_runs or not legacy:
            layout.runs = runs_table(metadata, self.runs_table_name, self.session_table_name, dialect=self.dialect)
        if has_sessions and (has_runs or legacy):
            return layout
        if not create:
            layout.complete = False
            return layout if has_sessions else None
        with self._write() as conn:
            self._lock_ddl(conn)
            try:
                created = [t for t in (layout.sessions, layout.runs) if t is not None
                           and not inspect(conn).has_table(t.name, schema=self.db_schema)]
                metadata.create_all(conn, tables=[*created, layout.versions], checkfirst=True)
                stamp = now_iso()
                for table in created:
                    self._insert_missing(conn, layout.versions, dict(
                        table_name=table.name, version=SCHEMA_VERSION, created_at=stamp, updated_at=stamp))
            finally:
                self._unlock_ddl(conn)
        return layout

    # -- decoding rows -------------------------------------------------------------------

    def _run_dict(self, raw: Any, *, session_id: Optional[str], run_id: Optional[str], table: str,
                  column: str = "run_data") -> Dict[str, Any]:
        """A stored run's JSON as a dict, or :class:`CorruptRowError` naming the row."""
        data = codec.expect(codec.decode(raw, table=table, column=column, session_id=session_id, run_id=run_id),
                            dict, table=table, column=column, session_id=session_id, run_id=run_id)
        if data is None:
            raise CorruptRowError("run_data is NULL", table=table, column=column, session_id=session_id, run_id=run_id)
        return data

    def _run_obj(self, data: Dict[str, Any], *, session_id: Optional[str], table: Optional[str] = None,
                 column: str = "run_data") -> RunOutput:
        run_id = data.get("run_id")
        try:
            return RunOutput.from_dict(data)
        except TypeError as exc:
            raise CorruptRowError(str(exc), table=table or self.runs_table_name, column=column,
                                  session_id=session_id, run_id=run_id) from None

    def _decode_run(self, raw: Any, *, session_id: Optional[str], run_id: Optional[str], table: str,
                    column: str = "run_data") -> RunOutput:
        data = self._run_dict(raw, session_id=session_id, run_id=run_id, table=table, column=column)
        return self._run_obj(data, session_id=session_id, table=table, column=column)

    def _legacy_run_dicts(self, raw: Any, session_id: str) -> List[Dict[str, Any]]:
        """The runs in an Agno 2.x ``runs`` column, each checked to be a JSON object."""
        table = self.session_table_name
        runs = codec.expect(codec.decode(raw, table=table, column="runs", session_id=session_id),
                            list, table=table, column="runs", session_id=session_id) or []
        return [self._run_dict(item, session_id=session_id, run_id=item.get("run_id") if isinstance(item, dict) else None,
                               table=table, column="runs") for item in runs]

    def _legacy_runs(self, raw: Any, session_id: str) -> List[RunOutput]:
        return [self._run_obj(d, session_id=session_id, table=self.session_table_name, column="runs")
                for d in self._legacy_run_dicts(raw, session_id)]

    def _session_dict(self, row: Any, table_runs: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
        """A session row as Agno's ``deserialize=False`` dict: JSON decoded, ``runs`` a list of run dicts.

        ``table_runs`` None means runs are not attached (``runs`` is None). Runs still in
        a legacy ``runs`` column are merged in; the runs table's copy wins on ``run_id``.
        """
        m = row._mapping
        sid = m["session_id"]
        out: Dict[str, Any] = {}
        for key in m.keys():
            if key in _JSON_COLUMNS:
                out[key] = codec.expect(
                    codec.decode(m[key], table=self.session_table_name, column=key, session_id=sid),
                    dict, table=self.session_table_name, column=key, session_id=sid)
            elif key != "runs":
                out[key] = m[key]
        runs = table_runs
        if runs is not None and "runs" in m.keys() and m["runs"] is not None:
            runs = merge_run_dicts(self._legacy_run_dicts(m["runs"], sid), runs)
        out["runs"] = runs
        return out

    def _session_obj(self, raw: Dict[str, Any], session_type: Optional[str] = None) -> Session:
        """A session dict as a record: the class of ``session_type`` if given (as Agno), else of the row."""
        data = dict(raw)
        runs = data.pop("runs", None)
        klass = SESSION_CLASSES.get(session_type or plain(data.get("session_type")) or "agent", Session)
        session = klass.from_dict(data)
        sid = data.get("session_id")
        # Agno's records always hold a list (empty when runs were not attached).
        session.runs = [self._run_obj(d, session_id=sid) for d in runs or []]
        return session

    def _run_dicts(self, conn: Connection, layout: Layout, session_ids: Sequence[str],
                   limit: Optional[int] = None) -> Dict[str, List[Dict[str, Any]]]:
        """Run dicts from the runs table per session, oldest first.

        With ``limit`` (one session): only the last ``limit`` context-relevant runs, as
        Agno's ``runs_limit``: top-level runs (no ``parent_run_id``) whose status is not
        PAUSED, CANCELLED, ERROR or REGENERATED.
        """
        out: Dict[str, List[Dict[str, Any]]] = {sid: [] for sid in session_ids}
        if layout.runs is None or not session_ids:
            return out
        t = layout.runs
        if limit is not None:
            if limit <= 0:
                return out
            sid = session_ids[0]
            rows = conn.execute(
                select(t.c.run_id, t.c.run_data)
                .where(t.c.session_id == sid, t.c.parent_run_id.is_(None),
                       or_(t.c.status.is_(None), t.c.status.notin_(HISTORY_SKIP_STATUSES)))
                .order_by(t.c.run_index.desc(), t.c.created_at.desc(), t.c.run_id.desc())
                .limit(int(limit))
            ).all()
            out[sid] = [self._run_dict(raw, session_id=sid, run_id=rid, table=t.name) for rid, raw in reversed(rows)]
            return out
        for chunk in _chunks(list(session_ids), 500):
            rows = conn.execute(
                select(t.c.session_id, t.c.run_id, t.c.run_data)
                .where(t.c.session_id.in_(chunk))
                .order_by(t.c.session_id, t.c.run_index, t.c.created_at, t.c.run_id)
            )
            for sid, run_id, raw in rows:
                out[sid].append(self._run_dict(raw, session_id=sid, run_id=run_id, table=t.name))
        return out

    def _runs_for(self, conn: Connection, layout: Layout, session_ids: Sequence[str]) -> Dict[str, List[RunOutput]]:
        return {sid: [self._run_obj(d, session_id=sid) for d in runs]
                for sid, runs in self._run_dicts(conn, layout, session_ids).items()}

    def _run_row(self, row: Any) -> Dict[str, Any]:
        """A runs-table row as Agno's ``deserialize=False`` dict (``run_data`` decoded)."""
        out = dict(row._mapping)
        out["run_data"] = self._run_dict(out["run_data"], session_id=out.get("session_id"), run_id=out.get("run_id"),
                                         table=self.runs_table_name)
        return out

    def _legacy_run_rows(self, conn: Connection, layout: Layout) -> List[Dict[str, Any]]:
        """Runs held in Agno 2.x ``runs`` columns, shaped like runs-table rows."""
        s = layout.sessions
        out: List[Dict[str, Any]] = []
        rows = conn.execute(select(s.c.session_id, s.c.user_id, s.c.runs, s.c.updated_at)
                            .where(s.c.runs.is_not(None)).order_by(s.c.session_id))
        for sid, owner, raw, updated in rows:
            for index, data in enumerate(self._legacy_run_dicts(raw, sid)):
                out.append({
                    "run_id": data.get("run_id"), "session_id": sid, "run_type": run_type_of(data),
                    "agent_id": data.get("agent_id"), "team_id": data.get("team_id"),
                    "workflow_id": data.get("workflow_id"), "user_id": data.get("user_id") or owner,
                    "parent_run_id": data.get("parent_run_id"), "status": data.get("status"), "run_index": index,
                    "run_data": data, "created_at": data.get("created_at"), "updated_at": updated,
                })
        return out

    # -- reading -------------------------------------------------------------------------

    def get_session(self, session_id: str, session_type: Optional[Union[SessionType, str]] = None,
                    user_id: Optional[str] = None, deserialize: Optional[bool] = True,
                    runs_limit: Optional[int] = None) -> Optional[Union[Session, Dict[str, Any]]]:
        """The session with its runs (oldest first), or None. Agno's signature and rules.

        ``session_type`` does not filter (as in Agno): it picks the record class
        (AgentSession, TeamSession, WorkflowSession); None takes the stored type. With
        ``user_id``, a session of another user is not returned. ``runs_limit`` attaches
        only the last N context-relevant runs: top-level runs (member runs of a team
        are left out) not PAUSED, CANCELLED, ERROR or REGENERATED. ``deserialize=False``
        returns the row as a dict, JSON decoded, with ``runs`` a list of run dicts.
        """
        kind = session_type_value(session_type)
        layout = self.tables(create=False)
        if layout is None:
            return None
        s = layout.sessions
        query = select(s).where(s.c.session_id == session_id)
        if user_id is not None:
            query = query.where(s.c.user_id == user_id)
        with self._read() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            blob = layout.legacy and row._mapping["runs"] is not None
            # A legacy blob holds the whole history in one value: "last N" is taken after merging.
            table_runs = self._run_dicts(conn, layout, [session_id], limit=None if blob else runs_limit)[session_id]
        raw = self._session_dict(row, table_runs)
        if runs_limit is not None and blob:
            raw["runs"] = context_runs(raw["runs"])[-runs_limit:] if runs_limit > 0 else []
        return self._session_obj(raw, kind) if deserialize else raw

    def get_sessions(
        self,
        session_type: Optional[Union[SessionType, str]] = None,
        user_id: Optional[str] = None,
        component_id: Optional[str] = None,
        session_name: Optional[str] = None,
        start_timestamp: Optional[int] = None,
        end_timestamp: Optional[int] = None,
        limit: Optional[int] = None,
        page: Optional[int] = None,
        sort_by: Optional[str] = None,
        sort_order: Optional[str] = None,
        deserialize: Optional[bool] = True,
        include_runs: bool = True,
    ) -> Union[List[Session], Tuple[List[Dict[str, Any]], int]]:
        """Sessions matching every filter given. Agno's signature and rules.

        ``component_id`` matches the agent, team or workflow id (only the one of
        ``session_type`` when given); ``session_name`` is a case-insensitive substring
        of the name; the timestamps bound ``created_at`` (Unix seconds, inclusive).
        ``page`` counts from 1 in steps of ``limit`` (and needs ``limit``). Sorted by
        ``sort_by`` (default ``created_at``), ``sort_order`` ``"desc"`` (default) or
        ``"asc"``. ``include_runs=False`` leaves the runs out (``runs`` None in dicts, [] in records). ``deserialize=False``
        returns ``(list of session dicts, total count before paging)``.
        """
        check_pagination(limit, page)
        kind = session_type_value(session_type)
        layout = self.tables(create=False)
        if layout is None:
            return [] if deserialize else ([], 0)
        s = layout.sessions
        conds = []
        if kind is not None:
            conds.append(s.c.session_type == kind)
        if user_id is not None:
            conds.append(s.c.user_id == user_id)
        if component_id is not None:
            columns = {"agent": [s.c.agent_id], "team": [s.c.team_id], "workflow": [s.c.workflow_id]}.get(
                kind or "", [s.c.agent_id, s.c.team_id, s.c.workflow_id])
            conds.append(or_(*(c == component_id for c in columns)))
        if start_timestamp is not None:
            conds.append(s.c.created_at >= int(start_timestamp))
        if end_timestamp is not None:
            conds.append(s.c.created_at <= int(end_timestamp))
        if session_name is not None:
            conds.append(s.c.session_data["session_name"].as_string().icontains(session_name, autoescape=True))
        query = select(s).where(*conds).order_by(*ordering(s, sort_by or "created_at", sort_order, _SORTABLE))
        query = paged(query, limit, page)
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(s).where(*conds)).scalar_one()
            rows = conn.execute(query).all()
            runs = self._run_dicts(conn, layout, [r.session_id for r in rows]) if include_runs else {}
        raws = [self._session_dict(r, runs[r.session_id] if include_runs else None) for r in rows]
        if not deserialize:
            return raws, int(total)
        return [self._session_obj(raw, kind) for raw in raws]

    def get_run(self, run_id: str, deserialize: Optional[bool] = True) -> Optional[Union[RunOutput, Dict[str, Any]]]:
        """One run by ``run_id``, or None; ``deserialize=False`` gives the runs-table row as a dict."""
        layout = self.tables(create=False)
        if layout is None:
            return None
        raw: Optional[Dict[str, Any]] = None
        with self._read() as conn:
            if layout.runs is not None:
                row = conn.execute(select(layout.runs).where(layout.runs.c.run_id == run_id)).first()
                raw = None if row is None else self._run_row(row)
            if raw is None and layout.legacy:
                raw = next((r for r in self._legacy_run_rows(conn, layout) if r["run_id"] == run_id), None)
        if raw is None or not deserialize:
            return raw
        return self._run_obj(raw["run_data"], session_id=raw["session_id"])

    def get_runs(
        self,
        session_id: Optional[str] = None,
        user_id: Optional[str] = None,
        agent_id: Optional[str] = None,
        team_id: Optional[str] = None,
        workflow_id: Optional[str] = None,
        status: Optional[Union[RunStatus, str]] = None,
        limit: Optional[int] = None,
        page: Optional[int] = None,
        sort_by: Optional[str] = None,
        sort_order: Optional[str] = None,
        deserialize: Optional[bool] = True,
    ) -> Union[List[RunOutput], Tuple[List[Dict[str, Any]], int]]:
        """Runs matching every filter given. Agno's signature and rules.

        Without ``sort_by``, in insertion order (``run_index``, then ``created_at``);
        with it, ``sort_order`` ``"desc"`` (default) or ``"asc"``. ``deserialize=False``
        returns ``(list of runs-table rows as dicts, total count before paging)``.
        """
        check_pagination(limit, page)
        wanted = {"session_id": session_id, "user_id": user_id, "agent_id": agent_id, "team_id": team_id,
                  "workflow_id": workflow_id, "status": plain(status)}
        wanted = {k: v for k, v in wanted.items() if v is not None}
        if sort_by is not None and sort_by not in _RUN_SORTABLE:
            raise ValueError(f"sort_by must be one of {', '.join(_RUN_SORTABLE)}; got {sort_by!r}")
        layout = self.tables(create=False)
        if layout is None:
            return [] if deserialize else ([], 0)
        with self._read() as conn:
            if layout.legacy:
                rows, total = self._legacy_get_runs(conn, layout, wanted, limit, page, sort_by, sort_order)
            else:
                t = layout.runs
                conds = [t.c[k] == v for k, v in wanted.items()]
                order = (ordering(t, sort_by, sort_order, _RUN_SORTABLE) if sort_by is not None
                         else [t.c.run_index.asc(), t.c.created_at.asc(), t.c.run_id.asc()])
                total = conn.execute(select(func.count()).select_from(t).where(*conds)).scalar_one()
                rows = [self._run_row(r) for r in conn.execute(paged(select(t).where(*conds).order_by(*order), limit, page))]
        if not deserialize:
            return rows, int(total)
        return [self._run_obj(r["run_data"], session_id=r["session_id"]) for r in rows]

    def _legacy_get_runs(self, conn: Connection, layout: Layout, wanted: Dict[str, Any], limit: Optional[int],
                         page: Optional[int], sort_by: Optional[str], sort_order: Optional[str]):
        """get_runs over an Agno 2.x table: the JSON lists merged with any runs-table rows, in Python."""
        table_rows = [self._run_row(r) for r in conn.execute(select(layout.runs))] if layout.runs is not None else []
        by_id = {r["run_id"]: r for r in table_rows}
        rows = [by_id.pop(r["run_id"], r) for r in self._legacy_run_rows(conn, layout)] + list(by_id.values())
        rows = [r for r in rows if all(r.get(k) == v for k, v in wanted.items())]
        if sort_by is not None:
            desc = sort_desc(sort_order)
            present = sorted((r for r in rows if r.get(sort_by) is not None), key=lambda r: r[sort_by], reverse=desc)
            rows = present + [r for r in rows if r.get(sort_by) is None]
        if limit is not None:
            start = (int(page) - 1) * int(limit) if page is not None else 0
            return rows[start:start + int(limit)], len(rows)
        return rows, len(rows)

    # -- writing -------------------------------------------------------------------------

    def _lock_session(self, conn: Connection, layout: Layout, header: Session) -> Any:
        """Make sure the session row exists, lock it and check who owns it."""
        s = layout.sessions
        ts = now()
        values = _session_values(header)
        values["created_at"] = values["created_at"] or ts
        values["updated_at"] = values["updated_at"] or ts
        if layout.legacy:
            values["runs"] = []
        self._insert_missing(conn, s, values)
        row = conn.execute(select(s).where(s.c.session_id == header.session_id).with_for_update()).one()
        owner = row._mapping["user_id"]
        if owner is not None and header.user_id is not None and owner != header.user_id:
            raise SessionOwnershipError(
                f"session {header.session_id!r} belongs to another user; user_id={header.user_id!r} cannot write it")
        return row

    def _put_run(self, conn: Connection, layout: Layout, row: Any, run: RunOutput, *,
                 user_id: Optional[str] = None, run_index: Optional[int] = None) -> Metrics:
        """Insert or update one run; returns how much it changes the session's metrics.

        A new run takes ``run_index`` (else the run's own ``run_index``, else the next
        one); an existing run keeps its index, as in Agno.
        """
        session_id = row._mapping["session_id"]
        run.session_id = session_id
        run.created_at = run.created_at or now()
        # the metrics as they will read back (NaN and Infinity are stored as null), so that
        # one NaN does not turn the session's sums into null
        new_metrics = Metrics.from_dict(codec.finite(run.metrics.to_dict())) if run.metrics else Metrics()
        if layout.runs is not None:
            t = layout.runs
            old = conn.execute(select(t.c.session_id, t.c.run_data).where(t.c.run_id == run.run_id)).first()
            values = _run_values(run, user_id)
            self._check_text(values, t.name, session_id, run.run_id)
            index = run_index if run_index is not None else run.extra.get("run_index")
            if old is None:
                next_index = int(index) if index is not None else self._next_run_index(conn, t, session_id)
                conn.execute(t.insert().values(**values, run_index=next_index))
                return new_metrics
            if old.session_id != session_id:
                raise ValueError(f"run_id {run.run_id!r} already belongs to session {old.session_id!r}, not {session_id!r}")
            old_run = self._decode_run(old.run_data, session_id=session_id, run_id=run.run_id, table=t.name)
            if index is not None:
                values["run_index"] = func.coalesce(t.c.run_index, int(index))
            conn.execute(t.update().where(t.c.run_id == run.run_id).values(**values))
            return new_metrics - (old_run.metrics or Metrics())
        # Agno 2.x layout: the runs live in the session row's JSON list.
        runs = self._legacy_runs(row._mapping["runs"], session_id) if row._mapping["runs"] is not None else []
        delta = new_metrics
        for i, existing in enumerate(runs):
            if existing.run_id == run.run_id:
                delta = new_metrics - (existing.metrics or Metrics())
                runs[i] = run
                break
        else:
            runs.append(run)
        s = layout.sessions
        conn.execute(s.update().where(s.c.session_id == session_id).values(
            runs=encoded_like(row._mapping["runs"], [r.to_dict() for r in runs])))
        return delta

    @_retried
    def append_runs(self, header: Session, runs: Sequence[RunOutput]) -> None:
        """Store runs of ``header``'s session, creating the session if needed (agno_nb's own write).

        One transaction: the session row is locked, each run inserted with the next
        ``run_index`` (or replaced, by ``run_id``), and the session's metrics and state
        merged (metrics summed, state keys updated), so runs written at the same time by
        other threads or processes are all kept. ``header`` carries the session fields
        to set; its own ``runs`` are ignored.
        """
        layout = self.tables()
        with self._write() as conn:
            row = self._lock_session(conn, layout, header)
            delta = Metrics()
            for run in runs:
                delta = delta + self._put_run(conn, layout, row, run)
                if layout.runs is None:
                    # the legacy runs list lives in the row: re-read it after each change
                    row = conn.execute(select(layout.sessions).where(
                        layout.sessions.c.session_id == header.session_id)).one()
            self._merge_session(conn, layout, row, header, delta)

    @_retried
    def upsert_run(self, run: Union[RunOutput, Mapping[str, Any]], session_id: str, user_id: Optional[str] = None,
                   run_index: Optional[int] = None) -> None:
        """Insert or replace one run (by ``run_id``) of an existing session. Agno's signature and rules.

        The session must exist (:class:`SessionNotFoundError` otherwise: Agno's runs
        table refuses it by foreign key). Only the run's row is written, as in Agno;
        ``Agent``/``Team``/``Workflow`` use :meth:`append_runs`, which also keeps the
        session's metrics. ``user_id`` goes to the runs table's ``user_id`` column
        (default: the run's own); a session owned by another user is refused
        (:class:`SessionOwnershipError`). A new run gets ``run_index`` (default: next).
        """
        if isinstance(run, str) and not isinstance(session_id, str):
            raise TypeError("upsert_run takes (run, session_id, user_id=None, run_index=None), Agno's order; "
                            f"got the session id {run!r} first")
        run = RunOutput.from_dict(dict(run)) if isinstance(run, Mapping) else run
        if not run.run_id:
            raise ValueError(f"cannot store a run without a run_id (session_id={session_id!r})")
        layout = self.tables()
        s = layout.sessions
        with self._write() as conn:
            row = conn.execute(select(s).where(s.c.session_id == session_id).with_for_update()).first()
            if row is None:
                raise SessionNotFoundError(
                    f"cannot store run {run.run_id!r}: session {session_id!r} does not exist in {self._describe()} "
                    f"(table {s.name!r}). Create it first with upsert_session; Agno refuses it too, by foreign key.")
            owner = row._mapping["user_id"]
            if user_id is not None and owner is not None and owner != user_id:
                raise SessionOwnershipError(
                    f"session {session_id!r} belongs to another user; user_id={user_id!r} cannot write run {run.run_id!r}")
            self._put_run(conn, layout, row, run, user_id=user_id, run_index=run_index)

    def _merge_session(self, conn: Connection, layout: Layout, row: Any, header: Session, delta: Metrics) -> None:
        s = layout.sessions
        m = row._mapping
        sid = m["session_id"]
        data = codec.expect(codec.decode(m["session_data"], table=s.name, column="session_data", session_id=sid),
                            dict, table=s.name, column="session_data", session_id=sid) or {}
        incoming = jsonable(header.session_data or {})
        merged = {**data, **{k: v for k, v in incoming.items() if k not in ("session_state", "session_metrics")}}
        state = {**(data.get("session_state") or {}), **(incoming.get("session_state") or {})}
        merged["session_state"] = state
        metrics = Metrics.from_dict(data.get("session_metrics") or {}) + delta
        merged["session_metrics"] = metrics.to_dict()
        values: Dict[str, Any] = {"session_data": encoded_like(m["session_data"], merged), "updated_at": now()}
        for col in ("agent_data", "team_data", "workflow_data", "metadata", "summary"):
            if getattr(header, col) is not None:
                values[col] = jsonable(getattr(header, col))
        conn.execute(s.update().where(s.c.session_id == sid).values(**values))

    def upsert_session(self, session: Union[Session, Mapping[str, Any]],
                       deserialize: Optional[bool] = True) -> Optional[Union[Session, Dict[str, Any]]]:
        """Write a session's row as given, and each of its runs by ``run_id``. Agno's signature.

        As in Agno: ``created_at`` and ``session_type`` of a stored session are kept,
        ``updated_at`` becomes now (a new session: its ``created_at``), and a session
        owned by another ``user_id`` (or by a user, when ``user_id`` is None) is refused,
        here with :class:`SessionOwnershipError`. Unlike Agno, ``session.runs`` are stored
        too (Agno 3.1 stores runs through ``upsert_run`` only). Returns the stored
        session with the given runs (a dict with ``deserialize=False``).
        """
        return self._upsert_sessions([session], deserialize, preserve_updated_at=None)[0]

    def upsert_sessions(self, sessions: Sequence[Union[Session, Mapping[str, Any]]], deserialize: Optional[bool] = True,
                        preserve_updated_at: bool = False) -> List[Union[Session, Dict[str, Any]]]:
        """:meth:`upsert_session` for many sessions, in one transaction. Agno's signature.

        ``preserve_updated_at=True`` keeps each session's own ``updated_at`` (to copy
        sessions between databases); otherwise it becomes now.
        """
        return self._upsert_sessions(list(sessions), deserialize, preserve_updated_at=bool(preserve_updated_at))

    @_retried
    def _upsert_sessions(self, sessions: List[Union[Session, Mapping[str, Any]]], deserialize: Optional[bool],
                         preserve_updated_at: Optional[bool]) -> List[Union[Session, Dict[str, Any]]]:
        records = [session_from_dict(dict(x)) if isinstance(x, Mapping) else x for x in sessions]
        for record in records:
            if not record.session_id:
                raise ValueError("cannot store a session without a session_id")
        if not records:
            return []
        layout = self.tables()
        s = layout.sessions
        stored = []
        with self._write() as conn:
            for session in records:
                ts = now()
                values = _session_values(session)
                self._check_text(values, s.name, session.session_id)
                values["created_at"] = session.created_at or ts
                # upsert_session (preserve None): a new row's updated_at is its created_at, as in Agno.
                own = session.updated_at if preserve_updated_at else None
                values["updated_at"] = own or (values["created_at"] if preserve_updated_at is None else ts)
                inserted = self._insert_missing(conn, s, {**values, **({"runs": None} if layout.legacy else {})})
                row = conn.execute(select(s).where(s.c.session_id == session.session_id).with_for_update()).one()
                if not inserted:
                    owner = row._mapping["user_id"]
                    if owner is not None and owner != session.user_id:
                        raise SessionOwnershipError(
                            f"session {session.session_id!r} belongs to another user; "
                            f"user_id={session.user_id!r} cannot write it")
                    update = {k: v for k, v in values.items() if k not in ("session_id", "session_type", "created_at")}
                    update["updated_at"] = own or ts
                    conn.execute(s.update().where(s.c.session_id == session.session_id).values(**update))
                for run in session.runs or []:
                    if layout.runs is None:  # the legacy runs list lives in the row: read it fresh
                        row = conn.execute(select(s).where(s.c.session_id == session.session_id)).one()
                    self._put_run(conn, layout, row, run)
                stored.append(conn.execute(select(s).where(s.c.session_id == session.session_id)).one())
        out: List[Union[Session, Dict[str, Any]]] = []
        for row, session in zip(stored, records):
            raw = self._session_dict(row, None)
            raw["runs"] = [r.to_dict() for r in session.runs or []]
            if deserialize:
                obj = self._session_obj({**raw, "runs": None})
                obj.runs = list(session.runs or [])
                out.append(obj)
            else:
                out.append(raw)
        return out

    def delete_session(self, session_id: str, user_id: Optional[str] = None) -> bool:
        """Delete a session and its runs; with ``user_id``, only if that user owns it. True if deleted."""
        return self.delete_sessions([session_id], user_id=user_id) == 1

    @_retried
    def delete_sessions(self, session_ids: Iterable[str], user_id: Optional[str] = None) -> int:
        """Delete sessions and their runs (with ``user_id``, only that user's); returns how many went."""
        ids = list(session_ids)
        layout = self.tables(create=False)
        if layout is None or not ids:
            return 0
        s = layout.sessions
        deleted = 0
        with self._write() as conn:
            for chunk in _chunks(ids, 500):
                cond = s.c.session_id.in_(chunk)
                if user_id is not None:
                    cond = cond & (s.c.user_id == user_id)
                owned = [r[0] for r in conn.execute(select(s.c.session_id).where(cond))]
                if not owned:
                    continue
                if layout.runs is not None:
                    conn.execute(layout.runs.delete().where(layout.runs.c.session_id.in_(owned)))
                deleted += conn.execute(s.delete().where(s.c.session_id.in_(owned))).rowcount
        return deleted

    def delete_run(self, run_id: str) -> bool:
        """Delete one run (from the runs table and any legacy ``runs`` column); True if it existed."""
        return self.delete_runs([run_id]) > 0

    @_retried
    def delete_runs(self, run_ids: Iterable[str]) -> int:
        """Delete runs by id; returns how many went."""
        ids = list(run_ids)
        layout = self.tables(create=False)
        if layout is None or not ids:
            return 0
        deleted = 0
        with self._write() as conn:
            if layout.runs is not None:
                for chunk in _chunks(ids, 500):
                    deleted += conn.execute(layout.runs.delete().where(layout.runs.c.run_id.in_(chunk))).rowcount
            if layout.legacy:
                # Agno 3.1 scrubs the legacy copy too, or the next read would bring the run back.
                s, wanted = layout.sessions, set(ids)
                for sid, raw in conn.execute(select(s.c.session_id, s.c.runs).where(s.c.runs.is_not(None))).all():
                    runs = self._legacy_run_dicts(raw, sid)
                    kept = [r for r in runs if r.get("run_id") not in wanted]
                    if len(kept) != len(runs):
                        deleted += len(runs) - len(kept)
                        conn.execute(s.update().where(s.c.session_id == sid).values(runs=encoded_like(raw, kept)))
        return deleted

    @_retried
    def rename_session(self, session_id: str, session_type: Optional[Union[SessionType, str]], session_name: str,
                       user_id: Optional[str] = None,
                       deserialize: Optional[bool] = True) -> Optional[Union[Session, Dict[str, Any]]]:
        """Set ``session_data.session_name``; returns the session, or None if not found. Agno's signature.

        With ``session_type``, only a session of that type is renamed; with
        ``user_id``, only one that user owns. ``updated_at`` becomes now.
        """
        kind = session_type_value(session_type)
        if not isinstance(session_name, str):
            raise TypeError(f"session_name must be a str; got {type(session_name).__name__} "
                            "(rename_session takes (session_id, session_type, session_name), Agno's order)")
        layout = self.tables(create=False)
        if layout is None:
            return None
        s = layout.sessions
        with self._write() as conn:
            query = select(s.c.session_data).where(s.c.session_id == session_id)
            if kind is not None:
                query = query.where(s.c.session_type == kind)
            if user_id is not None:
                query = query.where(s.c.user_id == user_id)
            row = conn.execute(query.with_for_update()).first()
            if row is None:
                return None
            data = codec.expect(codec.decode(row[0], table=s.name, column="session_data", session_id=session_id),
                                dict, table=s.name, column="session_data", session_id=session_id) or {}
            data["session_name"] = session_name
            conn.execute(s.update().where(s.c.session_id == session_id).values(
                session_data=encoded_like(row[0], data), updated_at=now()))
        return self.get_session(session_id, kind, user_id=user_id, deserialize=deserialize)

    def recent_runs(self, session_id: str, limit: int) -> List[RunOutput]:
        """The last ``limit`` top-level runs of a session, oldest first (for history)."""
        layout = self.tables(create=False)
        if layout is None or limit <= 0:
            return []
        if layout.runs is None or layout.legacy:
            session = self.get_session(session_id)
            runs = [r for r in (session.runs if session else []) if r.parent_run_id is None]
            return runs[-limit:]
        t = layout.runs
        with self._read() as conn:
            rows = conn.execute(
                select(t.c.run_id, t.c.run_data)
                .where(t.c.session_id == session_id, t.c.parent_run_id.is_(None))
                .order_by(t.c.run_index.desc()).limit(limit)
            ).all()
        return [self._decode_run(raw, session_id=session_id, run_id=rid, table=t.name) for rid, raw in reversed(rows)]

    def session_header(self, session_id: str) -> Optional[Session]:
        """The session row without its runs (cheap: one indexed row)."""
        layout = self.tables(create=False)
        if layout is None:
            return None
        s = layout.sessions
        with self._read() as conn:
            row = conn.execute(select(s).where(s.c.session_id == session_id)).first()
        if row is None:
            return None
        session = self._session_obj(self._session_dict(row, None))
        session.runs = []
        return session

    def close(self) -> None:
        """Close the pooled connections (the db object can still be used; it reconnects)."""
        self.engine.dispose()

    def __enter__(self) -> "BaseDb":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()}, session_table={self.session_table_name!r})"


def encoded_like(stored: Any, value: Any) -> Any:
    """``value`` encoded the way the stored value was.

    Agno 2.x on SQLite encoded JSON columns twice; a row written that way is updated
    that way, so Agno 2.x reads it back as before.
    """
    return codec.dumps(value) if isinstance(stored, str) and not isinstance(stored, codec.BadJson) else value


_SESSION_FIELDS = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", *_JSON_COLUMNS,
                   "created_at", "updated_at")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: records (a summary, metrics) by their ``to_dict``, enums by value."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _session_values(session: Session) -> Dict[str, Any]:
    values = {name: getattr(session, name) for name in _SESSION_FIELDS}
    values["session_type"] = session_type_value(values["session_type"]) or "agent"
    for col in _JSON_COLUMNS:
        values[col] = jsonable(values[col])
    return values


def _run_values(run: RunOutput, user_id: Optional[str] = None) -> Dict[str, Any]:
    return {
        "run_id": run.run_id,
        "session_id": run.session_id,
        "run_type": run.run_type,
        "agent_id": run.agent_id,
        "team_id": run.team_id,
        "workflow_id": run.workflow_id,
        "user_id": user_id if user_id is not None else run.user_id,
        "parent_run_id": run.parent_run_id,
        "status": plain(run.status),
        "run_data": run.to_dict(),
        "created_at": run.created_at or now(),
        "updated_at": now(),
    }


def _chunks(items: List[Any], size: int) -> Iterator[List[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def now_iso() -> str:
    """Agno stamps schema versions with a local ISO datetime."""
    return datetime.datetime.now().isoformat()
