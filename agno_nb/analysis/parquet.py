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

Incremental export (``since_last=True``, :func:`append_parquet`): the runs written since
the previous export, with their messages and tool calls, are added as new files
(``append<N>_data_0.parquet``) in the same partition folders; ``sessions`` (one row per
session, which changes when a run is added: ``n_runs``, tokens, ``updated_at``) is
rewritten whole when any session changed. The new export is assembled beside the old one
from hard links to its files plus the new ones, and swapped in like a full export: a
crash at any point leaves the previous export complete, and after the swap the tables
hold exactly the rows a full export would. Which runs are new: the marker keeps a
watermark, the latest session ``updated_at`` seen (a session's ``updated_at`` moves
whenever a run is stored in it). The next append looks at the sessions updated since
``watermark - OVERLAP_SECONDS`` (or with no ``updated_at``), and adds their runs whose
``run_id`` is not in the export yet: runs stored within the same second as the watermark,
or committed a little after the time they carry, are neither lost nor added twice.
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
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import hashlib
import warnings

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..db.schema import check_identifier
from ..errors import AgnoNbError
from .columns import TABLES
from .filters import Filters, duckdb_condition
from .stored import STORED, applicable, empty as empty_stored, typed_filter

MARKER = "_agno_nb_export.json"
FORMAT = "agno_nb parquet export"
FORMAT_VERSION = 1
DEFAULT_PARTITION = ("agent_id", "date")
OVERLAP_SECONDS = 300  # sessions updated this long before the watermark are looked at again
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
    known = {*TABLES, *STORED}
    return name == MARKER or name in known or (name.endswith(".parquet") and name[:-8] in known)


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

def write_parquet(explorer, path: Path, partition_by: Optional[Sequence[str]], filters: Dict[str, Any],
                  overwrite: bool = False, since_last: bool = False) -> Path:
    """Export the four tables to the folder ``path`` in one atomic step (see the module doc).

    ``since_last=True`` adds to the export already at ``path`` (:func:`append_parquet`);
    with no export there yet, it writes a full one.
    """
    if since_last and overwrite:
        raise ValueError("since_last=True adds to the export at the path, overwrite=True replaces it: choose one")
    Filters.build(**filters)  # a wrong filter fails here, before anything is written
    path = Path(os.path.abspath(Path(path).expanduser()))  # "." and "x/.." get a name and a parent
    if path.is_symlink():  # replace what the link points to, and keep the link
        path = path.resolve()
    if since_last and check_target(path, overwrite=True):
        return append_parquet(explorer, path, partition_by, filters)
    partition_by = _check_partition_by(DEFAULT_PARTITION if partition_by is None else partition_by)
    check_target(path, overwrite)  # fail fast, before a long export
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{_WRITING}", dir=path.parent))
    try:
        con = _duckdb()
        try:
            counts, watermark = {}, None
            for name in TABLES:
                table = explorer._arrow(name, filters)
                counts[name] = table.num_rows
                if name == "sessions":
                    watermark = _watermark(table if _scope_only(filters) else _scope(explorer, filters))
                _copy_table(con, table, tmp, name, partition_by, empty_file=True)
            skipped = _copy_stored(explorer, con, tmp, filters, counts)
        finally:
            con.close()
        _write_marker(tmp, partition_by, filters, counts, skipped=skipped, incremental={
            "watermark": watermark, "overlap_seconds": OVERLAP_SECONDS, "appends": 0,
            "filters_key": _filters_key(filters)})
        _sync_tree(tmp)
        _swap_in(tmp, path, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _copy_stored(explorer, con: duckdb.DuckDBPyConnection, folder: Path, filters: Dict[str, Any],
                 counts: Dict[str, int]) -> Dict[str, str]:
    """Agno's other tables (traces, spans, ...) as ``folder/<name>.parquet``, whole (they are small
    beside the runs, and their columns are not the partition columns); the tables that cannot
    apply every filter of a filtered export are written empty rather than unfiltered, and listed."""
    f = Filters.build(**filters)
    skipped = {}
    for name in STORED:
        if applicable(name, f):
            table = explorer.stored_arrow(name, filters)
        else:
            table = empty_stored(name)
            skipped[name] = "its table cannot apply the export's filters"
        counts[name] = table.num_rows
        _copy_table(con, table, folder, name, [], empty_file=True)
    return skipped


def _check_partition_by(partition_by: Sequence[str]) -> List[str]:
    partition_by = [check_identifier(c, "partition_by column") for c in partition_by]
    for name, columns in TABLES.items():
        known = {c.name for c in columns} | {"date"}
        unknown = [c for c in partition_by if c not in known]
        if unknown:
            raise ValueError(f"cannot partition {name} by {unknown}: columns are {sorted(known)}")
    return partition_by


def _duckdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _copy_table(con: duckdb.DuckDBPyConnection, table: pa.Table, folder: Path, name: str,
                partition_by: List[str], empty_file: bool) -> None:
    """Write ``table`` as ``folder/<name>.parquet``, or partitioned under ``folder/<name>/``.

    ``empty_file``: a table with no rows is still one (empty) file, so that it reads back
    with its columns and types; an append with no rows writes nothing.
    """
    keys = [partition_key(c) for c in partition_by]
    labels = "".join(f", coalesce({_label_expr(c)}, '{NULL_LABEL}') AS {k}" for c, k in zip(partition_by, keys))
    if table.num_rows == 0 and not empty_file:
        return
    con.register("t", table)
    try:
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
    finally:
        con.unregister("t")


def _label_expr(column: str) -> str:
    return "strftime(created_at, '%Y-%m-%d')" if column == "date" else f'CAST("{column}" AS VARCHAR)'


def _write_marker(folder: Path, partition_by: List[str], filters: Dict[str, Any], counts: Dict[str, int],
                  incremental: Dict[str, Any], skipped: Optional[Dict[str, str]] = None) -> None:
    from .._version import __version__

    f = vars(Filters.build(**filters))
    if f["session_ids"] is not None and len(f["session_ids"]) > 100:
        f["session_ids"] = f"{len(f['session_ids'])} session ids"
    doc = {
        "format": FORMAT, "version": FORMAT_VERSION, "agno_nb_version": __version__,
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "partition_by": partition_by, "partition_keys": {c: partition_key(c) for c in partition_by},
        "null_label": NULL_LABEL,
        "filters": {k: v for k, v in f.items() if v is not None},
        # Agno's other tables are one file each, never partitioned; "skipped": written empty, and why
        "tables": {name: {"rows": n, "path": name if partition_by and name in TABLES else f"{name}.parquet",
                          **({"skipped": skipped[name]} if name in (skipped or {}) else {})}
                   for name, n in counts.items()},
        "incremental": incremental,
    }
    # written last into the new folder, which is swapped in whole: never ahead of the data
    (folder / MARKER).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


# -- incremental export ------------------------------------------------------------------

def _filters_key(filters: Dict[str, Any]) -> str:
    """A digest of the filters, to check that an append uses the export's own filters
    (the marker abbreviates a long ``session_ids`` list)."""
    f = vars(Filters.build(**filters))
    if f["session_ids"] is not None:
        f["session_ids"] = sorted(f["session_ids"])
    return hashlib.sha256(json.dumps(f, sort_keys=True, default=str).encode()).hexdigest()


def _scope_only(filters: Dict[str, Any]) -> bool:
    return all(v is None for k, v in filters.items() if k != "session_ids")


def _scope(explorer, filters: Dict[str, Any]) -> pa.Table:
    """The sessions whose runs the export may hold. Not ``sessions(**filters)``: a filter
    selects sessions and runs by their own columns (a team session has no ``agent_id``,
    its member runs do; ``since`` is a session's or a run's ``created_at``)."""
    return explorer._arrow("sessions", {k: v for k, v in filters.items() if k == "session_ids"})


def _watermark(sessions: pa.Table) -> Optional[int]:
    """The latest ``updated_at`` of ``sessions``, in Unix seconds (None: none has one).

    Never later than now: one ``updated_at`` in the future (a writer's clock ahead, a copied
    row) must not hide the runs stored before that time from the next append."""
    latest = pc.max(sessions["updated_at"]).as_py()
    return None if latest is None else min(int(latest.timestamp()), int(time.time()))


def _changed_since(sessions: pa.Table, watermark: Optional[int]) -> List[str]:
    """Sessions updated since ``watermark - OVERLAP_SECONDS``, or with no ``updated_at``."""
    if watermark is None:
        return sessions["session_id"].to_pylist()
    after = dt.datetime.fromtimestamp(watermark - OVERLAP_SECONDS, dt.timezone.utc)
    updated = sessions["updated_at"]
    keep = pc.or_kleene(pc.is_null(updated), pc.greater_equal(updated, pa.scalar(after, updated.type)))
    return sessions.filter(keep)["session_id"].to_pylist()


def _marker_filters(path: Path, marker: Dict[str, Any], filters: Dict[str, Any]) -> Dict[str, Any]:
    """The filters of an append: the export's own (``filters``, if given, must be the same)."""
    inc = marker.get("incremental") or {}
    if "filters_key" not in inc:
        raise ExportPathError(f"the export at {str(path)!r} was written by an agno_nb without incremental "
                              "export; write it again once without since_last=True (overwrite=True)")
    if filters:
        if _filters_key(filters) != inc["filters_key"]:
            raise ValueError(f"since_last=True adds to the export at {str(path)!r} with its own filters "
                             f"{marker.get('filters')}; got {filters}. Pass no filters, or the same ones.")
        return filters
    kept = dict(marker.get("filters") or {})
    if isinstance(kept.get("session_ids"), str):
        raise ValueError(f"the export at {str(path)!r} is filtered on {kept['session_ids']}; "
                         "pass the same session_ids= again with since_last=True")
    return kept


def append_parquet(explorer, path: Path, partition_by: Optional[Sequence[str]], filters: Dict[str, Any]) -> Path:
    """Add to the export at ``path`` the runs stored since it was written (see the module doc)."""
    marker = read_marker(path)
    assert marker is not None  # check_target said it is an export
    kept = marker.get("partition_by") or []
    if partition_by is not None and list(partition_by) != kept:
        raise ValueError(f"since_last=True adds to the export at {str(path)!r}, partitioned by {kept}; "
                         f"got partition_by={list(partition_by)}. Pass no partition_by, or the same.")
    filters = _marker_filters(path, marker, filters)
    inc = marker["incremental"]
    exported = ParquetSource(path)
    con = _duckdb()
    try:
        sessions = explorer._arrow("sessions", filters)
        scope = sessions if _scope_only(filters) else _scope(explorer, filters)
        candidates = _changed_since(scope, inc.get("watermark"))
        new_runs = _new_runs(explorer, con, exported, filters, candidates)
        new_ids = pa.array(new_runs["run_id"].to_pylist(), pa.string())
        old_sessions = exported.load(con, "sessions", Filters())
        if new_runs.num_rows == 0 and _same_rows(old_sessions, sessions, "session_id"):
            return path  # nothing new: the export stays as it is, byte for byte
        tables = {"sessions": sessions, "runs": new_runs}
        for name in ("messages", "tool_calls"):
            if new_runs.num_rows == 0:
                tables[name] = pa.table({})
            else:  # read by session (the filter a source serves), kept by run
                rows = explorer._arrow(name, {**filters, "session_ids": sorted(set(new_runs["session_id"].to_pylist()))})
                tables[name] = rows.filter(pc.is_in(rows["run_id"], new_ids))
        counts = {n: (sessions.num_rows if n == "sessions" else marker["tables"][n]["rows"] + tables[n].num_rows)
                  for n in TABLES}
        marks = [w for w in (inc.get("watermark"), _watermark(scope)) if w is not None]
        watermark = max(marks) if marks else None
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{_WRITING}", dir=path.parent))
        try:
            seq = int(inc.get("appends", 0)) + 1
            _link_tree(path, tmp, skip={MARKER, "sessions", "sessions.parquet", *(f"{n}.parquet" for n in STORED)})
            _copy_table(con, sessions, tmp, "sessions", kept, empty_file=True)
            skipped = _copy_stored(explorer, con, tmp, filters, counts)  # whole again: rows change in place
            for name in ("runs", "messages", "tool_calls"):
                _add_rows(con, tables[name], tmp, name, kept, seq)
            _write_marker(tmp, kept, filters, counts, skipped=skipped, incremental={
                **inc, "watermark": watermark, "overlap_seconds": OVERLAP_SECONDS, "appends": seq,
                "last_added": {n: tables[n].num_rows for n in ("runs", "messages", "tool_calls")}})
            _sync_tree(tmp)
            if read_marker(path) != marker:
                raise ExportPathError(f"the export at {str(path)!r} changed while this append was being "
                                      "written (another export?); it is left as the other one wrote it")
            _swap_in(tmp, path, overwrite=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        con.close()
    return path


def _new_runs(explorer, con: duckdb.DuckDBPyConnection, exported: "ParquetSource", filters: Dict[str, Any],
              candidates: List[str]) -> pa.Table:
    """The runs of the ``candidates`` sessions that the export does not hold yet."""
    runs = explorer._arrow("runs", {**filters, "session_ids": candidates})
    if runs.num_rows == 0:
        return runs
    con.register("fresh", runs)
    try:
        old = f"(SELECT run_id, status, n_messages, n_tool_calls FROM {exported._scan('runs')})"
        held = con.sql(f"SELECT o.run_id FROM {old} o SEMI JOIN fresh f USING (run_id)").to_arrow_table()["run_id"]
        # a run stored again under its run_id (a paused run continued) is not rewritten here
        changed = con.sql(f"SELECT f.run_id FROM fresh f JOIN {old} o USING (run_id) WHERE "
                          "f.status IS DISTINCT FROM o.status OR f.n_messages IS DISTINCT FROM o.n_messages "
                          "OR f.n_tool_calls IS DISTINCT FROM o.n_tool_calls ORDER BY 1").fetchall()
    finally:
        con.unregister("fresh")
    if changed:
        ids = ", ".join(repr(r[0]) for r in changed[:5]) + (", ..." if len(changed) > 5 else "")
        warnings.warn(f"{len(changed)} run(s) changed in the source after they were exported (run_id {ids}); "
                      f"since_last=True adds runs, it does not rewrite those already in {str(exported.path)!r}: "
                      "export again with overwrite=True to refresh them", RuntimeWarning, stacklevel=4)
    return runs.filter(pc.invert(pc.is_in(runs["run_id"], held.combine_chunks())))


def _same_rows(a: pa.Table, b: pa.Table, key: str) -> bool:
    """Whether two tables hold the same rows, whatever their order."""
    if a.num_rows != b.num_rows or a.column_names != b.column_names:
        return False
    order = [(key, "ascending")]
    try:
        return a.sort_by(order).cast(b.schema).equals(b.sort_by(order))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError):
        return False  # types that do not line up: rewrite rather than guess


def _link_tree(src: Path, dest: Path, skip: set) -> None:
    """Hard-link every file below ``src`` into ``dest`` (copy where links cannot be made):
    the new export shares the old one's files, which are never written again."""
    for root, dirs, names in os.walk(src):
        rel = Path(root).relative_to(src)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in skip]
            names = [n for n in names if n not in skip]
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for n in names:
            try:
                os.link(Path(root, n), dest / rel / n)
            except OSError:
                shutil.copy2(Path(root, n), dest / rel / n)


def _add_rows(con: duckdb.DuckDBPyConnection, table: pa.Table, folder: Path, name: str,
              partition_by: List[str], seq: int) -> None:
    """Add ``table``'s rows to the table ``name`` of the export being assembled in ``folder``."""
    if table.num_rows == 0:
        return
    if not partition_by:  # one file per table: rewritten with the new rows at its end
        old = folder / f"{name}.parquet"
        con.register("t", table)
        try:
            con.execute(f"COPY (SELECT * FROM read_parquet({_literal(old)}) UNION ALL SELECT * FROM t) "
                        f"TO {_literal(folder / f'{name}.new.parquet')} (FORMAT parquet)")
        finally:
            con.unregister("t")
        os.replace(folder / f"{name}.new.parquet", old)
        return
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        _copy_table(con, table, staging, name, partition_by, empty_file=False)
        for root, _, names in os.walk(staging / name):
            rel = Path(root).relative_to(staging / name)
            (folder / name / rel).mkdir(parents=True, exist_ok=True)
            for n in names:
                os.rename(Path(root, n), folder / name / rel / f"append{seq}_{n}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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

    # the Source protocol (agno_nb.analysis.protocol): the session tables as parsed, and the
    # exported copies of Agno's other tables
    tables = tuple(TABLES)
    parsed = True
    # tool_calls().result, offloaded and result_size were resolved when the export was written
    results_resolved = True

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

    def read(self, table: str, filters: Filters, columns: Optional[Sequence[str]] = None, *,
             con: Optional[duckdb.DuckDBPyConnection] = None) -> pa.Table:
        """The rows of ``table`` (a session table, or a stored one's copy) that pass ``filters``."""
        if table in STORED:
            out = self.load_stored(table, filters)
        elif con is not None:
            out = self.load(con, table, filters)
        else:
            with _duckdb() as own:
                out = self.load(own, table, filters)
        return out.select(list(columns)) if columns is not None else out

    def version(self, extra_tables: Sequence[str] = ()) -> Any:
        """Every file's path, size and mtime (the export holds its other tables: nothing extra)."""
        from .sql import FolderVersion

        return FolderVersion(self.path)

    def load(self, con: duckdb.DuckDBPyConnection, name: str, f: Filters) -> pa.Table:
        declared = [c.name for c in TABLES[name]]
        # the same test on a folder label: DuckDB skips the other folders unopened
        labels = self.labels if (self.path / name).is_dir() else None
        where, params = duckdb_condition(name, declared, f, self._scan, labels)
        where = f"WHERE {where}" if where else ""
        present = set(con.sql(f"SELECT * FROM {self._scan(name)} LIMIT 0").columns)
        # an export written before a column was declared: the column comes as its typed NULL
        cols = ", ".join(f'"{c.name}"' if c.name in present else f'CAST(NULL AS {c.duckdb_type}) AS "{c.name}"'
                         for c in TABLES[name])
        return con.sql(f"SELECT {cols} FROM {self._scan(name)} {where}", params=params).to_arrow_table()

    def load_stored(self, name: str, f: Filters) -> pa.Table:
        """One of Agno's other tables as exported (``<name>.parquet``), filtered; empty if not exported."""
        file = self.path / f"{name}.parquet"
        if not file.exists():
            return empty_stored(name)
        where, params = typed_filter(STORED[name], f)
        schema = empty_stored(name).schema
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            query = f"SELECT * FROM read_parquet({_literal(file)})" + (f" WHERE {where}" if where else "")
            return con.sql(query, params=params).to_arrow_table().cast(schema)
