"""The SQL side of the explorer: read-only user SQL over the four tables, kept loaded.

- :func:`check_read_only` lets through only statements DuckDB's own parser calls SELECT
  (``WITH``, ``FROM``-first, ``VALUES``, ``DESCRIBE``, ``SUMMARIZE``, ``PIVOT … IN (…)``), and
  :func:`check_select_tree` refuses what such a SELECT may still hold that writes (DML in a
  ``WITH``, table functions that change state, a database file read as a table).
- :func:`query_connection` is the DuckDB connection user SQL runs on: no extension is
  installed or loaded on demand (DuckDB's sqlite extension would open the user's file with
  a second SQLite library in this process), and its configuration is locked.
- :func:`tables_used` finds the tables a query reads from the parsed query, not its text.
- :class:`TableCache` keeps loaded tables until :func:`source_version` says the source changed.
- :func:`bind_variables` turns ``$name`` into a bound parameter, found by DuckDB's tokenizer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import urllib.parse
import uuid
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, Hashable, Iterable, List, Mapping, Optional, Tuple

import duckdb
import pyarrow as pa

from ..errors import ReadOnlyError

TABLE_NAMES = ("sessions", "runs", "messages", "tool_calls")

_READ_TYPES = {duckdb.StatementType.SELECT}
# Table functions that change the database's or the process's state (a checkpoint, logging
# to a file, profiling, grammar or resource registries), or run SQL or open a database the
# check cannot see into. Everything else callable from a SELECT reads.
_STATEFUL_FUNCTIONS = {
    "checkpoint", "force_checkpoint", "enable_logging", "disable_logging", "truncate_duckdb_logs",
    "enable_profiling", "disable_profiling", "add_grammar_extension", "remove_grammar_extension",
    "create_external_resource", "register_external_resource", "register_external_resource_type",
    "deregister_external_resource", "destroy_external_resource", "json_execute_serialized_sql",
    "query", "query_table", "read_duckdb", "sqlite_scan", "sqlite_attach", "postgres_scan", "mysql_scan",
}
_WRITING_KEYWORDS = {"insert", "update", "delete", "merge", "copy", "attach", "install", "load", "create", "drop"}
_DATABASE_FILES = (".db", ".db3", ".sqlite", ".sqlite3", ".duckdb", ".ddb")
_HINT = ("the explorer is read-only: ex.sql() and %agno_sql run SELECT queries only (WITH, FROM, VALUES, "
         "DESCRIBE, SUMMARIZE, PIVOT … IN (…), EXPLAIN of those); nothing may write, delete, attach, install or load")


def _statement_kind(statement: Any) -> str:
    try:
        return statement.type.name
    except ValueError:  # a statement type newer than the Python enum (UPDATE EXTENSIONS, ...)
        return "unknown"


def _explained(query: str) -> Optional[str]:
    """The statement an ``EXPLAIN [ANALYZE] [(options)] …`` explains, by DuckDB's tokens (None if not found)."""
    offsets = [offset for offset, _ in duckdb.tokenize(query)]
    toks = _tokens(query)
    i = 0
    while i < len(toks) and toks[i][1] == "comment":
        i += 1
    if i == len(toks) or toks[i][0].strip().lower() != "explain":
        return None
    i += 1
    if i < len(toks) and toks[i][0].strip().lower() == "analyze":
        i += 1
    if i < len(toks) and toks[i][0].strip() == "(":  # options: skip to the matching ")"
        depth = 0
        while i < len(toks):
            if toks[i][1] == "operator":
                depth += toks[i][0].count("(") - toks[i][0].count(")")
            i += 1
            if depth <= 0:
                break
    return query[offsets[i]:] if i < len(toks) else None


def check_read_only(query: str) -> str:
    """The SELECT to look into: ``query`` itself, or the SELECT an ``EXPLAIN`` explains.

    Raises :class:`ReadOnlyError` naming what was refused for anything but one read-only statement.
    """
    statements = duckdb.extract_statements(query)  # a syntax error stays DuckDB's own
    if not statements:
        raise ValueError("no SQL statement to run (the query is empty or only comments)")
    if len(statements) != 1:
        raise ReadOnlyError(f"expected one SQL statement, got {len(statements)}; {_HINT}")
    statement = statements[0]
    try:
        read = statement.type in _READ_TYPES
        if statement.type == duckdb.StatementType.EXPLAIN:
            inner = _explained(query)
            if inner is not None:
                return check_read_only(inner)  # EXPLAIN ANALYZE runs it: it must be a read too
    except ValueError:
        read = False
    if not read:
        kind = _statement_kind(statement)
        extra = (" (a PIVOT without an IN list creates types: name the values, PIVOT … ON col IN (…))"
                 if kind == "MULTI" else "")
        raise ReadOnlyError(f"{kind} statement refused{extra}: {_HINT}")
    return query


def parse_tree(con: duckdb.DuckDBPyConnection, query: str) -> Optional[dict]:
    """The query's syntax tree from DuckDB's serializer (None where it cannot serialize it)."""
    text = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [query]).fetchall()[0][0]
    tree = json.loads(text)
    return None if tree.get("error") else tree


def _walk(node: Any) -> Iterable[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def check_select_tree(query: str, tree: Optional[dict]) -> None:
    """Refuse what a SELECT may still hold that writes or changes state.

    That is an INSERT, UPDATE, DELETE or MERGE in a ``WITH`` clause (DuckDB runs them), the
    table functions in ``_STATEFUL_FUNCTIONS``, and database files named as tables
    (``FROM 'agent.db'`` would need DuckDB's sqlite extension). Where DuckDB cannot serialize
    the tree, a keyword token that could start such a statement is refused instead.
    """
    if tree is None:
        words = {text.strip().lower() for text, kind in _tokens(query) if kind == "keyword"}
        found = sorted(words & _WRITING_KEYWORDS)
        if found:
            raise ReadOnlyError(f"{found[0].upper()} inside a query refused: {_HINT}")
    for node in _walk(tree):
        kind = str(node.get("type", ""))
        if kind.endswith("_QUERY_NODE") and kind.split("_")[0] in ("INSERT", "UPDATE", "DELETE", "MERGE"):
            raise ReadOnlyError(f"{kind.split('_')[0]} inside a query refused: {_HINT}")
        if node.get("type") == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            if name.lower().endswith(_DATABASE_FILES):
                raise ReadOnlyError(f"reading the database file {name!r} from SQL is refused (query the "
                                    f"connected source's tables instead): {_HINT}")
        if node.get("type") == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name in _STATEFUL_FUNCTIONS:
                raise ReadOnlyError(f"table function {name}() refused: {_HINT}")


def tables_used(query: str, tree: Optional[dict], names: Iterable[str] = TABLE_NAMES) -> List[str]:
    """Which of the tables ``names`` ``query`` reads: table references in its syntax tree.

    A string literal, a comment or a column named like a table does not count. Should DuckDB
    fail to serialize the tree, identifiers found by DuckDB's tokenizer are used instead: at
    worst a table is loaded that was not needed.
    """
    known = list(names)
    if tree is not None:
        found = {str(n.get("table_name", "")).lower() for n in _walk(tree) if n.get("type") == "BASE_TABLE"}
    else:
        found = {text.strip().strip('"').lower() for text, kind in _tokens(query) if kind == "identifier"}
    return [name for name in known if name in found]


def query_connection() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for user SQL that can neither load extensions nor change its settings.

    Parquet, JSON and CSV readers are built into DuckDB, so the user's own files still read;
    anything needing an extension (sqlite_scan, httpfs, ...) fails instead of loading it.
    """
    # An extension directory that does not exist: an extension the user installed for their
    # own DuckDB work (sqlite_scanner among them) cannot be loaded here either.
    nowhere = os.path.join(tempfile.gettempdir(), f"agno_nb-no-extensions-{uuid.uuid4().hex}")
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                 "allow_community_extensions": False, "allow_unsigned_extensions": False,
                                 "extension_directory": nowhere})
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET lock_configuration = true")
    return con


def int_results(table: pa.Table) -> pa.Table:
    """Whole-number DECIMAL columns of a query's result as int64, where every value fits.

    DuckDB sums BIGINT into HUGEINT, which reaches Arrow as ``decimal128(38, 0)``: pandas would
    show ``sum(total_tokens)`` as ``decimal.Decimal`` objects. A sum too large for int64 stays
    a decimal (exact).
    """
    for i, fld in enumerate(table.schema):
        if pa.types.is_decimal(fld.type) and fld.type.scale == 0:
            try:
                col = table.column(i).cast(pa.int64())  # a safe cast: raises on overflow
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            table = table.set_column(i, pa.field(fld.name, pa.int64(), fld.nullable), col)
    return table


# -- knowing when the source changed -----------------------------------------------------------


def _stat(path: str) -> Optional[Tuple[int, int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class SqliteVersion:
    """A SQLite file's version: ``PRAGMA data_version`` and the size and mtime of the file and its WAL.

    ``data_version`` changes when another connection commits; it is read on a connection of
    our own, opened read-only through Python's ``sqlite3`` (the one SQLite library the user's
    process may use) and never writing, so every commit is another connection's. The file's
    identity and stat catch a file replaced whole, which that connection would not see.
    """

    def __init__(self, path: str):
        self.path = path
        self._con: Optional[sqlite3.Connection] = None
        self._ino: Optional[Tuple[int, int, int, int]] = None
        self._lock = threading.Lock()

    def _data_version(self, stat: Optional[Tuple[int, int, int, int]]) -> Optional[int]:
        if stat is None:
            return None
        if self._con is not None and self._ino is not None and self._ino[:2] != stat[:2]:
            self.close()  # the file was replaced: a connection to the old one says nothing
        try:
            if self._con is None:
                uri = f"file:{urllib.parse.quote(self.path)}?mode=ro"
                self._con = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
                self._ino = stat
            # fetchall steps the statement to its end: no read lock stays behind to block a writer
            return self._con.execute("PRAGMA data_version").fetchall()[0][0]
        except sqlite3.Error:
            self.close()
            return None  # the stat alone decides

    def current(self) -> Hashable:
        with self._lock:
            stat = _stat(self.path)
            return (stat, _stat(self.path + "-wal"), self._data_version(stat))

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.close()


class PostgresVersion:
    """A PostgreSQL source's version: row count and latest ``updated_at`` of both tables, and of
    ``extra_tables`` that exist (Agno's other tables, which ``ex.sql()`` can name too)."""

    def __init__(self, source: Any, extra_tables: Iterable[str] = ()):
        self.extra_tables = tuple(extra_tables)
        import sqlalchemy as sa

        self.source = source
        url = source.url
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        self.engine = sa.create_engine(url, pool_size=1, max_overflow=0, connect_args={"connect_timeout": 10})
        self._finalizer = weakref.finalize(self, self.engine.dispose)
        self._query = None
        self._complete = True

    def _build(self, conn) -> Any:
        import sqlalchemy as sa

        _, has_runs, _ = self.source.layout()
        insp = sa.inspect(conn)
        parts = []
        extra = [(name, insp.has_table(name, schema=self.source.db_schema)) for name in self.extra_tables]
        # a missing extra table may be created later: then the query is built again each time
        self._complete = all(present for _, present in extra)
        parts.append(sa.literal(",".join(name for name, present in extra if present)))
        for name, present in ((self.source.session_table, True), (self.source.runs_table, has_runs), *extra):
            if not present:
                continue
            cols = {c["name"] for c in insp.get_columns(name, schema=self.source.db_schema)}
            stamp = "updated_at" if "updated_at" in cols else "created_at"
            t = sa.table(name, sa.column(stamp), schema=self.source.db_schema)
            parts += [sa.select(sa.func.count()).select_from(t).scalar_subquery(),
                      sa.select(sa.func.max(t.c[stamp])).scalar_subquery()]
            if (name, present) in extra:
                # Agno's other tables change in place within a second (an approval decided):
                # the newest row version's transaction id sees that
                xmin = sa.cast(sa.cast(sa.literal_column("xmin"), sa.Text), sa.BigInteger)
                parts.append(sa.select(sa.func.max(xmin)).select_from(t).scalar_subquery())
        return sa.select(*parts)

    def current(self) -> Hashable:
        import sqlalchemy as sa

        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                if self._query is None or not self._complete:
                    self._query = self._build(conn)
                row = tuple(conn.execute(self._query).one())
                conn.rollback()
        except sa.exc.DBAPIError as exc:
            unreachable = getattr(self.source, "_unreachable", None)  # names host, database, user
            if unreachable is None:
                raise
            raise unreachable(exc) from None
        return row

    def close(self) -> None:
        self._finalizer()


class FolderVersion:
    """A Parquet export's version: every file's path, size and mtime (and the folder's identity)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def current(self) -> Hashable:
        files = []
        for root, _, names in os.walk(self.path):
            files += [(os.path.join(root, n), _stat(os.path.join(root, n))) for n in names]
        return (_stat(self.path), tuple(sorted(files)))

    def close(self) -> None:
        pass


class _Always:
    """A source whose changes cannot be seen: every query reloads."""

    def current(self) -> Hashable:
        return object()

    def close(self) -> None:
        pass


def source_version(source: Any, extra_tables: Iterable[str] = ()):
    """The cheap change check for ``source`` (see the classes above); ``extra_tables``: other
    tables of a PostgreSQL source whose changes count (a SQLite file's version covers them all)."""
    version = getattr(source, "version", None)  # every Source has one (agno_nb.analysis.protocol)
    return version(tuple(extra_tables)) if version is not None else _Always()


class TableCache:
    """The four tables as loaded for SQL, registered on the query connection, until the source changes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, load: Callable[[str], pa.Table], version: Any,
                 names: Iterable[str] = TABLE_NAMES):
        self.con, self.load, self.version = con, load, version
        # the only tables a query can name: nothing else of the source is reachable from SQL
        self.names = tuple(names)
        self.tables: Dict[str, pa.Table] = {}
        self.at: Optional[Hashable] = None
        self._checked: Dict[str, List[str]] = {}  # query text -> the tables it reads, once checked

    def check(self, query: str) -> List[str]:
        """The tables ``query`` reads, once it passed the read-only checks (:class:`ReadOnlyError` if not).

        A notebook runs the same text again and again: its parse is remembered.
        """
        tables = self._checked.get(query)
        if tables is None:
            select = check_read_only(query)
            tree = parse_tree(self.con, select)
            check_select_tree(select, tree)
            tables = tables_used(select, tree, self.names)
            if len(self._checked) >= 256:
                self._checked.clear()
            self._checked[query] = tables
        return tables

    def ensure(self, names: Iterable[str]) -> None:
        """Make ``names`` current on the connection: reload every table if the source changed."""
        names = list(names)
        if not names:
            return
        now = self.version.current()  # taken before loading: a write during the load shows next time
        if now != self.at:
            self.clear()
            self.at = now
        for name in names:
            if name not in self.tables:
                self.tables[name] = self.load(name)
                self.con.register(name, self.tables[name])

    def clear(self) -> None:
        for name in self.tables:
            self.con.unregister(name)
        self.tables.clear()
        self.at = None

    def close(self) -> None:
        self.clear()
        self.version.close()


# -- $name in notebook SQL -------------------------------------------------------------------


def _tokens(query: str) -> List[Tuple[str, str]]:
    """(text, kind) of each token of ``query``, by DuckDB's own tokenizer (text keeps trailing space)."""
    toks = duckdb.tokenize(query)
    out = []
    for i, (offset, kind) in enumerate(toks):
        end = toks[i + 1][0] if i + 1 < len(toks) else len(query)
        out.append((query[offset:end], kind.name if hasattr(kind, "name") else str(kind).split(".")[-1]))
    return out


def variables_in(query: str) -> List[str]:
    """The ``$name`` parameters of ``query``: not inside a string, a comment or a quoted identifier."""
    toks = duckdb.tokenize(query)
    names = []
    for i, (offset, kind) in enumerate(toks):
        if query[offset] != "$" or not str(kind).endswith("operator") or i + 1 == len(toks):
            continue
        start, _ = toks[i + 1]
        if start != offset + 1:  # "$ name": not a parameter
            continue
        end = toks[i + 2][0] if i + 2 < len(toks) else len(query)
        name = query[start:end].rstrip()
        if name.isidentifier() and name not in names:
            names.append(name)
    return names


def bind_variables(query: str, namespace: Mapping[str, Any], *, where: str = "%agno_sql") -> Tuple[str, Dict[str, Any]]:
    """``query`` and the values of its ``$name`` parameters from ``namespace``.

    The query text is unchanged: DuckDB binds ``$name`` itself, so a value is never pasted
    into the SQL.
    """
    params = {}
    for name in variables_in(query):
        if name not in namespace:
            raise NameError(f"{where}: ${name} is not defined in the notebook")
        params[name] = namespace[name]
    return query, params
