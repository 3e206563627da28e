"""Agno's session tables, declared once for SQLite, PostgreSQL and MySQL.

The layouts are Agno's own (3.x: a sessions table plus one row per run in a runs
table; 2.x: the runs as a JSON list in the sessions row), so real Agno reads what we
write and we read what it wrote. MySQL differs where Agno's MySQLDb does: VARCHARs
have lengths (MySQL needs them), the composite runs index and the versions table's
``created_at`` index are named and declared as there.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Tuple

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    inspect,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA_VERSION = "3.0.0"
VERSIONS_TABLE = "agno_schema_versions"
DEFAULT_SESSION_TABLE = "agno_sessions"
DEFAULT_RUNS_TABLE = "agno_runs"

# JSON on SQLite, JSONB on PostgreSQL, as Agno declares them. SQL NULL for None, since
# Agno treats the JSON text `null` as NULL anyway.
JsonDoc = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
MYSQL_DIALECTS = ("mysql", "mariadb")


def _varchar(dialect: str, length: int) -> String:
    """VARCHAR of Agno's MySQL length on MySQL; unbounded elsewhere, as Agno declares it there."""
    return String(length) if dialect in MYSQL_DIALECTS else String()

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_identifier(name: Optional[str], what: str) -> Optional[str]:
    """Return ``name`` if it is a plain SQL identifier, else raise ``ValueError``.

    Table and schema names end up in DDL and in DuckDB queries, where they cannot be
    bound as parameters; refusing anything but ``[A-Za-z_][A-Za-z0-9_]*`` keeps quotes,
    semicolons, spaces and comments out of SQL before any SQL runs.
    """
    if name is None:
        return None
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(
            f"{what} {name!r} is not a plain SQL identifier: use letters, digits and "
            "underscores, starting with a letter or underscore (at most 63 characters)"
        )
    return name


def default_runs_table(session_table: str) -> str:
    """Agno's rule: ``agno_runs`` beside ``agno_sessions``, else ``{session_table}_runs``."""
    return DEFAULT_RUNS_TABLE if session_table == DEFAULT_SESSION_TABLE else f"{session_table}_runs"


def detect_layout(conn: Any, session_table: str, runs_table: str, schema: Optional[str]) -> Tuple[bool, bool, bool]:
    """(the sessions table exists, the runs table exists, the sessions table has Agno 2.x's ``runs`` column).

    The one layout check, for the writers (:mod:`agno_nb.db.base`) and the reader
    (:mod:`agno_nb.analysis.source`) alike: 3.x keeps runs in their own table, 2.x in the session row.
    """
    insp = inspect(conn)
    has_sessions = insp.has_table(session_table, schema=schema)
    has_runs = insp.has_table(runs_table, schema=schema)
    legacy = has_sessions and any(c["name"] == "runs" for c in insp.get_columns(session_table, schema=schema))
    return has_sessions, has_runs, legacy


def sessions_table(metadata: MetaData, name: str, *, legacy_runs: bool = False, dialect: str = "") -> Table:
    """The sessions table; ``legacy_runs`` adds Agno 2.x's ``runs`` JSON column."""
    columns = [
        Column("session_id", _varchar(dialect, 128), primary_key=True, nullable=False),
        Column("session_type", _varchar(dialect, 20), nullable=False),
        Column("agent_id", _varchar(dialect, 128)),
        Column("team_id", _varchar(dialect, 128)),
        Column("workflow_id", _varchar(dialect, 128)),
        Column("user_id", _varchar(dialect, 128)),
        Column("session_data", JsonDoc),
        Column("agent_data", JsonDoc),
        Column("team_data", JsonDoc),
        Column("workflow_data", JsonDoc),
        Column("metadata", JsonDoc),
    ]
    if legacy_runs:
        columns.append(Column("runs", JsonDoc))
    columns += [
        Column("summary", JsonDoc),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger),
    ]
    return Table(
        name,
        metadata,
        *columns,
        Index(f"idx_{name}_session_type", "session_type"),
        Index(f"idx_{name}_created_at", "created_at"),
    )


def runs_table(metadata: MetaData, name: str, session_table: str, *, dialect: str = "") -> Table:
    """Agno 3.x's runs table: one row per run, ``run_data`` holding the whole run."""
    fk_target = f"{metadata.schema}.{session_table}" if metadata.schema else session_table
    # Agno names this index differently on MySQL
    composite = f"{name}_runs_session_id_run_index" if dialect in MYSQL_DIALECTS else f"idx_{name}_session_id_run_index"
    return Table(
        name,
        metadata,
        Column("run_id", _varchar(dialect, 128), primary_key=True, nullable=False),
        Column("session_id", _varchar(dialect, 128), ForeignKey(f"{fk_target}.session_id", ondelete="CASCADE"),
               nullable=False),
        Column("run_type", _varchar(dialect, 20), nullable=False),
        Column("agent_id", _varchar(dialect, 128)),
        Column("team_id", _varchar(dialect, 128)),
        Column("workflow_id", _varchar(dialect, 128)),
        Column("user_id", _varchar(dialect, 128)),
        Column("parent_run_id", _varchar(dialect, 128)),
        Column("status", _varchar(dialect, 50)),
        Column("run_index", BigInteger),
        Column("run_data", JsonDoc, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger),
        Index(f"idx_{name}_session_id", "session_id"),
        Index(f"idx_{name}_run_type", "run_type"),
        Index(f"idx_{name}_user_id", "user_id"),
        Index(f"idx_{name}_created_at", "created_at"),
        Index(f"idx_{name}_agent_id", "agent_id"),
        Index(f"idx_{name}_team_id", "team_id"),
        Index(f"idx_{name}_workflow_id", "workflow_id"),
        Index(f"idx_{name}_status", "status"),
        Index(composite, "session_id", "run_index"),
    )


def versions_table(metadata: MetaData, *, dialect: str = "") -> Table:
    """``agno_schema_versions``: Agno reads it to decide whether a table needs migrating."""
    mysql = dialect in MYSQL_DIALECTS
    return Table(
        VERSIONS_TABLE,
        metadata,
        Column("table_name", _varchar(dialect, 128), primary_key=True, nullable=False),
        Column("version", _varchar(dialect, 10), nullable=False),
        Column("created_at", _varchar(dialect, 128), nullable=False),
        Column("updated_at", _varchar(dialect, 128)),
        *([Index(f"idx_{VERSIONS_TABLE}_created_at", "created_at")] if mysql else []),
    )
