"""IPython magics: ``%load_ext agno_nb``, then ``%agno_connect``, ``%%agno_sql``, ``%agno_sessions``."""

from __future__ import annotations

import shlex
from typing import Any, Optional

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring


@magics_class
class AgnoMagics(Magics):
    """Magics bound to one connected :class:`SessionExplorer` per kernel."""

    explorer: Optional[Any] = None

    def _explorer(self):
        if self.explorer is None:
            raise RuntimeError("no sessions connected: run %agno_connect PATH_OR_URL first")
        return self.explorer

    @line_magic
    def agno_connect(self, line: str):
        """``%agno_connect SOURCE [--session-table NAME]``: connect to stored sessions.

        SOURCE is a SQLite path, a database URL, a Parquet export folder, or ``$name`` for
        a variable holding a path, a db or an explorer.
        """
        from .analysis import connect

        args = shlex.split(line)
        if not args:
            raise ValueError("usage: %agno_connect SOURCE [--session-table NAME]")
        source: Any = args[0]
        if source.startswith("$"):
            source = self.shell.user_ns[source[1:]]
        kwargs = {}
        if "--session-table" in args:
            kwargs["session_table"] = args[args.index("--session-table") + 1]
        AgnoMagics.explorer = connect(source, **kwargs)
        self.shell.user_ns["agno_explorer"] = AgnoMagics.explorer
        return AgnoMagics.explorer

    @magic_arguments()
    @argument("-o", "--output", help="also store the DataFrame in this variable")
    @cell_magic
    def agno_sql(self, line: str, cell: str):
        """``%%agno_sql [-o NAME]``: DuckDB SQL over sessions, runs, messages, tool_calls.

        ``$name`` in the SQL binds the notebook variable ``name`` as a parameter (never
        pasted into the SQL text).
        """
        args = parse_argstring(self.agno_sql, line)
        query, params = bind_variables(cell, self.shell.user_ns)
        df = self._explorer().sql(query, params or None)
        if args.output:
            self.shell.user_ns[args.output] = df
        return df

    @line_magic
    def agno_sessions(self, line: str = ""):
        """``%agno_sessions``: the session browser (or a summary table outside a live kernel)."""
        try:
            from .widgets import browse
        except ImportError:  # widgets not installed: the table is still useful
            return self._explorer().sessions()
        return browse(self._explorer())


def bind_variables(query: str, namespace: dict):
    """Turn ``$name`` into a DuckDB named parameter bound to ``namespace[name]``."""
    import re

    params = {}

    def repl(match):
        name = match.group(1)
        if name not in namespace:
            raise NameError(f"%%agno_sql: ${name} is not defined in the notebook")
        params[name] = namespace[name]
        return f"${name}"

    # $name outside quotes only: a '$' inside a string literal stays text
    parts = re.split(r"('(?:[^']|'')*')", query)
    out = "".join(p if i % 2 else re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", repl, p) for i, p in enumerate(parts))
    return out, params


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(AgnoMagics)
