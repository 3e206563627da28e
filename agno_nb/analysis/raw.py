"""The stored rows as a SQL source fetches them (:class:`RawRows`), before the parse.

Their shapes are declared here, apart from :mod:`.source` (which fetches them) and
:mod:`.parse` (which parses them), so that neither imports the other.
"""

from __future__ import annotations

from typing import Optional

import pyarrow as pa

from ..errors import AgnoNbError

SESSION_ROW = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
               "session_data", "summary", "created_at", "updated_at")
RUN_ROW = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
           "parent_run_id", "status", "run_index", "run_data", "created_at")
RUN_SCHEMA = pa.schema([(c, pa.int64() if c in ("run_index", "created_at") else pa.string()) for c in RUN_ROW])
COUNT_SCHEMA = pa.schema([("session_id", pa.string()), ("n", pa.int64())])
SESSION_SCHEMA = pa.schema(
    [(c, pa.int64() if c in ("created_at", "updated_at") else pa.string()) for c in SESSION_ROW] + [("runs", pa.string())])


class RawRows:
    """What a load fetched: session rows, run rows (3.x table), and the layout.

    The run rows may still be streaming from the database (``pending_stream``): the parser
    takes them with :meth:`take_runs_stream` for one pass, so the whole runs table is never
    held in memory; reading ``runs`` instead reads the stream whole. Session rows a load does
    not need may be left unread (``sessions_pending``) until ``sessions`` is read.
    :meth:`close` ends the database read (the parser calls it; it is safe to call twice).
    """

    def __init__(self, sessions: Optional[pa.Table] = None, runs: Optional[pa.Table] = None, legacy: bool = False,
                 *, runs_stream: Optional[pa.RecordBatchReader] = None, load_sessions=None, closer=None,
                 has_workflows: Optional[bool] = None, run_counts: Optional[pa.Table] = None, failure=None):
        self._sessions = sessions
        self.run_counts = run_counts  # COUNT_SCHEMA: top-level runs per session, when only counted
        self._runs = runs
        self.legacy = legacy  # sessions carry Agno 2.x's runs column
        self.has_workflows = has_workflows  # None: not known without reading the runs
        self._stream = runs_stream
        self._load_sessions = load_sessions
        self._closer = closer
        self._failure = failure

    def read_error(self) -> Optional[AgnoNbError]:
        """The error that ended the streamed read, if any: DuckDB wraps it in its own text."""
        failed = self._failure() if self._failure is not None else None
        return failed if isinstance(failed, AgnoNbError) else None

    @property
    def sessions(self) -> pa.Table:
        if self._sessions is None:
            self._sessions = self._load_sessions() if self._load_sessions is not None else SESSION_SCHEMA.empty_table()
        return self._sessions

    @property
    def sessions_pending(self) -> bool:
        return self._sessions is None

    @property
    def runs(self) -> pa.Table:
        if self._runs is None:
            stream = self.take_runs_stream()
            try:
                self._runs = stream.read_all() if stream is not None else RUN_SCHEMA.empty_table()
            finally:
                self.close()
        return self._runs

    @property
    def pending_stream(self) -> bool:
        return self._stream is not None

    def take_runs_stream(self) -> Optional[pa.RecordBatchReader]:
        """The run rows as a one-pass stream of RUN_SCHEMA batches (None once taken or when read whole)."""
        stream, self._stream = self._stream, None
        return stream

    def close(self) -> None:
        closer, self._closer = self._closer, None
        self._stream = None
        if closer is not None:
            closer()

    def __del__(self):  # a stream left unread still holds a database connection
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at interpreter exit
            pass
