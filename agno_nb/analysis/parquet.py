"""Parquet export (hive-partitioned) and reading an export back."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Sequence

import duckdb
import pyarrow as pa

from ..db.schema import check_identifier
from .columns import TABLES
from .source import Filters


def _literal(path: Path) -> str:
    # COPY ... TO takes no bound parameter for the path; quote it as a SQL string literal.
    return "'" + str(path).replace("'", "''") + "'"


def write_parquet(explorer, path: Path, partition_by: Sequence[str], filters: Dict[str, Any]) -> Path:
    partition_by = [check_identifier(c, "partition_by column") for c in partition_by]
    path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, columns in TABLES.items():
        known = {c.name for c in columns} | {"date"}
        unknown = [c for c in partition_by if c not in known]
        if unknown:
            raise ValueError(f"cannot partition {name} by {unknown}: columns are {sorted(known)}")
        con.register("t", explorer._arrow(name, filters))
        target = path / name
        parts = f", PARTITION_BY ({', '.join(partition_by)}), OVERWRITE_OR_IGNORE" if partition_by else ""
        dest = target if partition_by else target.with_suffix(".parquet")
        con.execute(f"COPY (SELECT *, strftime(created_at, '%Y-%m-%d') AS date FROM t) "
                    f"TO {_literal(dest)} (FORMAT parquet{parts})")
        con.unregister("t")
    con.close()
    return path


class ParquetSource:
    """A folder written by ``SessionExplorer.to_parquet``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        missing = [n for n in TABLES if not (self.path / n).exists() and not (self.path / f"{n}.parquet").exists()]
        if missing:
            raise FileNotFoundError(f"{str(self.path)!r} is not an agno_nb Parquet export: no {', '.join(missing)}")

    def describe(self) -> str:
        return f"Parquet export {str(self.path)!r}"

    def __repr__(self) -> str:
        return self.describe()

    def _scan(self, name: str) -> str:
        target = self.path / name
        glob = _literal(target / "**" / "*.parquet") if target.is_dir() else _literal(target.with_suffix(".parquet"))
        return f"read_parquet({glob}, hive_partitioning = true, union_by_name = true)"

    def load(self, con: duckdb.DuckDBPyConnection, name: str, f: Filters) -> pa.Table:
        declared = [c.name for c in TABLES[name]]
        conds, params = [], []
        if f.session_ids is not None:
            conds.append("list_contains(?, session_id)")
            params.append(list(f.session_ids))
        for key in ("user_id", "agent_id", "team_id", "workflow_id", "status", "session_type"):
            value = getattr(f, key)
            if value is None:
                continue
            params.append(value)
            if key in declared:
                conds.append(f"{key} = ?")
            elif key == "session_type":  # a column of sessions only
                conds.append(f"session_id IN (SELECT session_id FROM {self._scan('sessions')} WHERE session_type = ?)")
            elif "run_id" in declared:  # messages, tool_calls: filter by their run
                conds.append(f"run_id IN (SELECT run_id FROM {self._scan('runs')} WHERE {key} = ?)")
            else:  # sessions: those with a run that matches
                conds.append(f"session_id IN (SELECT session_id FROM {self._scan('runs')} WHERE {key} = ?)")
        if f.since is not None:
            conds.append("created_at >= to_timestamp(?)")
            params.append(f.since)
        if f.until is not None:
            conds.append("created_at < to_timestamp(?)")
            params.append(f.until)
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        cols = ", ".join(f'"{c}"' for c in declared)
        return con.sql(f"SELECT {cols} FROM {self._scan(name)} {where}", params=params).to_arrow_table()
