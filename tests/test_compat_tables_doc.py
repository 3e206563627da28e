"""docs/compat.md's "What agno_nb reads of an Agno 3.1 database" names every table agno 3.1.10 has.

The tables come from agno's own ``SqliteDb`` (every ``*_table_name`` it holds, plus ``agno_fs``,
its file store's table) and from ``notebooks/data/agno-3.1-everything.db``, which real agno wrote
with every feature on; the section must say of each whether agno_nb reads it. Every table
agno_nb reads is in a "read" row, and every credential table in the "never read" row.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from agno_nb.analysis.stored import CREDENTIAL_TABLES, STORED

ROOT = Path(__file__).resolve().parents[1]
COMPAT_MD = ROOT / "docs" / "compat.md"
WORLD = ROOT / "notebooks" / "data" / "agno-3.1-everything.db"
HEADING = "## What agno_nb reads of an Agno 3.1 database"


def _section() -> list[str]:
    text = COMPAT_MD.read_text()
    assert HEADING in text
    return [line for line in text.split(HEADING, 1)[1].split("\n## ", 1)[0].splitlines() if line.startswith("| `")]


def _agno_tables(tmp_path) -> set[str]:
    from agno.db.sqlite import SqliteDb

    db = SqliteDb(db_file=str(tmp_path / "agno.db"))
    names = {v for k, v in vars(db).items() if k.endswith("_table_name") and isinstance(v, str)} | {"agno_fs"}
    with closing(sqlite3.connect(f"file:{WORLD}?mode=ro", uri=True)) as con:
        names |= {n for (n,) in con.execute("select name from sqlite_master where type = 'table'")}
    return names


def test_every_agno_table_is_in_the_table(tmp_path):
    rows = _section()
    names = _agno_tables(tmp_path)
    assert {"agno_sessions", "agno_spans", "agno_compactions", "agno_tool_results", "agno_auth_tokens"} <= names

    def row_of(name: str) -> str:
        found = [r for r in rows if f"`{name}`" in r.split("|")[1]
                 or (name.startswith("agno_authz_") and "`agno_authz_*`" in r.split("|")[1])]
        assert len(found) == 1, f"docs/compat.md: {name} in {len(found)} rows of the table"
        return found[0]

    for name in sorted(names):
        row_of(name)
    for table in STORED.values():
        assert "| read:" in row_of(table.default_table), table.default_table
    for name in CREDENTIAL_TABLES:
        assert "**never read**" in row_of(name), name
