"""Analysis: stored sessions as DataFrames (through DuckDB) and SQL."""

from .columns import TABLES, Column, describe
from .explorer import SessionExplorer, connect, messages_df, runs_df, sessions_df, tool_calls_df

__all__ = ["connect", "SessionExplorer", "sessions_df", "runs_df", "messages_df", "tool_calls_df", "Column",
           "TABLES", "describe"]
