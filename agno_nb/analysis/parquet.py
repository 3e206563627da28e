"""Parquet export (hive-partitioned) and reading an export back.

Layout of an export folder written by :func:`write_parquet`::

    export/
      _agno_nb_export.json                 # the marker: format, version, tables, filters, time
      runs/agent_id_part=weather/date=2026-09-07/data_0.parquet
      runs/agent_id_part=__null__/date=2026-09-07/data_0.parquet   # team and workflow runs
      ...

Each file holds every column of its table, ``agent_id`` included, with its true value
(NULL stays NULL). The folder names are partition *labels*, ``<column>_part`` (and
``date``, the UTC day of ``created_at``), never NULL: a missing value is labelled
:data:`NULL_LABEL`. Why not ``agent_id=__HIVE_DEFAULT_PARTITION__``, hive's spelling of
NULL? pyarrow's dataset discovery (what ``pandas.read_parquet`` uses) infers partition
columns as dictionaries and cannot combine a dictionary holding a null ("Cannot yet
unify dictionaries with nulls"), and every hive reader takes a column's value from the
folder name over the file. Labels that are never NULL and never shadow a column let
pandas, DuckDB and ``agno_nb.connect`` (tested) read the same rows and values.

An empty table is written as one Parquet file with no rows, so it reads back with its
columns and types instead of "No files found".

Every export is written into a temporary folder beside the target (same filesystem),
then swapped in by rename: readers see the previous export or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import duckdb
import pyarrow as pa

from ..db.schema import check_identifier
from ..errors import AgnoNbError
from .columns import TABLES
from .source import Filters

MARKER = "_agno_nb_export.json"
FORMAT = "agno_nb parquet export"
FORMAT_VERSION = 1
NULL_LABEL = "__null__"  # the partition label of a NULL value
PART_SUFFIX = "_part"    # agent_id -> folders agent_id_part=...
_WRITING = ".agno_nb-writing-"    # <parent>/.<name>.agno_nb-writing-XXXX: the export being written
_REPLACED = ".agno_nb-replaced-"  # <parent>/.<name>.agno_nb-replaced-XXXX: the previous one, mid-swap


class ExportPathError(AgnoNbError, FileExistsError):
    """The export's target path holds something ``to_parquet`` must not replace."""


def _literal(path: Path) -> str:
    # COPY ... TO takes no bound parameter for the path; quote it as a SQL string literal.
    return "'" + str(path).replace("'", "''") + "'"


def partition_key(column: str) -> str:
    """The folder key that labels ``column``'s partitions (``date`` is derived, so kept as is)."""
    return column if column == "date" else column + PART_SUFFIX


# -- the target folder -------------------------------------------------------------------

def read_marker(path: Path) -> Optional[Dict[str, Any]]:
    """The marker of an export folder, or None if ``path`` is not one written by agno_nb."""
    try:
        doc = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def _ours(name: str) -> bool:
    return name == MARKER or name in TABLES or (name.endswith(".parquet") and name[:-8] in TABLES)


def check_target(path: Path, overwrite: bool) -> bool:
    """Whether ``path`` holds an earlier export to replace; raises if it must not be touched.

    Missing or an empty folder: fine (False). An export with its marker: replaced only with
    ``overwrite=True``, and only if it holds nothing agno_nb did not write. Anything else
    (a file, a folder of other things): never touched.
    """
    if not path.exists():
        if path.is_symlink():
            raise ExportPathError(f"cannot export to {str(path)!r}: it is a broken symbolic link")
        return False
    if not path.is_dir():
        raise ExportPathError(f"cannot export to {str(path)!r}: it is a file, not a folder; "
                              "choose a folder path (it is created)")
    entries = sorted(os.listdir(path))
    if not entries:
        return False
    if read_marker(path) is None:
        raise ExportPathError(
            f"cannot export to {str(path)!r}: the folder is not empty and is not an agno_nb export "
            f"(no {MARKER}); it is left untouched, even with overwrite=True. Choose a new or empty folder.")
    if not overwrite:
        raise ExportPathError(f"{str(path)!r} already holds an agno_nb export; "
                              "pass overwrite=True to replace it, or choose another folder")
    foreign = [e for e in entries if not _ours(e)]
    if foreign:
        raise ExportPathError(
            f"cannot replace the export at {str(path)!r}: it also holds files agno_nb did not write "
            f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}); move them out first")
    return True


# -- writing -----------------------------------------------------------------------------

def write_parquet(explorer, path: Path, partition_by: Sequence[str], filters: Dict[str, Any],
                  overwrite: bool = False) -> Path:
    """Export the four tables to the folder ``path`` in one atomic step (see the module doc)."""
    partition_by = [check_identifier(c, "partition_by column") for c in partition_by]
    for name, columns in TABLES.items():
        known = {c.name for c in columns} | {"date"}
        unknown = [c for c in partition_by if c not in known]
        if unknown:
            raise ValueError(f"cannot partition {name} by {unknown}: columns are {sorted(known)}")
    Filters.build(**filters)  # a wrong filter fails here, before anything is written
    path = Path(os.path.abspath(Path(path).expanduser()))  # "." and "x/.." get a name and a parent
    if path.is_symlink():  # replace what the link points to, and keep the link
        path = path.resolve()
    check_target(path, overwrite)  # fail fast, before a long export
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{_WRITING}", dir=path.parent))
    try:
        counts = _write_tables(explorer, tmp, partition_by, filters)
        _write_marker(tmp, partition_by, filters, counts)
        _sync_tree(tmp)
        _swap_in(tmp, path, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _write_tables(explorer, folder: Path, partition_by: List[str], filters: Dict[str, Any]) -> Dict[str, int]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    keys = [partition_key(c) for c in partition_by]
    labels = "".join(f", coalesce({_label_expr(c)}, '{NULL_LABEL}') AS {k}" for c, k in zip(partition_by, keys))
    counts = {}
    try:
        for name in TABLES:
            table = explorer._arrow(name, filters)
            counts[name] = table.num_rows
            con.register("t", table)
            if not partition_by:
                con.execute(f"COPY t TO {_literal(folder / (name + '.parquet'))} (FORMAT parquet)")
            elif table.num_rows == 0:
                # COPY ... PARTITION_BY writes no file for no rows; one empty file keeps the
                # table's columns and types readable, in a partition labelled like NULLs.
                dest = folder / name / Path(*(f"{k}={NULL_LABEL}" for k in keys)) / "data_0.parquet"
                dest.parent.mkdir(parents=True)
                con.execute(f"COPY t TO {_literal(dest)} (FORMAT parquet)")
            else:
                con.execute(f"COPY (SELECT *{labels} FROM t) TO {_literal(folder / name)} "
                            f"(FORMAT parquet, PARTITION_BY ({', '.join(keys)}))")
            con.unregister("t")
    finally:
        con.close()
    return counts


def _label_expr(column: str) -> str:
    return "strftime(created_at, '%Y-%m-%d')" if column == "date" else f'CAST("{column}" AS VARCHAR)'


def _write_marker(folder: Path, partition_by: List[str], filters: Dict[str, Any], counts: Dict[str, int]) -> None:
    from .. import __version__

    f = vars(Filters.build(**filters))
    if f["session_ids"] is not None and len(f["session_ids"]) > 100:
        f["session_ids"] = f"{len(f['session_ids'])} session ids"
    doc = {
        "format": FORMAT, "version": FORMAT_VERSION, "agno_nb_version": __version__,
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "partition_by": partition_by, "partition_keys": {c: partition_key(c) for c in partition_by},
        "null_label": NULL_LABEL,
        "filters": {k: v for k, v in f.items() if v is not None},
        "tables": {name: {"rows": n, "path": name if partition_by else f"{name}.parquet"} for name, n in counts.items()},
    }
    (folder / MARKER).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


def _sync_tree(folder: Path) -> None:
    """fsync every file and folder below ``folder``: after the rename, a power cut cannot
    leave the export with empty files. Many fsyncs at once share the filesystem's journal
    commits, so they run in threads (fsync releases the GIL)."""
    files, dirs = [], []
    for root, _, names in os.walk(folder):
        dirs.append(Path(root))
        files += [Path(root, n) for n in names]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(_sync_file, files))
        list(pool.map(_sync_dir, dirs))


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- swapping it in ----------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where that is not available (another OS, an old kernel or C library, a
    filesystem without it); the caller then falls back to two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(new: Path, path: Path, overwrite: bool) -> None:
    """Put the finished export ``new`` at ``path``.

    Nothing or an empty folder at ``path``: one rename (atomic; it fails rather than
    replace a folder that is not empty). An earlier export: swapped atomically where the
    system can; elsewhere in two renames, ordered so that a crash at any point leaves a
    complete export, old or new, at ``path`` or beside it (``.<name>.agno_nb-replaced-*``).
    """
    if not check_target(path, overwrite):  # checked again: the folder may have changed meanwhile
        try:
            os.rename(new, path)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise ExportPathError(f"cannot export to {str(path)!r}: something was put there "
                                      "while the export was being written; it is left untouched") from None
            raise
        _sync_dir(path.parent)
        return
    if exchange(new, path):  # `new` now holds the previous export
        _sync_dir(path.parent)
        shutil.rmtree(new, ignore_errors=True)
        return
    # Two renames. Between them `path` is missing for a moment, but both exports exist beside it.
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}{_REPLACED}", dir=path.parent))
    os.rmdir(old)  # only the unique name is wanted
    os.rename(path, old)
    try:
        os.rename(new, path)
    except BaseException:
        os.rename(old, path)  # put the previous export back
        raise
    _sync_dir(path.parent)
    shutil.rmtree(old, ignore_errors=True)


# -- reading -----------------------------------------------------------------------------

class ParquetSource:
    """A folder written by ``SessionExplorer.to_parquet``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        missing = [n for n in TABLES if not (self.path / n).exists() and not (self.path / f"{n}.parquet").exists()]
        if missing:
            raise FileNotFoundError(f"{str(self.path)!r} is not an agno_nb Parquet export: no {', '.join(missing)}")
        # column -> its folder label, e.g. agent_id -> agent_id_part (exports before the marker: none)
        self.labels = {c: k for c, k in ((read_marker(self.path) or {}).get("partition_keys") or {}).items()
                       if k != c and k == partition_key(c)}

    def describe(self) -> str:
        return f"Parquet export {str(self.path)!r}"

    def __repr__(self) -> str:
        return self.describe()

    def _scan(self, name: str) -> str:
        target = self.path / name
        glob = _literal(target / "**" / "*.parquet") if target.is_dir() else _literal(target.with_suffix(".parquet"))
        # Labels stay text: autocast would make "1", "2" numbers and a filter on "alice" fail.
        # No union_by_name: every file of a table has the table's one schema, and union_by_name
        # would open every file's footer, even those a filter on a label rules out.
        return f"read_parquet({glob}, hive_partitioning = true, hive_types_autocast = false)"

    def load(self, con: duckdb.DuckDBPyConnection, name: str, f: Filters) -> pa.Table:
        declared = [c.name for c in TABLES[name]]
        conds, params = [], []
        if f.session_ids is not None:
            conds.append("list_contains(?, session_id)")
            params.append(list(f.session_ids))
        for key in ("user_id", "agent_id", "team_id", "workflow_id", "status", "session_type", "model"):
            value = getattr(f, key)
            if value is None:
                continue
            params.append(value)
            if key in declared:
                conds.append(f"{key} = ?")
                if key in self.labels and (self.path / name).is_dir():
                    # the same test on the folder label: DuckDB skips the other folders unopened
                    conds.append(f'"{self.labels[key]}" = ?')
                    params.append(value)
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
