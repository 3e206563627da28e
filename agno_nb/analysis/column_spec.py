"""A column of an analysis table, declared once: :class:`Column` and its logical types.

Its own module so that the session tables' columns (:mod:`.columns`) and Agno's other
tables' (:mod:`.stored_columns`) both build on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

# Logical types beyond DuckDB's own: how a JSON value becomes a column.
TEXT = "TEXT"        # any JSON value as text; strings unquoted (message content, results)
# (``from_json`` gives exactly that for a VARCHAR field: a JSON string's text, any other
# value's JSON text, without parsing the value again after the document.)
JSONTEXT = "JSONTEXT"  # any JSON value kept as JSON text (tool arguments)
TIME = "TIME"        # Unix seconds (or milliseconds), or ISO text in JSON -> TIMESTAMPTZ (UTC)


@dataclass(frozen=True)
class Column:
    """One column of an analysis table."""

    name: str
    type: str
    doc: str
    row: Optional[str] = None   # a column of the stored row
    # a dotted path in the item's JSON document; with ``row`` (Agno's other tables, see
    # .stored_columns), a DuckDB JSON path into the JSON held by that column
    path: Optional[str] = None
    sql: Optional[str] = None   # a DuckDB expression over the columns above
    # paths an ``sql`` expression reads from the parsed document (as ``{doc}.name``), each with
    # the type it is parsed as: parsed whenever the column is asked for, alone or not
    reads: Tuple[Tuple[str, str], ...] = ()

    @property
    def parse_type(self) -> str:
        """The type ``from_json`` parses this column's path as."""
        # a time in JSON is a number or ISO text: read as text, converted by value_sql
        return {TEXT: "VARCHAR", JSONTEXT: "JSON", TIME: "VARCHAR"}.get(self.type, self.type)

    @property
    def duckdb_type(self) -> str:
        """The column's type in DuckDB (and so, via Arrow, in pandas)."""
        return {TEXT: "VARCHAR", JSONTEXT: "VARCHAR", TIME: "TIMESTAMPTZ"}.get(self.type, self.type)
