"""The SQL core shared by SQLite and PostgreSQL.

Everything here is plain SQLAlchemy Core; :mod:`agno_nb.db.sqlite` and
:mod:`agno_nb.db.postgres` add only what truly differs (engine setup, how a write
transaction starts, the INSERT ... ON CONFLICT construct).

Writes follow one rule so that concurrent writers never lose each other's work: a
write transaction first makes sure the session row exists, then locks it
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds
the write lock), and only then reads what it merges (run_index, metrics, state).
Appending a run is one row insert; the session row update is O(1) too.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

from sqlalchemy import Connection, Engine, MetaData, Table, and_, func, inspect, select
from sqlalchemy import exc as sa_exc

from ..errors import CorruptRowError, DatabaseUnreachableError, SessionOwnershipError
from ..records import Metrics, RunOutput, Session, now, session_from_dict
from . import codec
from .schema import (
    DEFAULT_SESSION_TABLE,
    SCHEMA_VERSION,
    check_identifier,
    default_runs_table,
    runs_table,
    sessions_table,
    versions_table,
)

_JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
_SORTABLE = ("created_at", "updated_at", "session_id", "session_type", "user_id")


@dataclass
class Layout:
    """The tables found (or created) in the database."""

    sessions: Table
    runs: Optional[Table]
    legacy: bool  # the sessions table has Agno 2.x's `runs` column
    versions: Table


class BaseDb:
    """Session storage in Agno's tables; subclassed per backend.

    Tables are looked up on first use and created when missing, in the Agno 3 layout.
    An Agno 2 sessions table (runs as a JSON column) is read and appended to in its
    own layout; nothing is migrated.
    """

    dialect: str = ""

    def __init__(self, engine: Engine, *, session_table: Optional[str], runs_table: Optional[str],
                 db_schema: Optional[str]):
        if session_table is None:
            session_table = DEFAULT_SESSION_TABLE
        self.session_table_name: str = check_identifier(session_table, "session_table")  # type: ignore[assignment]
        if runs_table is None:
            runs_table = default_runs_table(self.session_table_name)
        self.runs_table_name: str = check_identifier(runs_table, "runs_table")  # type: ignore[assignment]
        self.db_schema = check_identifier(db_schema, "db_schema")
        self.engine = engine
        # Pooled connections are closed when this object goes, or at interpreter exit, not
        # left to the driver's garbage collection (psycopg warns of an unclosed connection).
        weakref.finalize(self, engine.dispose)
        self._layout: Optional[Layout] = None
        self._layout_lock = threading.Lock()

    # -- what each backend provides -----------------------------------------------------

    def _insert(self, table: Table):  # pragma: no cover - abstract
        """The dialect's ``insert`` construct (it has ``on_conflict_do_*``)."""
        raise NotImplementedError

    def _begin_write(self, conn: Connection) -> None:
        """Start a transaction that will write (SQLite: BEGIN IMMEDIATE)."""
        conn.begin()

    def _lock_ddl(self, conn: Connection) -> None:
        """Serialize table creation between processes."""

    def _describe(self) -> str:  # pragma: no cover - abstract
        """Where the data lives, without secrets, for error messages."""
        raise NotImplementedError

    def _connect_hint(self) -> str:
        return ""

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
            if self._layout is None:
                self._layout = self._find_or_create(create)
        return self._layout

    def _find_or_create(self, create: bool) -> Optional[Layout]:
        conn = self._open()
        try:
            insp = inspect(conn)
            has_sessions = insp.has_table(self.session_table_name, schema=self.db_schema)
            has_runs = insp.has_table(self.runs_table_name, schema=self.db_schema)
            legacy = has_sessions and any(
                c["name"] == "runs" for c in insp.get_columns(self.session_table_name, schema=self.db_schema))
        finally:
            conn.close()
        metadata = MetaData(schema=self.db_schema)
        layout = Layout(
            sessions=sessions_table(metadata, self.session_table_name, legacy_runs=legacy),
            runs=None,
            legacy=legacy,
            versions=versions_table(metadata),
        )
        if has_runs or not legacy:
            layout.runs = runs_table(metadata, self.runs_table_name, self.session_table_name)
        if has_sessions and (has_runs or legacy):
            return layout
        if not create:
            return layout if has_sessions else None
        with self._write() as conn:
            self._lock_ddl(conn)
            created = [t for t in (layout.sessions, layout.runs) if t is not None
                       and not inspect(conn).has_table(t.name, schema=self.db_schema)]
            metadata.create_all(conn, tables=[*created, layout.versions], checkfirst=True)
            stamp = now_iso()
            for table in created:
                conn.execute(self._insert(layout.versions).values(
                    table_name=table.name, version=SCHEMA_VERSION, created_at=stamp, updated_at=stamp,
                ).on_conflict_do_nothing())
        return layout

    # -- decoding rows -------------------------------------------------------------------

    def _decode_run(self, raw: Any, *, session_id: Optional[str], run_id: Optional[str], table: str,
                    column: str = "run_data") -> RunOutput:
        data = codec.expect(codec.decode(raw, table=table, column=column, session_id=session_id, run_id=run_id),
                            dict, table=table, column=column, session_id=session_id, run_id=run_id)
        if data is None:
            raise CorruptRowError("run_data is NULL", table=table, column=column, session_id=session_id, run_id=run_id)
        try:
            return RunOutput.from_dict(data)
        except TypeError as exc:
            raise CorruptRowError(str(exc), table=table, column=column, session_id=session_id, run_id=run_id) from None

    def _legacy_runs(self, raw: Any, session_id: str) -> List[RunOutput]:
        table = self.session_table_name
        runs = codec.expect(codec.decode(raw, table=table, column="runs", session_id=session_id),
                            list, table=table, column="runs", session_id=session_id) or []
        out = []
        for item in runs:
            run_id = item.get("run_id") if isinstance(item, dict) else None
            out.append(self._decode_run(item, session_id=session_id, run_id=run_id, table=table, column="runs"))
        return out

    def _session_from_row(self, row: Any, table_runs: List[RunOutput]) -> Session:
        m = row._mapping
        sid = m["session_id"]
        data: Dict[str, Any] = {k: m[k] for k in m.keys() if k not in _JSON_COLUMNS and k != "runs"}
        for col in _JSON_COLUMNS:
            data[col] = codec.expect(
                codec.decode(m[col], table=self.session_table_name, column=col, session_id=sid),
                dict, table=self.session_table_name, column=col, session_id=sid)
        runs = table_runs
        if "runs" in m.keys() and m["runs"] is not None:
            runs = merge_runs(self._legacy_runs(m["runs"], sid), table_runs)
        session = session_from_dict(data)
        session.runs = runs
        return session

    def _runs_for(self, conn: Connection, layout: Layout, session_ids: Sequence[str]) -> Dict[str, List[RunOutput]]:
        out: Dict[str, List[RunOutput]] = {sid: [] for sid in session_ids}
        if layout.runs is None or not session_ids:
            return out
        t = layout.runs
        for chunk in _chunks(list(session_ids), 500):
            rows = conn.execute(
                select(t.c.session_id, t.c.run_id, t.c.run_data)
                .where(t.c.session_id.in_(chunk))
                .order_by(t.c.session_id, t.c.run_index, t.c.created_at, t.c.run_id)
            )
            for sid, run_id, raw in rows:
                out[sid].append(self._decode_run(raw, session_id=sid, run_id=run_id, table=t.name))
        return out

    # -- reading -------------------------------------------------------------------------

    def get_session(self, session_id: str, user_id: Optional[str] = None) -> Optional[Session]:
        """The session with its runs (oldest first), or None.

        With ``user_id``, a session that belongs to another user is not returned.
        """
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
            runs = self._runs_for(conn, layout, [session_id])[session_id]
        return self._session_from_row(row, runs)

    def get_sessions(
        self,
        session_type: Optional[str] = None,
        user_id: Optional[str] = None,
        component_id: Optional[str] = None,
        start_timestamp: Optional[int] = None,
        end_timestamp: Optional[int] = None,
        limit: Optional[int] = None,
        page: Optional[int] = None,
        sort_by: Optional[str] = None,
        sort_order: Optional[str] = None,
    ) -> List[Session]:
        """Sessions matching every filter given, with their runs.

        ``component_id`` matches the agent, team or workflow id; the timestamps bound
        ``created_at`` (Unix seconds, inclusive). ``page`` counts from 1 in steps of
        ``limit``. Sorted by ``sort_by`` (default ``created_at``), ``sort_order``
        ``"desc"`` (default) or ``"asc"``.
        """
        layout = self.tables(create=False)
        if layout is None:
            return []
        s = layout.sessions
        query = select(s)
        conds = []
        if session_type is not None:
            conds.append(s.c.session_type == str(getattr(session_type, "value", session_type)))
        if user_id is not None:
            conds.append(s.c.user_id == user_id)
        if component_id is not None:
            conds.append((s.c.agent_id == component_id) | (s.c.team_id == component_id) | (s.c.workflow_id == component_id))
        if start_timestamp is not None:
            conds.append(s.c.created_at >= int(start_timestamp))
        if end_timestamp is not None:
            conds.append(s.c.created_at <= int(end_timestamp))
        if conds:
            query = query.where(and_(*conds))
        sort_by = sort_by or "created_at"
        if sort_by not in _SORTABLE:
            raise ValueError(f"sort_by must be one of {', '.join(_SORTABLE)}; got {sort_by!r}")
        order = (sort_order or "desc").lower()
        if order not in ("asc", "desc"):
            raise ValueError(f"sort_order must be 'asc' or 'desc'; got {sort_order!r}")
        col = s.c[sort_by]
        query = query.order_by(col.asc() if order == "asc" else col.desc(), s.c.session_id)
        if limit is not None:
            query = query.limit(int(limit))
            if page is not None:
                if int(page) < 1:
                    raise ValueError(f"page counts from 1; got {page!r}")
                query = query.offset((int(page) - 1) * int(limit))
        with self._read() as conn:
            rows = conn.execute(query).all()
            runs = self._runs_for(conn, layout, [r.session_id for r in rows])
        return [self._session_from_row(r, runs[r.session_id]) for r in rows]

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
        conn.execute(self._insert(s).values(**values).on_conflict_do_nothing(index_elements=["session_id"]))
        row = conn.execute(select(s).where(s.c.session_id == header.session_id).with_for_update()).one()
        owner = row._mapping["user_id"]
        if owner is not None and header.user_id is not None and owner != header.user_id:
            raise SessionOwnershipError(
                f"session {header.session_id!r} belongs to another user; user_id={header.user_id!r} cannot write it")
        return row

    def _put_run(self, conn: Connection, layout: Layout, row: Any, run: RunOutput) -> Metrics:
        """Insert or update one run; returns how much it changes the session's metrics."""
        session_id = row._mapping["session_id"]
        run.session_id = session_id
        run.created_at = run.created_at or now()
        # the metrics as they will read back (NaN and Infinity are stored as null), so that
        # one NaN does not turn the session's sums into null
        new_metrics = Metrics.from_dict(codec.finite(run.metrics.to_dict())) if run.metrics else Metrics()
        if layout.runs is not None:
            t = layout.runs
            old = conn.execute(select(t.c.session_id, t.c.run_data).where(t.c.run_id == run.run_id)).first()
            values = _run_values(run)
            if old is None:
                next_index = (select(func.coalesce(func.max(t.c.run_index) + 1, 0))
                              .where(t.c.session_id == session_id).scalar_subquery())
                conn.execute(t.insert().values(**values, run_index=next_index))
                return new_metrics
            if old.session_id != session_id:
                raise ValueError(f"run_id {run.run_id!r} already belongs to session {old.session_id!r}, not {session_id!r}")
            old_run = self._decode_run(old.run_data, session_id=session_id, run_id=run.run_id, table=t.name)
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

    def append_runs(self, header: Session, runs: Sequence[RunOutput]) -> None:
        """Store runs of ``header``'s session, creating the session if needed.

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

    def upsert_run(self, session_id: str, run: RunOutput, user_id: Optional[str] = None) -> RunOutput:
        """Insert or replace one run (by ``run_id``) in a session; returns it.

        A missing session is created from the run's ids. Session metrics follow the
        change: a new run adds its metrics, a replaced one the difference.
        """
        run = RunOutput.from_dict(run) if isinstance(run, dict) else run
        header = session_from_dict({
            "session_id": session_id, "session_type": run.run_type, "agent_id": run.agent_id,
            "team_id": run.team_id, "workflow_id": run.workflow_id, "user_id": user_id or run.user_id,
        })
        self.append_runs(header, [run])
        return run

    def _merge_session(self, conn: Connection, layout: Layout, row: Any, header: Session, delta: Metrics) -> None:
        s = layout.sessions
        m = row._mapping
        sid = m["session_id"]
        data = codec.expect(codec.decode(m["session_data"], table=s.name, column="session_data", session_id=sid),
                            dict, table=s.name, column="session_data", session_id=sid) or {}
        incoming = header.session_data or {}
        merged = {**data, **{k: v for k, v in incoming.items() if k not in ("session_state", "session_metrics")}}
        state = {**(data.get("session_state") or {}), **(incoming.get("session_state") or {})}
        merged["session_state"] = state
        metrics = Metrics.from_dict(data.get("session_metrics") or {}) + delta
        merged["session_metrics"] = metrics.to_dict()
        values: Dict[str, Any] = {"session_data": encoded_like(m["session_data"], merged), "updated_at": now()}
        for col in ("agent_data", "team_data", "workflow_data", "metadata", "summary"):
            if getattr(header, col) is not None:
                values[col] = getattr(header, col)
        conn.execute(s.update().where(s.c.session_id == sid).values(**values))

    def upsert_session(self, session: Session) -> Session:
        """Write a whole session: its row as given, and each of its runs by ``run_id``.

        A session owned by another ``user_id`` is refused (:class:`SessionOwnershipError`).
        """
        if isinstance(session, dict):
            session = session_from_dict(session)
        layout = self.tables()
        with self._write() as conn:
            row = self._lock_session(conn, layout, session)
            s = layout.sessions
            values = _session_values(session)
            values["updated_at"] = session.updated_at or now()
            if session.created_at is None:
                del values["created_at"]  # keep the stored one
            if layout.runs is not None:
                for run in session.runs:
                    self._put_run(conn, layout, row, run)
            else:
                for run in session.runs:
                    run.session_id = session.session_id
                values["runs"] = [r.to_dict() for r in session.runs]
            conn.execute(s.update().where(s.c.session_id == session.session_id).values(**values))
        return session

    def delete_session(self, session_id: str, user_id: Optional[str] = None) -> bool:
        """Delete a session and its runs; with ``user_id``, only if that user owns it."""
        return self.delete_sessions([session_id], user_id=user_id) == 1

    def delete_sessions(self, session_ids: Iterable[str], user_id: Optional[str] = None) -> int:
        """Delete sessions and their runs; returns how many sessions went."""
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

    def rename_session(self, session_id: str, session_name: str, user_id: Optional[str] = None) -> Optional[Session]:
        """Set ``session_data.session_name``; returns the session, or None if not found."""
        layout = self.tables(create=False)
        if layout is None:
            return None
        s = layout.sessions
        with self._write() as conn:
            query = select(s.c.session_data).where(s.c.session_id == session_id)
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
        return self.get_session(session_id, user_id=user_id)

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
        return None if row is None else self._session_from_row(row, [])

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


def merge_runs(legacy: List[RunOutput], table: List[RunOutput]) -> List[RunOutput]:
    """Legacy blob runs merged with runs-table rows; the table's copy wins on run_id."""
    by_id = {r.run_id: r for r in table}
    merged = [by_id.pop(r.run_id, r) for r in legacy]
    return merged + [r for r in table if r.run_id in by_id]


_SESSION_FIELDS = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", *_JSON_COLUMNS,
                   "created_at", "updated_at")


def _session_values(session: Session) -> Dict[str, Any]:
    return {name: getattr(session, name) for name in _SESSION_FIELDS}


def _run_values(run: RunOutput) -> Dict[str, Any]:
    return {
        "run_id": run.run_id,
        "session_id": run.session_id,
        "run_type": run.run_type,
        "agent_id": run.agent_id,
        "team_id": run.team_id,
        "workflow_id": run.workflow_id,
        "user_id": run.user_id,
        "parent_run_id": run.parent_run_id,
        "status": run.status,
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
