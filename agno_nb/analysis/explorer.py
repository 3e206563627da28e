"""``connect(source)`` → a :class:`SessionExplorer`: the four tables as DataFrames, and SQL."""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import CorruptRowError
from .columns import DERIVED, TABLES
from .finite import finite_table
from .frames import _types_mapper, to_pandas  # noqa: F401 - importable from here, as always
from ..db.codec import storable
from .parse import NOT_JSON, Parser, row_columns
from .select import Params, Selection, declared_beside, selection
from .filters import Filters, check_filters, filter_names  # noqa: F401 - filter_names re-exported
from .protocol import source_from
from .raw import RawRows
from .sql import TableCache, check_read_only, int_results, parse_tree, query_connection, source_version, tables_used

TABLE_NAMES = tuple(TABLES)
# A bar appears only on loads slower than this (seconds): quick loads stay quiet.
PROGRESS_DELAY = 1.0
_ERRORS = ("warn", "raise", "ignore")
# columns computed after the parse, from other columns and the annotation store
_DERIVED = DERIVED
# filters naming a component; an id given under the wrong one is pointed out (_warn_other_id)
_ID_FILTERS = ("agent_id", "team_id", "workflow_id")


class _Progress:
    """A tqdm bar (notebook-aware) that exists only once a load has run for PROGRESS_DELAY.

    Creating the bar up front, even with tqdm's own ``delay``, would put a widget into
    every notebook output; here quick loads create nothing at all.
    """

    def __init__(self, desc: str, total: int, enabled: bool):
        self.desc, self.total = desc, total
        # TQDM_DISABLE, tqdm's own switch for CI and nbconvert runs: tqdm.notebook ignores it
        self.enabled = enabled and os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("1", "true", "yes", "on")
        self.start = time.perf_counter()
        self.done = 0
        self.bar = None

    def step(self, label: str) -> None:
        self.done += 1
        if self.bar is None and self.enabled and time.perf_counter() - self.start >= PROGRESS_DELAY:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, initial=self.done, desc=self.desc, leave=False)
        if self.bar is not None:
            self.bar.n = self.done
            self.bar.set_postfix_str(label)

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


class SessionExplorer:
    """Read-only access to stored sessions as pandas DataFrames and DuckDB SQL.

    Every call reads the source afresh (agents may be writing to it), with the filters
    pushed down into the source's SQL. Filters, on every table method:
    ``session_ids``, ``user_id``, ``agent_id``, ``team_id``, ``workflow_id``,
    ``session_type``, ``since`` / ``until`` (datetime, date, ISO string or Unix
    seconds; ``until`` exclusive), ``status`` and ``model``. Every table method also takes
    ``columns=`` (only those are parsed; ``agno_nb.Column`` specs add JSON paths) and a
    ``where=`` DuckDB predicate with ``params=`` (see :meth:`runs`).

    Rows that cannot be decoded are skipped with one warning naming their session_id
    and run_id (``errors="warn"``, the default), or raise :class:`CorruptRowError`
    (``errors="raise"``). A progress bar appears on loads that take over a second
    (``progress=False`` turns it off, and so does tqdm's ``TQDM_DISABLE=1`` in the environment, e.g.
    for ``nbconvert --execute`` in CI).

    Annotations (:meth:`annotate`, :meth:`annotations`, the ``score`` and ``label`` columns)
    live outside Agno's tables: by default in a SQLite file next to the source
    (``<source>.agno_nb-annotations.sqlite``), or at ``annotations=path``, or, for a
    PostgreSQL source and only when asked, in the table ``agno_nb.annotations`` of the same
    database (``annotations="postgres"``, ``annotations_table="schema.table"``). See
    :mod:`agno_nb.analysis.annotations`.
    """

    def __init__(self, source: Any, *, session_table: Optional[str] = None, runs_table: Optional[str] = None,
                 db_schema: Optional[str] = None, engine: str = "auto", progress: bool = True,
                 errors: str = "warn", annotations: Any = None, annotations_table: Optional[str] = None,
                 **table_kwargs: Optional[str]):
        from .stored import table_names

        # Agno's other tables renamed with the keywords Agno's db takes (traces_table=, ...)
        self.stored_tables = table_names(table_kwargs)
        if errors not in _ERRORS:
            raise ValueError(f"errors must be one of {_ERRORS}; got {errors!r}")
        self.source = source_from(source, session_table=session_table, runs_table=runs_table,
                                  db_schema=db_schema, engine=engine)
        if not self.source.parsed:  # a SQL database
            self.source.layout()  # fail now, with a clear message, on a wrong path or table
        self.progress = progress
        self.errors = errors
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # loads show agno_nb's own bar (_Progress)
        self._lock = threading.RLock()
        self._sql_cache: Optional[TableCache] = None
        from .annotations import store_for

        self.annotation_store = store_for(self.source, annotations, annotations_table)
        self._annotations_at: Any = None  # the store's version the kept SQL tables show
        self._load_listeners: List[Callable[[str, Dict[str, Any], bool], None]] = []

    def __repr__(self) -> str:
        return f"SessionExplorer({self.source!r})"

    # -- loading ---------------------------------------------------------------------------

    def on_load(self, callback: Callable[[str, Dict[str, Any], bool], None]) -> Callable[[], None]:
        """Call ``callback(table, filters, derived)`` before each read of a table from the source.

        ``derived`` is False for the reads made inside another load (the runs a sessions load
        reads for its cost column). An exception ``callback`` raises aborts that load and reaches
        the caller. Returns a function that removes the callback. For tracing what a query
        reads (``%%agno_sql`` reads each table once, then reuses it) and for tests.
        """
        self._load_listeners.append(callback)

        def remove() -> None:
            if callback in self._load_listeners:
                self._load_listeners.remove(callback)

        return remove

    def _arrow(self, name: str, filters: Dict[str, Any], errors: Optional[str] = None,
               progress: Optional[bool] = None, columns: Optional[Sequence[Any]] = None,
               where: Optional[str] = None, params: Params = None, derive: bool = True,
               hint: bool = True) -> pa.Table:
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        check_filters(f"{name}()", filters)
        for listener in list(self._load_listeners):
            listener(name, dict(filters), derive)
        f = Filters.build(**filters)
        with self._lock:  # where= is parsed on the explorer's connection, which a load may be using
            sel = selection(name, f"{name}()", columns, where, params, self.con)
        # Columns filled in after the parse (cost, flags, score, label) need the whole table
        # parsed: asking for one of them parses every declared column (the output is still cut).
        full = sel.all_columns or any(c.name in _DERIVED for c in sel.parse)
        parse = [*declared_beside(TABLES[name], sel), *sel.extra] if full else sel.parse
        errors = errors or self.errors
        show = self.progress if progress is None else progress
        with self._lock, _Progress(f"agno_nb: {name}", 2, show) as bar:
            priced = None
            if not self.source.parsed:  # Agno's stored JSON, streamed and parsed here
                counts = None
                if name == "sessions" and full and derive and not f.any() and not self.source.layout()[2]:
                    # every run is read for the sessions' cost: the same read counts them, instead
                    # of a second scan of the runs table (no index holds parent_run_id)
                    from .derived import runs_for_sessions

                    priced, counts = runs_for_sessions(self)
                raw = self.source.fetch(f, run_data=name != "sessions", row_columns=row_columns(name, parse, f),
                                        run_counts=counts)
                bar.step("parsing")
                table, problems = Parser(self.con).build(raw, f, name, parse)
                table, problems = self._repair(table, problems, f, name, parse)
            else:
                table, problems = self._exported(name, f, sel, parse), []
            table = finite_table(table, parse)
            bar.step("done")
        self._report(problems, errors)
        if full and derive:  # cost_usd and flags (agno_nb.analysis.derived)
            from .derived import derive as fill

            table = fill(self, name, table, filters, runs=priced)
        if name in ("tool_calls", "messages") and not self.source.results_resolved:
            # offloaded tool results (one substring test per row when there are none); a Parquet
            # export holds them resolved already, an OTLP file has no store (envelopes stay, marked)
            from .offload import resolve

            table = resolve(self.source, table, name)
        if full and name in ("runs", "sessions"):  # latest score and label, from the annotation store
            from .annotations import with_latest

            table = with_latest(table, name, self.annotation_store.read())
        if hint and table.num_rows == 0:  # cheap: only an empty result is looked into
            self._warn_other_id(name, filters)
        if sel.all_columns:
            return table
        with self._lock:
            return sel.finish(table, self._sql_tables)

    def _warn_other_id(self, name: str, filters: Dict[str, Any]) -> None:
        """An id filter that matched nothing, whose value is another kind's id, is told so.

        ``messages(agent_id="travel-team")`` is empty because travel-team is a team: the runs
        are searched for the value under the sibling filters (agent_id, team_id, workflow_id).
        """
        for key in _ID_FILTERS:
            value = filters.get(key)
            if not isinstance(value, str):
                continue
            for other in _ID_FILTERS:
                if other == key or other in filters:
                    continue
                found = self._arrow("runs", {other: value}, errors="ignore", progress=False, columns=["run_id"],
                                    derive=False, hint=False)
                if found.num_rows:
                    article = "an" if key[0] in "aeiou" else "a"
                    warnings.warn(f"{name}({key}={value!r}) matched nothing: {value!r} is a {other}, not "
                                  f"{article} {key}: pass {other}={value!r}", UserWarning, stacklevel=4)
                    return

    def _exported(self, name: str, f: Filters, sel: Selection, parse: Sequence[Any]) -> pa.Table:
        """A table of a Parquet export: its stored columns (the runs' JSON is not in the export)."""
        if sel.extra:
            raise ValueError(f"{name}(): a Parquet export holds the declared columns only, not the stored JSON; "
                             f"Column specs with path= ({', '.join(c.name for c in sel.extra)}) need the database")
        return self.source.read(name, f, None if len(parse) == len(TABLES[name]) else [c.name for c in parse],
                                con=self.con)

    def _repair(self, table: pa.Table, problems: List[Dict[str, Any]], f: Filters,
                name: str, columns: Optional[Sequence[Any]] = None) -> Tuple[pa.Table, List[Dict[str, Any]]]:
        """Load again the rows DuckDB refused that are valid JSON after all.

        DuckDB's JSON reader rejects a lone UTF-16 surrogate escape (``"\\ud800"``), which
        Python reads and Agno writes. Such rows are decoded in Python, their lone
        surrogates become U+FFFD, and their sessions go through the same parse again
        (whole sessions, so the order of runs and messages within them is kept).
        """
        suspects = {p["run_id"] for p in problems if p["run_id"] and p["error"] == NOT_JSON}
        if not suspects or name == "sessions":
            return table, problems
        sessions = sorted({p["session_id"] for p in problems if p["run_id"] in suspects})
        raw = self.source.fetch(Filters(**{**vars(f), "session_ids": sessions}))
        runs, fixed = raw.runs, set()
        texts = runs["run_data"].to_pylist()
        for i, (run_id, text) in enumerate(zip(runs["run_id"].to_pylist(), texts)):
            if run_id in suspects:
                try:
                    texts[i] = json.dumps(storable(json.loads(text), nul=False))
                    fixed.add(run_id)
                except (TypeError, ValueError):
                    pass  # really broken: stays reported
        if not fixed:
            return table, problems
        runs = runs.set_column(runs.schema.get_field_index("run_data"), "run_data", pa.array(texts, pa.string()))
        extra, more = Parser(self.con).build(RawRows(sessions=raw.sessions, runs=runs, legacy=False), f, name, columns)
        others = table.filter(pc.invert(pc.is_in(table["session_id"], pa.array(sessions, pa.string()))))
        rest = [p for p in problems if p["session_id"] not in sessions]
        return pa.concat_tables([others, extra.cast(table.schema)]), rest + more

    def _report(self, problems: List[Dict[str, Any]], errors: str) -> None:
        if not problems or errors == "ignore":
            return
        where = self.source.describe() if hasattr(self.source, "describe") else str(self.source)
        if errors == "raise":
            p = problems[0]
            raise CorruptRowError(p["error"], table=where, session_id=p["session_id"], run_id=p["run_id"])
        listed = "; ".join(f"session_id={p['session_id']!r} run_id={p['run_id']!r}: {p['error']}" for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        warnings.warn(f"skipped {len(problems)} bad row(s) in {where}: {listed}{more}. "
                      "Pass errors='raise' to stop at the first one.", RuntimeWarning, stacklevel=4)

    # -- the four tables -------------------------------------------------------------------

    def sessions(self, *, columns: Optional[Sequence[Any]] = None, where: Optional[str] = None,
                 params: Params = None, **filters: Any) -> pd.DataFrame:
        """One row per session (see ``agno_nb.describe('sessions')`` for the columns).

        ``columns``, ``where``, ``params`` and the filters work as in :meth:`runs`; a
        ``Column`` spec's ``path`` reads the session's ``session_data``; ``model=`` keeps the
        sessions with a run of that model (their ``n_runs`` counts those runs).
        """
        return to_pandas(self._arrow("sessions", filters, columns=columns, where=where, params=params))

    def runs(self, *, columns: Optional[Sequence[Any]] = None, where: Optional[str] = None,
             params: Params = None, **filters: Any) -> pd.DataFrame:
        """One row per run, member runs and workflow step runs included.

        ``columns``: names from ``agno_nb.describe('runs')`` and ``agno_nb.Column`` specs for
        any other path in the stored run's JSON, e.g.
        ``Column("temperature", "DOUBLE", "Sampling temperature", path="model_params.temperature")``;
        only those are parsed, in that order (``session_id`` and ``run_id`` are always computed,
        for error reports, but returned only if asked for). ``where``: a DuckDB predicate over
        the table's columns, any of them, asked for or not (``"total_tokens > ?"``), its values
        in ``params`` (a list for ``?``, a dict for ``$name``); it is checked read-only like
        :meth:`sql`, and applied after parsing. Filters, pushed down into the source's SQL:
        ``session_ids``, ``user_id``, ``agent_id``, ``team_id``, ``workflow_id``,
        ``session_type``, ``since`` / ``until``, ``status`` and ``model`` (the run's model id).
        """
        return to_pandas(self._arrow("runs", filters, columns=columns, where=where, params=params))

    def messages(self, *, columns: Optional[Sequence[Any]] = None, where: Optional[str] = None,
                 params: Params = None, **filters: Any) -> pd.DataFrame:
        """One row per message, in order within each run (``message_index``).

        ``columns``, ``where``, ``params`` and the filters work as in :meth:`runs`; a
        ``Column`` spec's ``path`` reads the stored message (e.g. ``path="provider_data.id"``);
        ``model=`` keeps the messages of runs of that model.
        """
        return to_pandas(self._arrow("messages", filters, columns=columns, where=where, params=params))

    def tool_calls(self, *, columns: Optional[Sequence[Any]] = None, where: Optional[str] = None,
                   params: Params = None, **filters: Any) -> pd.DataFrame:
        """One row per tool execution, with its arguments, result and error state.

        ``columns``, ``where``, ``params`` and the filters work as in :meth:`runs`; a
        ``Column`` spec's ``path`` reads the stored tool execution (e.g. ``path="tool_args.city"``);
        ``model=`` keeps the calls of runs of that model.
        """
        return to_pandas(self._arrow("tool_calls", filters, columns=columns, where=where, params=params))

    def table(self, name: str, *, columns: Optional[Sequence[Any]] = None, where: Optional[str] = None,
              params: Params = None, **filters: Any) -> pd.DataFrame:
        """Any table by name: the four with the arguments of :meth:`runs`, Agno's others as :meth:`stored`."""
        from .stored import STORED

        if name in STORED and name not in TABLES:
            if where is not None or params is not None:
                raise TypeError(f"{name}: where= and params= are for the four session tables; use ex.sql()")
            return self.stored(name, columns=columns, **filters)
        return to_pandas(self._arrow(name, filters, columns=columns, where=where, params=params))

    def flags(self, flags: Optional[Sequence[str]] = None, **kwargs: Any) -> pd.DataFrame:
        """Pathology flags, one row per finding: session_id, run_id, flag, detail, message_index.

        ``flags=[...]`` picks some; thresholds (``loop_min_calls=3``, ``context_tokens=100_000``,
        ``latency_mads=3.0``, ``latency_min_runs=5``) go with the filters. See
        ``agno_nb.describe("flags")`` and :mod:`agno_nb.analysis.flags`.
        """
        from .derived import findings_for, split_flag_kwargs

        filters, params = split_flag_kwargs(kwargs)
        return findings_for(self, filters, only=flags, **params)

    # -- SQL -------------------------------------------------------------------------------

    def _sql_tables(self) -> TableCache:
        # created on first use: an explorer used only for DataFrames opens no second DuckDB
        if self._sql_cache is None:
            # Agno's other tables' changes count too (an approval decided after the first query)
            version = source_version(self.source, [n for n in self.stored_tables.values()])
            self._sql_cache = TableCache(query_connection(), self._load_for_sql, version, names=sql_table_names())
        return self._sql_cache

    def _load_for_sql(self, name: str) -> pa.Table:
        return self._arrow(name, {}) if name in TABLES else self.stored_arrow(name, {})

    def relation(self, name: str, **filters: Any) -> duckdb.DuckDBPyRelation:
        """The table as a DuckDB relation, for lazy work (``.filter``, ``.aggregate``, ``.df()``).

        Without filters it is the table :meth:`sql` queries, kept until the source changes.
        The relation is DuckDB's own object: its write methods (``to_csv``, ``to_parquet``)
        write where they are told, unlike :meth:`sql`.
        """
        if name not in sql_table_names():
            raise KeyError(f"no table {name!r}; tables are {', '.join(sql_table_names())}")
        with self._lock:
            cache = self._sql_tables()
            if filters:
                return cache.con.from_arrow(self._arrow(name, filters) if name in TABLES
                                            else self.stored_arrow(name, filters))
            cache.ensure([name])
            self._sync_annotations(cache)
            return cache.con.table(name)

    def sql(self, query: str, params: Optional[Union[Sequence[Any], Dict[str, Any]]] = None) -> pd.DataFrame:
        """Run one read-only DuckDB query over ``sessions``, ``runs``, ``messages``, ``tool_calls``
        and Agno's other tables (``traces``, ``spans``, ``approvals``, ``compactions``, ``memories``,
        ``learnings``, ``metrics``, ``tool_results``, ``evals``: see :func:`sql_table_names`).
        Nothing else of the database can be named (credential tables least of all).

        Values go in ``params`` (``?`` or ``$name`` placeholders), never into the query text.
        Only the tables the query names are loaded, and they are kept: the next query reuses
        them until the source changes (a cheap check per query; :meth:`refresh` drops them).
        Your own Parquet, CSV and JSON files read too (``FROM 'data.csv'``, ``read_parquet``).

        Only SELECT queries run (``WITH``, ``FROM``-first, ``VALUES``, ``DESCRIBE``,
        ``SUMMARIZE``, and ``EXPLAIN`` of those); COPY, EXPORT, ATTACH, INSTALL, LOAD, SET,
        CREATE, INSERT and the like raise :class:`~agno_nb.errors.ReadOnlyError`.
        """
        check_read_only(query)  # before anything is opened or loaded
        with self._lock:
            cache = self._sql_tables()
            cache.ensure(cache.check(query))
            self._sync_annotations(cache)
            return to_pandas(int_results(cache.con.sql(query, params=params).to_arrow_table()))

    def _sync_annotations(self, cache: TableCache) -> None:
        """New annotations into the kept runs and sessions tables, without reading the source again."""
        from .annotations import with_latest

        at = self.annotation_store.version()
        if at == self._annotations_at:
            return
        annotations = self.annotation_store.read()
        for name in ("runs", "sessions"):
            if name in cache.tables:
                cache.tables[name] = with_latest(cache.tables[name], name, annotations)
                cache.con.register(name, cache.tables[name])
        self._annotations_at = at

    def refresh(self) -> None:
        """Forget the tables kept for :meth:`sql`: the next query reads the source again."""
        with self._lock:
            if self._sql_cache is not None:
                self._sql_cache.clear()

    # -- annotations and evals ---------------------------------------------------------------

    def annotate(self, run_id: str, label: Optional[str] = None, score: Optional[float] = None,
                 note: Optional[str] = None, author: Optional[str] = None,
                 message_index: Optional[int] = None) -> Dict[str, Any]:
        """Store an annotation of a run (or of one of its messages) and return it as a dict.

        ``score`` is a number, ``label``, ``note`` and ``author`` text; at least one of label,
        score and note. ``message_index`` (as in :meth:`messages`) annotates one message.
        The run must be in the source (:class:`~agno_nb.errors.RunNotFoundError` names it
        otherwise). The annotation goes to :attr:`annotation_store`, never to the source.
        """
        from .annotations import as_output, new_record, session_of

        record = new_record(run_id, label=label, score=score, note=note, author=author,
                            message_index=message_index)
        record["session_id"] = session_of(self, run_id)
        self.annotation_store.add(record)
        return as_output(record)

    def annotations(self, **filters: Any) -> pd.DataFrame:
        """The stored annotations, oldest first (columns: ``describe("annotations")``).

        Filters: ``session_ids``, ``run_ids``, ``label``, ``author``, ``since``, ``until``
        (on ``created_at``).
        """
        from .annotations import filtered

        return to_pandas(filtered(self.annotation_store.read(), "annotations()", filters))

    def delete_annotations(self, **filters: Any) -> int:
        """Delete the stored annotations that ``filters`` select (those of :meth:`annotations`)
        and return how many were deleted; the source is never touched.

        At least one filter is needed, so that a bare call cannot wipe every annotation:
        ``ex.delete_annotations(session_ids=[sid], author="me")`` before annotating again
        makes a notebook cell that can run any number of times.
        """
        from .annotations import filtered

        if not any(v is not None for v in filters.values()):
            raise TypeError("delete_annotations() needs at least one filter (session_ids, run_ids, label, "
                            "author, since, until): it never deletes every annotation at once")
        chosen = filtered(self.annotation_store.read(), "delete_annotations()", filters)
        return self.annotation_store.delete(chosen.column("annotation_id").to_pylist())

    def evals(self, table: Optional[str] = None, *, columns: Optional[Sequence[str]] = None,
              **filters: Any) -> pd.DataFrame:
        """Agno's eval runs (``agno_eval_runs``, or ``table``), read-only (columns: ``describe("evals")``).

        Empty, with the same columns, when the database has no such table. Filters as in :meth:`stored`.
        """
        return self.stored("evals", columns=columns, table=table, **filters)

    # -- Agno's other tables -------------------------------------------------------------------

    def stored_arrow(self, name: str, filters: Dict[str, Any], columns: Optional[Sequence[str]] = None,
                     table: Optional[str] = None) -> pa.Table:
        """:meth:`stored` as an Arrow table (for the export and other modules)."""
        from .stored import STORED, read_stored

        if name not in STORED:
            raise KeyError(f"no table {name!r}; Agno's other tables are {', '.join(STORED)}")
        check_filters(f"{name}()", filters)
        f = Filters.build(**filters)
        spec = STORED[name]
        if self.source.parsed:  # a file source: a Parquet export's copy, or none (OTLP files)
            from .stored import check_filters as check_stored

            check_stored(name, f)
            return self.source.read(name, f, columns)
        join = self.stored_tables[STORED[spec.join[1]].name] if spec.join else None
        with self._lock:
            return read_stored(self.source, name, f, columns, table=table or self.stored_tables[name], join_table=join)

    def stored(self, name: str, *, columns: Optional[Sequence[str]] = None, table: Optional[str] = None,
               **filters: Any) -> pd.DataFrame:
        """One of Agno's other tables by name (``agno_nb.analysis.stored.STORED``), read-only.

        ``columns``: a subset of ``describe(name)``; ``table``: the Agno table's name when
        renamed (also set for the explorer by ``connect(..., traces_table=...)``, Agno's own
        keywords). Filters, pushed into the database's SQL: ``session_ids``, ``user_id``,
        ``agent_id``, ``team_id``, ``workflow_id`` where the table has that column, and
        ``since``/``until`` on its time column; any other filter raises TypeError. A database
        without the table gives an empty DataFrame with the declared columns.
        """
        return to_pandas(self.stored_arrow(name, filters, columns, table))

    # -- export ----------------------------------------------------------------------------

    def to_parquet(self, path: Union[str, Path], partition_by: Optional[Sequence[str]] = None,
                   overwrite: bool = False, since_last: bool = False, **filters: Any) -> Path:
        """Write the four tables as Parquet under the folder ``path`` and return it.

        Layout: ``path/<table>/<column>_part=<value>/date=<day>/data_0.parquet`` (hive
        partitioning), ``date`` being the UTC day of ``created_at``. The files hold every
        column with its true value; the folder names are labels, never NULL (a missing
        value is labelled ``__null__``), so ``pandas.read_parquet(path / "runs")``, DuckDB's
        ``read_parquet(..., hive_partitioning = true)`` and ``agno_nb.connect(path)`` (each
        tested) and other hive readers read the same rows (``connect(path)`` filters on a partition
        column, e.g. ``agent_id=``, open only its folders). ``partition_by=()`` writes one file per
        table (``path/<table>.parquet``). A table with no rows is one empty file: it still
        reads back, with its columns and types. ``filters`` are those of :meth:`messages`.

        The export is atomic: it is written into a temporary folder beside ``path`` and then
        renamed into place, so ``path`` holds the previous export or the new one, never a
        mix, and a failed export leaves ``path`` as it was. ``path`` may be missing or an
        empty folder; an earlier export (recognised by its ``_agno_nb_export.json``, which
        records the tables, row counts, filters and time) is replaced only with
        ``overwrite=True``. Anything else at ``path`` (a file, a folder that is not an
        export, an export holding files agno_nb did not write) is never touched:
        :class:`~agno_nb.analysis.parquet.ExportPathError` says why.

        ``partition_by`` defaults to ``("agent_id", "date")``. ``since_last=True`` adds to the
        export at ``path`` only the runs stored since it was written, with their messages and
        tool calls, and rewrites ``sessions`` if a session changed: afterwards every table
        holds the rows a full export would (no run lost or twice; deleted sessions and runs
        changed in place after their export are not followed: a warning names the latter).
        It keeps the export's own ``partition_by`` and filters, stays atomic (a crash leaves
        the previous export whole), changes nothing when nothing is new, and writes a full
        export where there is none yet. The marker's ``incremental`` entry holds the
        watermark (the latest session ``updated_at`` seen) and the number of appends. Each
        append adds files to the partition folders; a full export (``overwrite=True``) writes
        the tables compacted again.
        """
        from .parquet import write_parquet

        return write_parquet(self, Path(path), partition_by, filters, overwrite=overwrite, since_last=since_last)

    def to_otlp(self, path: Union[str, Path], **filters: Any) -> Path:
        """Write the sessions (those matching ``filters``) to the file ``path`` as OTLP/JSON
        lines following the OpenTelemetry GenAI conventions (see :mod:`agno_nb.analysis.otlp_write`),
        for Phoenix or any OpenTelemetry backend; ``connect(path)`` reads them back."""
        from .otlp_write import write_otlp

        check_filters("to_otlp()", filters)
        return write_otlp(self, path, filters)


def _stored_method(name: str, summary: str):
    def method(self: SessionExplorer, *, columns: Optional[Sequence[str]] = None, **filters: Any) -> pd.DataFrame:
        return self.stored(name, columns=columns, **filters)

    from .stored import STORED, filter_keys

    method.__name__ = name
    method.__qualname__ = f"SessionExplorer.{name}"
    method.__doc__ = (f"{summary} ({STORED[name].doc}), read-only; columns: ``describe({name!r})``.\n\n"
                      f"Filters: {', '.join(filter_keys(name))} (see :meth:`SessionExplorer.stored`). Empty, "
                      "with the declared columns, where the database has no such table.")
    return method


for _name, _summary in (
        ("traces", "One row per trace Agno recorded (agno.tracing.setup_tracing(db))"),
        ("spans", "One row per span: model calls (span_kind LLM, with model and tokens), tool calls (TOOL), "
                  "agent runs (AGENT), ...; start and end as UTC timestamps, joinable to runs by run_id"),
        ("approvals", "One row per approval request: decision, who resolved it, when, time_to_decision"),
        ("compactions", "One row per history fold (agno.compaction): summary, archived messages, tokens before/after"),
        ("memories", "One row per user memory"),
        ("learnings", "One row per learning"),
        ("metrics", "Agno's daily metrics rows (db.calculate_metrics()), decoded"),
        ("tool_results", "The index of offloaded tool results (the payloads themselves fill tool_calls().result)")):
    setattr(SessionExplorer, _name, _stored_method(_name, _summary))


def sql_table_names() -> List[str]:
    """The tables ``ex.sql()`` can name: the four session tables and the registered Agno tables."""
    from .stored import STORED

    return [*TABLES, *STORED]


def referenced_tables(query: str) -> List[str]:
    """Which of the tables ``ex.sql()`` knows ``query`` reads, from DuckDB's parse of it (not its text)."""
    with duckdb.connect() as con:
        return tables_used(query, parse_tree(con, query), sql_table_names())


def connect(source: Any, session_table: Optional[str] = None, runs_table: Optional[str] = None,
            db_schema: Optional[str] = None, **kwargs: Any) -> SessionExplorer:
    """Open stored sessions for analysis: a SQLite path, a database URL
    (``sqlite:///…``, ``postgresql+psycopg://…``, ``mysql+pymysql://…``; asyncio drivers' URLs such as
    ``postgresql+psycopg_async://…`` are read through the sync driver), a ``SqliteDb``/``PostgresDb``/``MySQLDb``
    (agno_nb's, or agno's own, ``AsyncPostgresDb``/``AsyncSqliteDb`` included), a folder
    written by :meth:`SessionExplorer.to_parquet`, or a ``SessionExplorer`` (returned as is).

    ``annotations=`` (a SQLite path, or ``"postgres"``) and ``annotations_table=`` say where
    :meth:`SessionExplorer.annotate` keeps annotations (default: a SQLite file next to the source).
    """
    if isinstance(source, SessionExplorer):
        return source
    return SessionExplorer(source, session_table=session_table, runs_table=runs_table, db_schema=db_schema, **kwargs)


def _shortcut(name: str):
    def load(source: Any, **filters: Any) -> pd.DataFrame:
        opts = {k: filters.pop(k) for k in ("session_table", "runs_table", "db_schema", "engine", "progress", "errors",
                                            "annotations", "annotations_table")
                if k in filters}
        return connect(source, **opts).table(name, **filters)

    load.__name__ = f"{name}_df"
    load.__doc__ = f"``connect(source).{name}(**filters)`` in one call."
    return load


sessions_df = _shortcut("sessions")
runs_df = _shortcut("runs")
messages_df = _shortcut("messages")
tool_calls_df = _shortcut("tool_calls")
