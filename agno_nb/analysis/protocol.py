"""One protocol for every source: a SQL database, a Parquet export, OTLP trace files.

:class:`Source` is what the explorer asks of a source: which tables it offers, the rows of
one of them with the filters applied (:meth:`Source.read`, Arrow), a cheap change version
(:meth:`Source.version`), a description for messages, and where annotations live by default.
:class:`~agno_nb.analysis.source.SqlSource`,
:class:`~agno_nb.analysis.parquet.ParquetSource` and :class:`~agno_nb.analysis.otlp.OtlpSource`
implement it. A SQL database holds the session tables as Agno's stored JSON, which the explorer
parses while it streams (:mod:`.parse`, from :meth:`SqlSource.fetch`): ``parsed`` is False
there and the explorer does not call ``read`` for them; the file sources hold them parsed.

:func:`source_from` picks the source for what ``connect()`` was given. It lives here, not
beside the sources, so that no source module imports another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Hashable, Optional, Protocol, Sequence, Tuple, runtime_checkable

import pyarrow as pa
import sqlalchemy as sa

from ..db.urls import db_location
from .filters import Filters
from .otlp import OtlpSource, is_trace_path
from .parquet import ParquetSource
from .source import MYSQL_BACKENDS, SqlSource


class Version(Protocol):
    """A source's change check: ``current()`` differs once the source changed."""

    def current(self) -> Hashable: ...

    def close(self) -> None: ...


@runtime_checkable
class Source(Protocol):
    """What every source offers the explorer."""

    #: the session tables it offers (``sessions``, ``runs``, ``messages``, ``tool_calls``)
    tables: Tuple[str, ...]
    #: True: it holds the session tables parsed (a file source); False: Agno's stored JSON,
    #: which the explorer parses (a SQL database)
    parsed: bool
    #: tool results already resolved (a Parquet export holds them resolved)
    results_resolved: bool

    def describe(self) -> str: ...

    def read(self, table: str, filters: Filters, columns: Optional[Sequence[str]] = None) -> pa.Table:
        """The rows of ``table`` that pass ``filters`` (``columns``: only those)."""
        ...

    def version(self, extra_tables: Sequence[str] = ()) -> Version:
        """A cheap change check (``extra_tables``: Agno's other tables whose changes count too)."""
        ...


def source_from(obj: Any, *, session_table=None, runs_table=None, db_schema=None, engine="auto"):
    """A source from a path, a SQLAlchemy URL (asyncio drivers' too, read through the sync ones), or a
    SqliteDb/PostgresDb: agno_nb's, or agno's ``SqliteDb``/``PostgresDb``/``AsyncSqliteDb``/``AsyncPostgresDb``."""
    where = db_location(obj)  # agno_nb's SqliteDb/PostgresDb, or agno's (sync or async), by duck typing
    if where is not None:
        return SqlSource(where.url, session_table=session_table or where.session_table,
                         runs_table=runs_table or (where.runs_table if session_table is None else None),
                         db_schema=db_schema or where.db_schema, engine=engine, other_tables=where.other_tables)
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if "://" in text:
            try:
                url = sa.make_url(text)
            except sa.exc.ArgumentError:
                raise ValueError(f"{text!r} is not a database URL") from None
            backend = url.get_backend_name()
            if backend not in ("sqlite", "postgresql", *MYSQL_BACKENDS):
                raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use sqlite:///path.db, "
                                 "postgresql+psycopg://user@host/db, mysql+pymysql://user@host/db, "
                                 "a SQLite file path or a Parquet export folder")
            if backend == "sqlite" and not url.database:
                raise ValueError("a sqlite:/// URL needs a file path (in-memory databases cannot be shared)")
            return SqlSource(url, session_table=session_table, runs_table=runs_table, db_schema=db_schema, engine=engine)
        path = Path(text).expanduser()
        if is_trace_path(path):  # .jsonl/.json span files, or a folder of them
            return OtlpSource(path)
        if path.is_dir():
            return ParquetSource(path)
        if not path.is_file():
            raise FileNotFoundError(f"no SQLite file or Parquet folder at {text!r}")
        return SqlSource(sa.URL.create("sqlite", database=str(path.resolve())), session_table=session_table,
                         runs_table=runs_table, db_schema=db_schema, engine=engine)
    raise TypeError(f"cannot read sessions from a {type(obj).__name__}: pass a path, a database URL, "
                    "a SqliteDb/PostgresDb or a SessionExplorer")
