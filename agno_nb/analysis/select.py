"""Columns on demand and ``where=`` for the table methods (``ex.runs(columns=..., where=..., params=...)``).

:func:`selection` turns what the user asked for into a :class:`Selection`:

- ``columns``: names from :func:`~agno_nb.analysis.columns.describe`, and :class:`Column`
  specs with a ``path=`` into the stored item's JSON (the run, the message, the tool
  execution; for ``sessions`` the session's ``session_data``). Only these columns are
  parsed: the ``from_json`` structure is built from them alone.
- Key columns: ``session_id`` and ``run_id`` are always computed (bad rows are reported by
  them, and repaired rows are matched by ``session_id``); they are returned only when asked
  for. Columns that ``where=`` names are computed too, for the filter, and dropped after it.
- ``where``: a DuckDB predicate over the table's columns, with ``?`` or ``$name`` parameters
  in ``params``. It runs as ``SELECT … FROM <table> WHERE <predicate>`` through the same
  read-only checks as :meth:`SessionExplorer.sql` (:class:`TableCache.check`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import duckdb
import pyarrow as pa

from ..errors import ReadOnlyError
from .columns import JSONTEXT, TABLES, TEXT, TIME, Column, parsed_paths
from .sql import TableCache, _walk, check_read_only, check_select_tree, parse_tree
from .usage import USAGE, with_usage  # noqa: F401 - importable from here, as always

KEYS = ("session_id", "run_id")
# the alias the filtered table has in a where= query: columns may be qualified (runs.status)
_WHERE_TABLE = "_agno_nb_where"
# a path part may hold anything JSON keys hold but what would end a quoted SQL name or literal
_BAD_PATH = re.compile(r"[\"'\\\x00-\x1f]")
# paths the parser itself reads in a run document (run counts): a user path may not take them over
_RESERVED = {"runs": ("messages", "tools")}

Params = Optional[Union[Sequence[Any], Dict[str, Any]]]


@dataclass
class Selection:
    """What a table method computes (``parse``), returns (``output``) and filters on (``where``)."""

    table: str
    parse: List[Column]
    output: List[str]
    where: Optional[str] = None
    params: Params = None
    all_columns: bool = True  # nothing left out: the declared table as it always was
    extra: List[Column] = field(default_factory=list)  # the user's Column specs

    def finish(self, table: pa.Table, tables: Callable[[], TableCache]) -> pa.Table:
        """``table`` filtered by ``where`` and cut down to the columns asked for.

        ``tables`` gives the explorer's SQL tables, on whose locked, read-only connection
        ``where`` runs (so a subquery may read another of the four tables).
        """
        if self.where is not None:
            cache = tables()
            query = where_query(self.table, self.where, self.output)
            cache.ensure(cache.check(query))  # read-only checks; tables a subquery reads
            cache.con.register(_WHERE_TABLE, table)
            try:
                return cache.con.sql(query, params=self.params).to_arrow_table()
            finally:
                cache.con.unregister(_WHERE_TABLE)
        if list(table.column_names) != self.output:
            table = table.select(self.output)
        return table


def where_query(table: str, where: str, output: Sequence[str]) -> str:
    """The SELECT a ``where=`` predicate runs in (on a line of its own: a trailing ``--`` comment ends there).

    No parentheses around it: a ``;`` in the predicate then splits the text into statements,
    which the read-only check refuses as such (rather than as a syntax error).
    """
    cols = ", ".join('"' + name.replace('"', '""') + '"' for name in output)
    return f'SELECT {cols} FROM {_WHERE_TABLE} AS "{table}" WHERE\n{where}\n'


def selection(table: str, method: str, columns: Optional[Sequence[Union[str, Column]]], where: Optional[str],
              params: Params, con: Optional[duckdb.DuckDBPyConnection] = None) -> Selection:
    """Resolve ``columns`` and check ``where`` for ``table`` (``method`` names the call in errors).

    ``where`` is checked here, before anything is read, with :mod:`.sql`'s read-only checks
    (on ``con``, which only parses it).
    """
    declared = TABLES[table]
    by_name = {c.name: c for c in declared}
    if params is not None and where is None:
        raise ValueError(f"{method}: params= binds the placeholders of where=, and no where= was given")
    if columns is None:
        wanted, extra = list(declared), []
    else:
        if isinstance(columns, (str, Column)):
            columns = [columns]
        wanted, extra = [], []
        for item in columns:
            col = _resolve(item, table, method, by_name)
            if col.name in {c.name for c in wanted}:
                raise ValueError(f"{method}: column {col.name!r} asked for twice")
            wanted.append(col)
            if isinstance(item, Column) and item.name not in by_name:
                extra.append(col)
        if not wanted:
            raise ValueError(f"{method}: columns= is empty; available: {', '.join(by_name)}")
    output = [c.name for c in wanted]
    needed = [c for c in declared if c.name in KEYS and c.name not in output]
    if where is not None:
        if not isinstance(where, str) or not where.strip():
            raise ValueError(f"{method}: where= must be a DuckDB predicate as text, e.g. \"total_tokens > ?\"")
        query = where_query(table, where, output)
        try:
            select = check_read_only(query)
            tree = parse_tree(con if con is not None else duckdb.connect(), select)
            check_select_tree(select, tree)
        except ReadOnlyError as exc:
            raise ReadOnlyError(f"{method} where= refused: {exc}") from None
        named = _names_in(tree)
        have = set(output) | {c.name for c in needed}
        needed += [c for c in declared if c.name not in have and (named is None or c.name.lower() in named)]
    parse = wanted + needed
    _check_paths(table, method, parse)
    return Selection(table, parse, output, where, params, all_columns=columns is None and where is None,
                     extra=extra)


def _resolve(item: Union[str, Column], table: str, method: str, by_name: Dict[str, Column]) -> Column:
    if isinstance(item, str):
        if item not in by_name:
            raise KeyError(f"{method}: no column {item!r} in {table}; available: {', '.join(by_name)} "
                           f"(or agno_nb.Column(name, type, doc, path='a.b') for another JSON path)")
        return by_name[item]
    if not isinstance(item, Column):
        raise TypeError(f"{method}: columns= takes column names and agno_nb.Column specs; got {type(item).__name__}")
    if item.name in by_name:
        if item == by_name[item.name]:
            return item
        raise ValueError(f"{method}: {item.name!r} is already a column of {table}; give your Column another name")
    if not item.name or '"' in item.name:
        raise ValueError(f"{method}: Column name {item.name!r} must be non-empty and hold no double quote")
    if item.path is None or item.row is not None or item.sql is not None:
        raise ValueError(f"{method}: Column {item.name!r} needs path= (a dotted path in the stored "
                         f"{_DOC[table]}'s JSON), and only that")
    parts = item.path.split(".")
    if any(not p or _BAD_PATH.search(p) for p in parts):
        raise ValueError(f"{method}: Column {item.name!r} path {item.path!r} must be dotted JSON keys, "
                         "without quotes, backslashes or empty parts")
    if item.type not in (TEXT, JSONTEXT, TIME):
        try:
            duckdb.sqltype(item.type)
        except Exception:  # noqa: BLE001 - DuckDB's own message lists similar type names
            raise ValueError(f"{method}: Column {item.name!r} type {item.type!r} is not a DuckDB type "
                             f"(e.g. VARCHAR, BIGINT, DOUBLE, BOOLEAN, VARCHAR[]) nor one of TEXT, JSONTEXT, TIME"
                             ) from None
    return item


_DOC = {"sessions": "session's session_data", "runs": "run", "messages": "message", "tool_calls": "tool execution"}


def _check_paths(table: str, method: str, cols: Sequence[Column]) -> None:
    """Two paths where one is inside the other cannot both be parsed: refuse them by name.

    Declared columns may share a path parsed as the same type (``input`` and the media
    counts read the run's ``input`` once)."""
    paths = [(c.name, p, t) for c in cols for p, t in parsed_paths([c])]
    paths += [(f"(the run's {key} count)", key, None) for key in _RESERVED.get(table, ())]
    for i, (name_a, a, type_a) in enumerate(paths):
        for name_b, b, type_b in paths[i + 1:]:
            if a == b and type_a == type_b and type_a is not None:
                continue
            if a == b or a.startswith(b + ".") or b.startswith(a + "."):
                raise ValueError(f"{method}: the paths of {name_a} ({a!r}) and {name_b} ({b!r}) overlap; "
                                 "ask for them in separate calls")


def declared_beside(declared: Sequence[Column], sel: Selection) -> List[Column]:
    """The declared columns a full parse computes beside the user's ``Column`` specs.

    A declared column whose path holds a spec's (``metadata`` beside ``metadata.ticket``)
    cannot be parsed with it: unless asked for (which :func:`selection` refuses), it is left
    out; the columns filled in after the parse never read it.
    """
    wanted = {c.name for c in sel.parse}
    extra = [p for c in sel.extra for p, _ in parsed_paths([c])]

    def overlaps(col: Column) -> bool:
        return any(a == b or a.startswith(b + ".") or b.startswith(a + ".")
                   for a, _ in parsed_paths([col]) for b in extra)

    return [c for c in declared if c.name in wanted or not overlaps(c)]


def _names_in(tree: Optional[dict]) -> Optional[set]:
    """Lower-case names in the predicate's column references (None: any column may be meant)."""
    if tree is None:
        return None
    names = set()
    for node in _walk(tree):
        if node.get("class") == "STAR" or node.get("type") == "COLUMNS":
            return None
        if node.get("class") == "COLUMN_REF":
            names.update(str(n).lower() for n in node.get("column_names", []))
    return names


