"""Scores, labels and notes on runs and messages, kept outside Agno's tables.

Annotations never go into the source: the source stays read-only. They live in a side store:

* by default a SQLite file next to the source, ``<source>.agno_nb-annotations.sqlite``
  (for a SQLite file ``agent.db``: ``agent.db.agno_nb-annotations.sqlite``; for a Parquet
  export folder ``export/``: ``export.agno_nb-annotations.sqlite`` beside the folder, so a
  new export with ``overwrite=True`` keeps them). For a PostgreSQL source the default file
  is ``agno_nb-annotations.<host>-<port>-<database>.sqlite`` in the current folder;
* ``annotations=path``: that SQLite file instead;
* ``annotations="postgres"`` (PostgreSQL sources only): the table ``agno_nb.annotations``
  in the same database, schema created if missing; ``annotations_table="schema.table"``
  names another. Names starting with ``agno_`` (Agno's own prefix) are refused.

The SQLite file is opened only through Python's ``sqlite3`` (WAL, ``synchronous=FULL``),
carries agno_nb's ``application_id`` and holds one table, ``agno_nb_annotations``; agno_nb
refuses to write annotations into a file that is something else (an Agno database
included). Each row records which session table it annotates (``source``), so one store
can serve several sources without mixing them.

``runs()`` and ``sessions()`` get ``score`` and ``label``: of the run-level annotations
(``message_index`` NULL), the latest non-NULL score and the latest non-NULL label, by
``created_at`` (then by order of storing). A session's are those of the latest such
annotation of any of its runs. When the store does not exist this costs one ``stat``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import os
import sqlite3
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Dict, Hashable, List, Optional, Tuple, Union

import pyarrow as pa
import pyarrow.compute as pc

from ..db.schema import check_identifier
from ..db.sqlite import _enable_wal
from ..errors import AnnotationError, RunNotFoundError

SIDE_SUFFIX = ".agno_nb-annotations.sqlite"
SQLITE_TABLE = "agno_nb_annotations"
PG_SCHEMA, PG_TABLE = "agno_nb", "annotations"
APPLICATION_ID = 0x61676E62  # "agnb": marks a SQLite file as agno_nb's annotation store

# What the store returns (the DataFrame's columns, and the two kept for ordering and scope).
SCHEMA = pa.schema([
    ("annotation_id", pa.string()), ("session_id", pa.string()), ("run_id", pa.string()),
    ("message_index", pa.int64()), ("label", pa.string()), ("score", pa.float64()), ("note", pa.string()),
    ("author", pa.string()), ("created_at", pa.timestamp("us", tz="UTC")),
])
_FIELDS = [f.name for f in SCHEMA]
FILTERS = ("session_ids", "run_ids", "label", "author", "since", "until")


# -- the record ------------------------------------------------------------------------------

def new_record(run_id: Any, *, label: Any = None, score: Any = None, note: Any = None, author: Any = None,
               message_index: Any = None) -> Dict[str, Any]:
    """A checked annotation (without its session_id yet); :class:`AnnotationError` if a value is wrong."""
    if not isinstance(run_id, str) or not run_id:
        raise AnnotationError(f"run_id must be a non-empty string; got {run_id!r}")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, numbers.Real) or not math.isfinite(float(score)):
            raise AnnotationError(f"score must be a finite number (int or float); got {score!r} "
                                  f"for run_id={run_id!r}")
        score = float(score)
    for name, value in (("label", label), ("note", note), ("author", author)):
        if value is not None and not isinstance(value, str):
            raise AnnotationError(f"{name} must be a string; got {type(value).__name__} for run_id={run_id!r}")
    if message_index is not None:
        if isinstance(message_index, bool) or not isinstance(message_index, numbers.Integral) or message_index < 0:
            raise AnnotationError(f"message_index must be an integer >= 0 (as in messages()); got "
                                  f"{message_index!r} for run_id={run_id!r}")
        message_index = int(message_index)
    if label is None and score is None and (note is None or not note.strip()):
        raise AnnotationError(f"an annotation needs a label, a score or a note (run_id={run_id!r})")
    return {"annotation_id": uuid.uuid4().hex, "session_id": None, "run_id": run_id,
            "message_index": message_index, "label": label, "score": score, "note": note, "author": author,
            "created_at": time.time()}


def as_output(record: Dict[str, Any]) -> Dict[str, Any]:
    """The record as ``annotate`` returns it: ``created_at`` a UTC datetime."""
    out = {k: record[k] for k in _FIELDS}
    out["created_at"] = dt.datetime.fromtimestamp(record["created_at"], dt.timezone.utc)
    return out


def _table(rows: List[Tuple[Any, ...]]) -> pa.Table:
    """Rows in ``_FIELDS`` order (created_at as Unix seconds) as a table of SCHEMA."""
    cols = list(zip(*rows)) if rows else [[] for _ in _FIELDS]
    arrays = [pa.array(list(c), f.type) if f.name != "created_at"
              else pa.array([None if v is None else int(round(v * 1e6)) for v in c], pa.int64()).cast(f.type)
              for c, f in zip(cols, SCHEMA)]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


# -- stores ----------------------------------------------------------------------------------

class SqliteAnnotations:
    """Annotations in a SQLite file of their own (never the source's file)."""

    def __init__(self, path: Union[str, os.PathLike], scope: str, source_path: Optional[str] = None):
        self.path = Path(path).expanduser().absolute()
        self.scope = scope
        if source_path is not None and _same_file(self.path, Path(source_path)):
            raise AnnotationError(f"annotations={str(self.path)!r} is the source itself: annotations never go "
                                  "into Agno's tables. Pass another path.")
        self._lock = threading.Lock()
        self._writes = 0  # a second change within the file's mtime granularity still shows

    def describe(self) -> str:
        return f"SQLite file {str(self.path)!r}"

    def __repr__(self) -> str:
        return f"annotations in {self.describe()}"

    def _connect(self, create: bool) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise AnnotationError(f"cannot open the annotation store {self.describe()}: {exc}. "
                                  "Pass annotations=<a writable path> to connect().") from None
        try:
            # the mark and the tables read in one transaction, and written in one below: another
            # process creating the store at the same moment is seen either before or after, whole
            con.execute("BEGIN")
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            con.execute("COMMIT")
            if app_id != APPLICATION_ID and (app_id or tables - {SQLITE_TABLE, "sqlite_sequence"}):
                raise AnnotationError(f"{self.describe()} is not an agno_nb annotation store (it holds "
                                      f"{', '.join(sorted(tables)) or 'other data'}); agno_nb will not write "
                                      "there. Pass annotations=<another path> to connect().")
            con.execute("PRAGMA synchronous = FULL")
            if create and (app_id != APPLICATION_ID or SQLITE_TABLE not in tables):
                _enable_wal(con.cursor())
                con.execute("BEGIN IMMEDIATE")
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                con.execute(f"""CREATE TABLE IF NOT EXISTS {SQLITE_TABLE} (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, annotation_id TEXT NOT NULL UNIQUE,
                    source TEXT NOT NULL, session_id TEXT, run_id TEXT NOT NULL, message_index INTEGER,
                    label TEXT, score REAL, note TEXT, author TEXT, created_at REAL NOT NULL)""")
                con.execute(f"CREATE INDEX IF NOT EXISTS {SQLITE_TABLE}_run ON {SQLITE_TABLE} (source, run_id)")
                con.execute("COMMIT")
        except sqlite3.Error as exc:
            con.close()
            raise AnnotationError(f"cannot use the annotation store {self.describe()}: {exc}") from None
        except BaseException:
            con.close()
            raise
        return con

    def add(self, record: Dict[str, Any]) -> None:
        with self._lock:
            con = self._connect(create=True)
            try:
                with con:  # one transaction, committed (and fsynced: synchronous=FULL) on exit
                    con.execute("BEGIN IMMEDIATE")
                    con.execute(f"INSERT INTO {SQLITE_TABLE} (source, {', '.join(_FIELDS)}) "
                                f"VALUES ({', '.join('?' * (len(_FIELDS) + 1))})",
                                (self.scope, *(record[k] for k in _FIELDS)))
            except sqlite3.Error as exc:
                raise AnnotationError(f"cannot store the annotation of run_id={record['run_id']!r} in "
                                      f"{self.describe()}: {exc}") from None
            finally:
                con.close()
            self._writes += 1

    def delete(self, annotation_ids: List[str]) -> int:
        """Remove these annotations (of this store's source) in one transaction; how many went."""
        if not annotation_ids or not self.path.exists():
            return 0
        with self._lock:
            con = self._connect(create=False)
            try:
                with con:
                    con.execute("BEGIN IMMEDIATE")
                    gone = con.execute(f"DELETE FROM {SQLITE_TABLE} WHERE source = ? AND annotation_id IN "
                                       "(SELECT value FROM json_each(?))",
                                       (self.scope, json.dumps(annotation_ids))).rowcount
            except sqlite3.Error as exc:
                raise AnnotationError(f"cannot delete annotations from {self.describe()}: {exc}") from None
            finally:
                con.close()
            self._writes += 1
        return gone

    def read(self) -> pa.Table:
        if not self.path.exists():  # nothing annotated yet: no file is created by reading
            return SCHEMA.empty_table()
        con = self._connect(create=False)
        try:
            has = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (SQLITE_TABLE,)).fetchone()
            rows = con.execute(f"SELECT {', '.join(_FIELDS)} FROM {SQLITE_TABLE} WHERE source = ? "
                               "ORDER BY created_at, seq", (self.scope,)).fetchall() if has else []
        finally:
            con.close()
        return _table(rows)

    def version(self) -> Hashable:
        stats = []
        for p in (self.path, Path(f"{self.path}-wal")):
            try:
                st = p.stat()
                stats.append((st.st_size, st.st_mtime_ns))
            except OSError:
                stats.append(None)
        return (self._writes, tuple(stats))

    def close(self) -> None:
        pass


class PostgresAnnotations:
    """Annotations in a table of the source's PostgreSQL database, outside Agno's tables (asked for)."""

    def __init__(self, url: Any, scope: str, schema: str = PG_SCHEMA, table: str = PG_TABLE):
        import sqlalchemy as sa

        self.schema = check_identifier(schema, "annotations schema")
        self.table_name = check_identifier(table, "annotations table")
        if self.table_name.lower().startswith("agno_"):
            raise AnnotationError(f"annotations_table {self.table_name!r} starts with 'agno_', Agno's own prefix: "
                                  "name another table (default: agno_nb.annotations)")
        self.scope = scope
        self.url = url
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        self.engine = sa.create_engine(url, pool_size=1, max_overflow=0, connect_args={"connect_timeout": 10})
        self._finalizer = weakref.finalize(self, self.engine.dispose)
        md = sa.MetaData(schema=self.schema)
        self.table = sa.Table(
            self.table_name, md,
            sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
            sa.Column("annotation_id", sa.Text, nullable=False, unique=True),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("session_id", sa.Text), sa.Column("run_id", sa.Text, nullable=False),
            sa.Column("message_index", sa.BigInteger), sa.Column("label", sa.Text),
            sa.Column("score", sa.Double), sa.Column("note", sa.Text), sa.Column("author", sa.Text),
            sa.Column("created_at", sa.Double, nullable=False),
            sa.Index(f"{self.table_name}_run", "source", "run_id"),
        )

    def describe(self) -> str:
        u = self.url
        return (f"table {self.schema}.{self.table_name} of PostgreSQL database {u.database!r} on "
                f"{u.host or 'localhost'}:{u.port or 5432}")

    def __repr__(self) -> str:
        return f"annotations in {self.describe()}"

    def _error(self, exc: Exception, doing: str) -> AnnotationError:
        orig = getattr(exc, "orig", None) or exc
        detail = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        return AnnotationError(f"cannot {doing} the {self.describe()}: {detail}")

    def _exists(self, conn) -> bool:
        import sqlalchemy as sa

        name = f"{self.schema}.{self.table_name}"
        return conn.execute(sa.select(sa.func.to_regclass(name))).scalar() is not None

    def add(self, record: Dict[str, Any]) -> None:
        import sqlalchemy as sa

        try:
            with self.engine.begin() as conn:
                if not self._exists(conn):
                    conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
                    self.table.metadata.create_all(conn, checkfirst=True)
                conn.execute(self.table.insert().values(source=self.scope, **{k: record[k] for k in _FIELDS}))
        except sa.exc.DBAPIError as exc:
            raise self._error(exc, f"store the annotation of run_id={record['run_id']!r} in") from None

    def delete(self, annotation_ids: List[str]) -> int:
        """Remove these annotations (of this store's source) in one transaction; how many went."""
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import JSONB

        if not annotation_ids:
            return 0
        t = self.table
        try:
            with self.engine.begin() as conn:
                if not self._exists(conn):
                    return 0
                ids = sa.func.jsonb_array_elements_text(sa.cast(sa.literal(json.dumps(annotation_ids)), JSONB))
                return conn.execute(t.delete().where(t.c.source == self.scope,
                                                     t.c.annotation_id.in_(sa.select(ids.column_valued())))).rowcount
        except sa.exc.DBAPIError as exc:
            raise self._error(exc, "delete annotations from") from None

    def read(self) -> pa.Table:
        import sqlalchemy as sa

        t = self.table
        try:
            with self.engine.connect() as conn:
                if not self._exists(conn):
                    return SCHEMA.empty_table()
                rows = conn.execute(sa.select(*[t.c[k] for k in _FIELDS]).where(t.c.source == self.scope)
                                    .order_by(t.c.created_at, t.c.seq)).all()
                conn.rollback()
        except sa.exc.DBAPIError as exc:
            raise self._error(exc, "read") from None
        return _table([tuple(r) for r in rows])

    def version(self) -> Hashable:
        import sqlalchemy as sa

        t = self.table
        try:
            with self.engine.connect() as conn:
                if not self._exists(conn):
                    return None
                row = tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(t.c.seq))
                                         .where(t.c.source == self.scope)).one())
                conn.rollback()
                return row
        except sa.exc.DBAPIError as exc:
            raise self._error(exc, "read") from None

    def close(self) -> None:
        self._finalizer()


AnnotationStore = Union[SqliteAnnotations, PostgresAnnotations]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def default_path(source: Any) -> Path:
    """Where a source's annotations go by default (see the module's docstring)."""
    backend = getattr(source, "backend", None)
    if backend == "sqlite":
        return Path(f"{os.path.abspath(source.path)}{SIDE_SUFFIX}")
    if backend is not None:  # a server (PostgreSQL, MySQL): a local file named after it
        u = source.url
        port = u.port or (5432 if backend == "postgresql" else 3306)
        database = u.database if backend == "postgresql" else source.db_schema  # MySQL: Agno's tables' database
        return Path.cwd() / f"agno_nb-annotations.{u.host or 'localhost'}-{port}-{database}.sqlite"
    return Path(f"{os.path.abspath(source.path)}{SIDE_SUFFIX}")  # a Parquet export: beside its folder


def _scope(source: Any) -> str:
    """Which session table the annotations are about (a store may serve several)."""
    table = getattr(source, "session_table", None)
    if table is None:
        return "parquet-export"
    schema = getattr(source, "db_schema", None)
    return f"{schema}.{table}" if schema else table


def store_for(source: Any, annotations: Any = None, annotations_table: Optional[str] = None) -> AnnotationStore:
    """The store ``connect(..., annotations=, annotations_table=)`` asks for (nothing is opened yet)."""
    backend = getattr(source, "backend", None)
    if annotations == "postgres" or (annotations is None and annotations_table is not None):
        if backend != "postgresql":
            raise ValueError("annotations='postgres' keeps annotations in the source's PostgreSQL database; this "
                             f"source is {source.describe() if hasattr(source, 'describe') else source}. "
                             "Pass annotations=<a SQLite path> or nothing.")
        schema, table = PG_SCHEMA, PG_TABLE
        if annotations_table is not None:
            schema, _, table = annotations_table.rpartition(".")
            schema = schema or PG_SCHEMA
        return PostgresAnnotations(source.url, _scope(source), schema=schema, table=table)
    if annotations_table is not None:
        raise ValueError("annotations_table= names a PostgreSQL table; use it with annotations='postgres'")
    if annotations is not None and not isinstance(annotations, (str, os.PathLike)):
        raise TypeError(f"annotations must be a path, 'postgres' or None; got {type(annotations).__name__}")
    path = Path(annotations) if annotations is not None else default_path(source)
    return SqliteAnnotations(path, _scope(source), source_path=getattr(source, "path", None)
                             if backend == "sqlite" else None)


# -- reading ---------------------------------------------------------------------------------

def filtered(table: pa.Table, method: str, filters: Dict[str, Any]) -> pa.Table:
    """The rows of ``table`` that ``filters`` (:data:`FILTERS`) keep; a TypeError for any other keyword."""
    from .filters import to_unix

    unknown = [k for k in filters if k not in FILTERS]
    if unknown:
        raise TypeError(f"{method} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"its filters are: {', '.join(FILTERS)}")
    mask = None

    def both(m):
        return m if mask is None else pc.and_(mask, m)

    for key, col in (("session_ids", "session_id"), ("run_ids", "run_id")):
        values = filters.get(key)
        if values is not None:
            values = [values] if isinstance(values, str) else list(values)
            mask = both(pc.is_in(table[col], pa.array(values, pa.string())))
    for key in ("label", "author"):
        if filters.get(key) is not None:
            mask = both(pc.fill_null(pc.equal(table[key], filters[key]), False))
    for key, op in (("since", pc.greater_equal), ("until", pc.less)):
        if filters.get(key) is not None:
            at = pa.scalar(to_unix(filters[key], key) * 1_000_000, pa.int64()).cast(SCHEMA.field("created_at").type)
            mask = both(op(table["created_at"], at))
    return table if mask is None else table.filter(mask)


def latest(annotations: pa.Table, key: str) -> Dict[str, Dict[str, Any]]:
    """Per ``key`` (run_id or session_id): the latest non-NULL score and label of run-level annotations.

    ``annotations`` is in storing order (by created_at, then seq), so the last one seen wins.
    """
    out: Dict[str, Dict[str, Any]] = {}
    rows = annotations.select([key, "message_index", "score", "label"]).to_pydict()
    for k, mi, score, label in zip(rows[key], rows["message_index"], rows["score"], rows["label"]):
        if mi is not None or k is None:
            continue
        entry = out.setdefault(k, {"score": None, "label": None})
        if score is not None:
            entry["score"] = score
        if label is not None:
            entry["label"] = label
    return out


def with_latest(table: pa.Table, name: str, annotations: pa.Table) -> pa.Table:
    """``table`` (runs or sessions) with its ``score`` and ``label`` from ``annotations``.

    A value already in the table (a Parquet export keeps the scores it was written with)
    stays where the store has none.
    """
    key = "run_id" if name == "runs" else "session_id"
    if annotations.num_rows == 0 or key not in table.column_names:
        return table
    found = latest(annotations, key)
    if not found:
        return table
    keys = pa.array(list(found), pa.string())
    idx = pc.index_in(table[key], value_set=keys)
    for col, typ in (("score", pa.float64()), ("label", pa.string())):
        i = table.schema.get_field_index(col)
        if i < 0:
            continue
        values = pa.array([v[col] for v in found.values()], typ).take(idx)
        existing = table.column(i)
        if existing.type != typ:
            existing = existing.cast(typ)
        table = table.set_column(i, pa.field(col, typ), pc.if_else(pc.is_valid(values), values, existing))
    return table


# -- the annotated run -----------------------------------------------------------------------

def session_of(explorer: Any, run_id: str) -> str:
    """The session_id of ``run_id`` in the explorer's source; :class:`RunNotFoundError` if it has none.

    Looked up with one indexed query on the runs table (read-only); member and step runs
    kept inside their parent's document are found through the loaded runs table.
    """
    import sqlalchemy as sa

    source = explorer.source
    if not source.parsed and source.layout()[1]:  # a SQL database with a runs table
        _, r = source._tables()
        engine = source._sa_engine()
        try:
            with engine.connect() as conn:
                if source.backend == "postgresql":
                    conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                found = conn.execute(sa.select(r.c.session_id).where(r.c.run_id == run_id).limit(1)).scalar()
                # step runs live inside their workflow run's document: only then is a full look needed
                nested = found is None and conn.execute(
                    sa.select(sa.literal(1)).select_from(r).where(r.c.run_type == "workflow").limit(1)).first()
                conn.rollback()
        except sa.exc.DBAPIError as exc:
            raise source._unreachable(exc) from None
        finally:
            engine.dispose()
        if found is not None:
            return found
        if not nested:
            return _not_found(source, run_id)
    df = explorer.sql("SELECT session_id FROM runs WHERE run_id = ? LIMIT 1", [run_id])
    if len(df):
        return df["session_id"].iloc[0]
    return _not_found(source, run_id)


def _not_found(source: Any, run_id: str):
    where = source.describe() if hasattr(source, "describe") else str(source)
    raise RunNotFoundError(f"no run with run_id={run_id!r} in {where}: nothing was annotated")
