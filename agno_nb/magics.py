"""IPython magics: ``%load_ext agno_nb``, then ``%agno_connect``, ``%agno_sql`` / ``%%agno_sql``, ``%agno_sessions``."""

from __future__ import annotations

import os
import re
import shlex
from typing import Any, List, Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .analysis.sql import bind_variables

# The options in front of a line-form query: ``%agno_sql -o df SELECT ...``.
_OPTIONS = re.compile(r"\s*((?:(?:-o|--output)(?:\s+|=)\S+\s*)*)(.*)", re.S)


def split_args(line: str) -> List[str]:
    """``line`` split as a shell splits it: ``"~/agent runs/O'Brien's #1.db"``, ``'…'`` and
    ``~/agent\\ runs/O\\'Brien\\'s\\ \\#1.db`` are one word without their quotes and escapes, and
    ``#`` starts no comment. (IPython's own splitter keeps the quotes.) On Windows a
    backslash is a path separator, not an escape: words split on blanks outside quotes, and
    the quotes around a word are dropped."""
    try:
        if os.name == "nt":
            return [w[1:-1] if len(w) > 1 and w[0] == w[-1] and w[0] in "\"'" else w
                    for w in shlex.split(line, posix=False)]
        return shlex.split(line)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise UsageError(f"cannot split {line.strip()!r}: {exc}") from None


@magics_class
class AgnoMagics(Magics):
    """Magics bound to one connected :class:`SessionExplorer` per kernel."""

    explorer: Optional[Any] = None

    def _explorer(self):
        if self.explorer is None:
            raise UsageError("no sessions connected: run %agno_connect PATH_OR_URL first")
        return self.explorer

    # IPython would otherwise paste a variable's text into the line for ``$name`` (no_var_expand)
    @no_var_expand
    @magic_arguments()
    @argument("source", help="a SQLite path, a database URL, a Parquet export folder, or $name for a "
                             "variable holding a path, a db or an explorer")
    @argument("--session-table", default=None, help="the sessions table's name (default: Agno's)")
    @argument("--runs-table", default=None, help="the runs table's name")
    @argument("--db-schema", default=None, help="the PostgreSQL schema (default: ai)")
    @argument("--engine", default="auto", choices=["auto", "adbc", "sqlalchemy"], help="how rows are read")
    @line_magic
    def agno_connect(self, line: str):
        """Connect to stored sessions; the explorer is also stored as ``agno_explorer``."""
        from .analysis import connect

        args = self.agno_connect.parser.parse_args(split_args(line))
        source: Any = args.source
        if source.startswith("~"):
            source = os.path.expanduser(source)  # as the shell would
        if source.startswith("$"):
            name = source[1:]
            if name not in self.shell.user_ns:
                raise UsageError(f"%agno_connect: ${name} is not defined in the notebook")
            source = self.shell.user_ns[name]
        kwargs = {k: getattr(args, k) for k in ("session_table", "runs_table", "db_schema") if getattr(args, k)}
        if args.engine != "auto":
            kwargs["engine"] = args.engine
        AgnoMagics.explorer = connect(source, **kwargs)
        self.shell.user_ns["agno_explorer"] = AgnoMagics.explorer
        return AgnoMagics.explorer

    @no_var_expand
    @magic_arguments()
    @argument("-o", "--output", help="also store the DataFrame in this variable")
    @line_cell_magic
    def agno_sql(self, line: str, cell: Optional[str] = None):
        """Read-only DuckDB SQL over sessions, runs, messages, tool_calls.

        Cell form: ``%%agno_sql [-o NAME]`` and the query below. Line form:
        ``%agno_sql [-o NAME] SELECT …``. ``$name`` in the SQL binds the notebook variable
        ``name`` as a parameter (never pasted into the SQL text); a ``$`` inside a string,
        a comment or a quoted identifier is left alone.
        """
        if cell is None:
            options, query = _OPTIONS.fullmatch(line).groups()
            if not query.strip():
                raise UsageError("usage: %agno_sql [-o NAME] SELECT …  (or %%agno_sql [-o NAME] with the query below)")
        else:
            options, query = line, cell
        args = parse_argstring(self.agno_sql, options)
        if args.output is not None and not args.output.isidentifier():
            raise UsageError(f"-o {args.output!r}: not a Python variable name")
        query, params = bind_variables(query, self.shell.user_ns)
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


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(AgnoMagics)


__all__ = ["AgnoMagics", "bind_variables", "load_ipython_extension", "split_args"]
