"""Reading a SQLite file into Arrow through Python's own ``sqlite3`` module, read-only.

Only ``sqlite3`` may open the file in the user's process: a second SQLite library (ADBC's
driver, DuckDB's sqlite extension) keeps its own POSIX locks, which never conflict with
``sqlite3``'s inside one process, and closing either library's descriptor drops the other's
locks. An Agent writing through SQLAlchemy + ``sqlite3`` in the same process would then
lose committed runs or corrupt the file (https://sqlite.org/howtocorrupt.html, section 2.2).

Rows come as bytes (``text_factory=bytes``: no UTF-8 decoding into Python strings) and
become Arrow arrays a batch at a time; ``sqlite3`` releases the GIL while SQLite steps, so a
background reader overlaps with DuckDB parsing the batches before.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import urllib.parse
import warnings
import weakref
from typing import Any, Iterator, Optional, Sequence

import pyarrow as pa

from ..errors import AgnoNbError, DatabaseCorruptError, DatabaseUnreachableError, HotJournalError

# SQLite's result codes (https://sqlite.org/rescode.html)
_BUSY, _CORRUPT, _NOTADB, _CANTOPEN = 5, 11, 26, 14
_READONLY_ROLLBACK = 8 | (3 << 8)  # a hot journal that a read-only connection cannot roll back
BUSY_TIMEOUT_S = 30.0  # a writer's transaction in progress: wait for it, as a writer would


def ro_uri(path: str) -> str:
    """A read-only SQLite URI for ``path`` (which may hold '?', '#' or '%')."""
    return f"file:{urllib.parse.quote(path)}?mode=ro"


def error_for(exc: BaseException, path: str) -> Optional[AgnoNbError]:
    """agno_nb's error for a ``sqlite3`` error on ``path``, or None when it is not one we explain."""
    if isinstance(exc, AgnoNbError):
        return exc
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return DatabaseCorruptError(
            f"SQLite file {path!r} is damaged ({text}): SQLite cannot read some of its pages. Nothing was "
            f"changed. To save what can be read: `sqlite3 {path!r} .recover > recovered.sql`, then load that "
            "into a new file (https://sqlite.org/recovery.html).")
    if primary == _CANTOPEN or "unable to open" in text:
        return DatabaseUnreachableError(f"cannot read SQLite file {path!r}: {text}. Check the path and its permissions.")
    if primary == _BUSY or "locked" in text:
        return DatabaseUnreachableError(
            f"SQLite file {path!r} stayed locked by a writer for {BUSY_TIMEOUT_S:.0f} s ({text}); try again.")
    return None


def _has_hot_journal(path: str) -> bool:
    try:
        return os.path.getsize(path + "-journal") > 0
    except OSError:
        return False


class _RecoveredCopy:
    """A private copy of a file left with a hot rollback journal, rolled back as SQLite would.

    A writer killed mid-transaction (rollback-journal mode, Agno 2.x's default) leaves
    ``FILE-journal``, holding the original pages: the next writer to open the file rolls it
    back. A read-only connection may not, so SQLite refuses it ("attempt to write a readonly
    database"). Rather than write to the user's file, the file and its journal are copied
    beside each other in a temporary folder and the copy is rolled back: it holds exactly
    the last committed state. The journal is checked unchanged afterwards, so a writer that
    recovered the file meanwhile is not mixed with the old journal.
    """

    def __init__(self, path: str):
        self.dir = tempfile.mkdtemp(prefix="agno_nb-recovered-")
        self.path = os.path.join(self.dir, "db.sqlite")
        journal = path + "-journal"
        try:
            before = os.stat(journal)
            shutil.copyfile(journal, self.path + "-journal")
            shutil.copyfile(path, self.path)
            after = os.stat(journal)
            if (before.st_ino, before.st_size, before.st_mtime_ns) != (after.st_ino, after.st_size, after.st_mtime_ns):
                raise OSError("the journal changed while it was copied")
            con = sqlite3.connect(self.path)  # read-write: rolls the copy back
            try:
                con.execute("SELECT count(*) FROM sqlite_master").fetchall()
            finally:
                con.close()
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _warn_recovered(path: str) -> None:
    warnings.warn(
        f"SQLite file {path!r} has a hot rollback journal ({path}-journal): a writer was killed in the middle "
        "of a transaction. agno_nb read a private copy rolled back to the last commit and left your file as it "
        "is. To repair the file itself, open it once with a writer (e.g. `sqlite3.connect(path).execute("
        "'select count(*) from sqlite_master')`, or agno's SqliteDb) while nothing else uses it.",
        RuntimeWarning, stacklevel=4)


def connect(path: str, *, raw_text: bool = True) -> sqlite3.Connection:
    """A read-only ``sqlite3`` connection to ``path``, in autocommit mode (BEGIN is explicit).

    ``raw_text``: text comes as UTF-8 bytes (for :class:`ArrowCursor`), else as ``str``.

    A file left with a hot journal is read from a rolled-back private copy (with a warning);
    the copy is removed when the connection is garbage collected or the process exits.
    """
    if not os.path.isfile(path):
        raise DatabaseUnreachableError(f"cannot read SQLite file {path!r}: no such file")
    con = None
    try:
        con = _open(path, raw_text)
        con.execute("SELECT count(*) FROM sqlite_master").fetchall()  # a hot journal shows here
        return con
    except sqlite3.Error as exc:
        if con is not None:
            con.close()
        code = getattr(exc, "sqlite_errorcode", None)
        if (code == _READONLY_ROLLBACK or "readonly database" in str(exc)) and _has_hot_journal(path):
            try:
                copy = _RecoveredCopy(path)
            except (OSError, sqlite3.Error) as copy_exc:
                if not _has_hot_journal(path):  # a writer rolled the file back meanwhile: it reads as it is
                    return connect(path, raw_text=raw_text)
                raise HotJournalError(
                    f"SQLite file {path!r} has a hot rollback journal ({path}-journal): a writer was killed in "
                    "the middle of a transaction, and a read-only reader may not roll it back (SQLite says "
                    f"{exc}). agno_nb could not read a rolled-back copy either ({copy_exc}). Open the file once "
                    "with a writer (e.g. `sqlite3.connect(path).execute('select count(*) from sqlite_master')`, "
                    "or agno's SqliteDb) to roll the interrupted transaction back, then read it again.") from None
            _warn_recovered(path)
            con = _open(copy.path, raw_text)
            _remove_with(con, copy)
            return con
        raise (error_for(exc, path) or exc) from None


def _open(path: str, raw_text: bool) -> sqlite3.Connection:
    con = sqlite3.connect(ro_uri(path), uri=True, check_same_thread=False, isolation_level=None,
                          timeout=BUSY_TIMEOUT_S, factory=_Connection)
    if raw_text:
        con.text_factory = bytes
    return con


class _Connection(sqlite3.Connection):
    """A connection that removes the recovered copy it reads (if any) when it closes or is collected."""

    recovered: Optional[_RecoveredCopy] = None

    def close(self) -> None:
        super().close()
        if self.recovered is not None:
            self.recovered.remove()


def _remove_with(con: sqlite3.Connection, copy: _RecoveredCopy) -> None:
    con.recovered = copy
    weakref.finalize(con, copy.remove)
    atexit.register(copy.remove)  # a connection still open at exit


class ArrowCursor:
    """Runs one query at a time on a ``sqlite3`` connection and hands the rows over as Arrow."""

    def __init__(self, con: sqlite3.Connection, path: str, batch_rows: int = 1024):
        self.con, self.path, self.batch_rows = con, path, batch_rows
        self.cur = con.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self.cur.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise (error_for(exc, self.path) or exc) from None

    def fetchone(self):
        try:
            return self.cur.fetchone()
        except sqlite3.Error as exc:
            raise (error_for(exc, self.path) or exc) from None

    def result_schema(self, schema: pa.Schema) -> pa.Schema:
        """The last query's columns, typed as in ``schema`` (text where ``schema`` lacks one)."""
        names = [d[0] for d in self.cur.description or ()]
        return pa.schema([(n, schema.field(n).type if n in schema.names else pa.string()) for n in names])

    def batches(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """The rows of the last query, ``batch_rows`` at a time, typed as ``result_schema(schema)``."""
        schema = self.result_schema(schema)
        while True:
            try:
                rows = self.cur.fetchmany(self.batch_rows)
            except sqlite3.Error as exc:
                raise (error_for(exc, self.path) or exc) from None
            if not rows:
                return
            arrays = [_array(values, f.type) for values, f in zip(zip(*rows), schema)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def reader(self, schema: pa.Schema) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.result_schema(schema), self.batches(schema))

    def table(self, schema: pa.Schema) -> pa.Table:
        return pa.Table.from_batches(list(self.batches(schema)), schema=self.result_schema(schema))

    def close(self) -> None:
        self.cur.close()


def _array(values: Sequence[Any], want: pa.DataType) -> pa.Array:
    try:
        if pa.types.is_string(want):
            # the UTF-8 bytes as they are, checked once: three times as fast as joining them in
            # numpy, and faster than pa.array(values, pa.string())
            arr = pa.array(values, pa.binary()).view(pa.string())
            arr.validate(full=True)
            return arr
        return pa.array(values, want)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, AttributeError):
        if not pa.types.is_string(want):
            raise
        # not all UTF-8 bytes (SQLite stores whatever text it is given, and a column may hold
        # numbers): as Python would show them
        return pa.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else None if v is None else str(v)
                         for v in values], want)
