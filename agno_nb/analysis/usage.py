"""How to ask for columns and filter: the text ``describe()`` shows under its table."""

from __future__ import annotations

from typing import Dict

USAGE = ("Every table method takes columns=[...]: names above, and agno_nb.Column(name, type, doc, path='a.b') "
         "for any other path in the stored run, message or tool execution (session_data for sessions); only "
         "those are parsed. where='total_tokens > ?', params=[100] (or $name with a dict) filters on any column "
         "of the table, as a read-only DuckDB predicate, beside the filters session_ids, user_id, agent_id, "
         "team_id, workflow_id, session_type, since, until, status and model. "
         "Example: ex.runs(columns=['run_id', 'total_tokens'], where='total_tokens > ?', params=[100], model='gpt-4o')")
_DOCUMENTED: Dict[str, type] = {}


def with_usage(df):
    """``df`` (describe()'s table) shown with :data:`USAGE` under it, as text and in notebooks."""
    if "cls" not in _DOCUMENTED:
        import html

        import pandas as pd

        class ColumnDocs(pd.DataFrame):
            """describe()'s DataFrame; a frame derived from it is a plain DataFrame."""

            usage = USAGE

            @property
            def _constructor(self):
                return pd.DataFrame

            def __repr__(self) -> str:
                return super().__repr__() + "\n\n" + self.usage

            def _repr_html_(self) -> str:
                return (super()._repr_html_() or "") + f"<p>{html.escape(self.usage)}</p>"

        _DOCUMENTED["cls"] = ColumnDocs
    return _DOCUMENTED["cls"](df)
