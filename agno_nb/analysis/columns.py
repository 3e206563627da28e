"""The columns of the four analysis tables, declared once.

Each :class:`Column` says where its value comes from: a column of the stored row
(``row=``), a path in the JSON document of the table's item (``path=``: the run, the
message or the tool execution), or a DuckDB expression over other columns (``sql=``).
From these lists alone come the DuckDB ``from_json`` structure (only the paths some
column needs are parsed, each with its type), the SQL projection, the pandas dtypes,
the documentation (:func:`describe`) and the tests' column checks.

Extend a table by adding a :class:`Column` to its list, e.g.::

    RUN_COLUMNS.append(Column("agent_name", "VARCHAR", "Name of the agent", path="agent_name"))
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional, Sequence, Tuple

from .column_spec import JSONTEXT, TEXT, TIME, Column  # noqa: F401 - importable from here, as always
# Agno's eval runs and its other tables are declared in .stored_columns (EVAL_COLUMNS importable here too)
from .stored_columns import EVAL_COLUMNS, STORED_COLUMNS


def _metric_columns(prefix: str = "metrics.", whose: str = "") -> List[Column]:
    return [
        Column("input_tokens", "BIGINT", f"{whose}Tokens sent to the model", path=f"{prefix}input_tokens"),
        Column("output_tokens", "BIGINT", f"{whose}Tokens the model produced", path=f"{prefix}output_tokens"),
        Column("total_tokens", "BIGINT", f"{whose}Input plus output tokens", path=f"{prefix}total_tokens"),
        Column("cache_read_tokens", "BIGINT", f"{whose}Input tokens read from the provider's prompt cache",
               path=f"{prefix}cache_read_tokens"),
    ]


# A run's input as Agno stores it: ``{"input_content": ..., "images": [...], ...}`` for agent
# and team runs, the value itself (a string, or a dict) for workflow runs. Parsed once as JSON
# and read by the columns below with the macros of agno_nb.analysis.parse.
_INPUT = (("input", "JSON"),)
_MEDIA_KINDS = (("images", "image"), ("files", "file"), ("audio", "audio clip"), ("videos", "video"))


def _run_media_columns() -> List[Column]:
    """What is attached to a run's input: a count per kind and a listing (never the bytes)."""
    counts = [Column(f"n_{key}", "BIGINT", f"Number of {kind}s attached to the run's input (input.{key})",
                     sql=f"agno_count(json_extract({{doc}}.input, '$.{key}'))", reads=_INPUT)
              for key, kind in _MEDIA_KINDS]
    listing = ", ".join(f"json_extract({{doc}}.input, '$.{key}')" for key, _ in _MEDIA_KINDS)
    return counts + [Column("media", "VARCHAR", MEDIA_DOC.format(where="the run's input"),
                            sql=f"agno_media({listing})", reads=_INPUT)]


def _message_media_columns() -> List[Column]:
    """What is attached to a message (user messages carry the run's images, files, ...)."""
    counts = [Column(f"n_{key}", "BIGINT", f"Number of {kind}s attached to the message ({key})",
                     sql=f"agno_count({{doc}}.{key})", reads=((key, "JSON"),)) for key, kind in _MEDIA_KINDS]
    listing = ", ".join(f"{{doc}}.{key}" for key, _ in _MEDIA_KINDS)
    return counts + [Column("media", "VARCHAR", MEDIA_DOC.format(where="the message"), sql=f"agno_media({listing})",
                            reads=tuple((key, "JSON") for key, _ in _MEDIA_KINDS))]


def media_counts(listing: Optional[str]) -> Dict[str, int]:
    """The ``n_images``, ``n_files``, ... counts of a ``media`` listing (JSON text), for sources
    that carry the listing rather than the stored lists (OpenTelemetry files)."""
    try:
        items = json.loads(listing) if listing else []
    except ValueError:
        items = []
    kinds = [i.get("kind") for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return {f"n_{key}": kinds.count(kind.split()[0]) for key, kind in _MEDIA_KINDS}


MEDIA_DOC = ("What is attached to {where}, as JSON text: a list of {{kind (image, file, audio, video), url, "
             "filename, mime_type, format, size (bytes, stored or computed from the stored content)}}; "
             "never the content itself. NULL when nothing is attached")


# A run's own model calls and those of the runs nested under it (team members, workflow steps),
# filled in after the load (agno_nb.analysis.rollup): the stored figures mean different things
# for different runs (a team run's are its leader's calls only, a workflow run's add up its steps).
def _rollup_columns() -> List[Column]:
    own = ("The run's own model calls: its stored {what} for agent and team runs (a team run's are "
           "the leader's only); 0 for a workflow run whose steps are rows of their own (a workflow calls "
           "no model). Sum self_{name} over any set of runs to count each model call once")
    cum = ("The run and every run nested under it (team members, workflow steps, at any depth): "
           "self_{name} summed over its subtree. The figure for a whole turn; sum it over top-level "
           "runs (parent_run_id NULL) only")
    out = []
    for name, what in (("input_tokens", "input tokens"), ("output_tokens", "output tokens"),
                       ("total_tokens", "total tokens")):
        out.append(Column(f"self_{name}", "BIGINT", own.format(what=what, name=name), sql="NULL"))
        out.append(Column(f"cum_{name}", "BIGINT", cum.format(name=name), sql="NULL"))
    out.append(Column("cum_cost_usd", "DOUBLE", "cost_usd summed over the run and every run nested under it "
                      "(NaN if one of them could not be priced)", sql="NULL"))
    return out


def _session_run_sum_columns() -> List[Column]:
    doc = ("{what} of the session's runs, added up from the runs table: every model call of a run, of a "
           "team's members and of a workflow's steps counted once (runs' self_{name}). Agno's stored "
           "session totals ({name}) may differ: Agno adds to them as it goes and never recomputes "
           "them (a paused run continued later, a nested team, ...)")
    return [Column(f"runs_{name}", "BIGINT", doc.format(what=what, name=name), sql="NULL")
            for name, what in (("input_tokens", "Input tokens"), ("output_tokens", "Output tokens"),
                               ("total_tokens", "Total tokens"))]


# Filled in after the load from the annotation store (agno_nb.analysis.annotations), never
# from Agno's tables: the SQL gives the typed NULL they replace.
def _latest_annotation_columns(whose: str) -> List[Column]:
    return [
        Column("score", "DOUBLE", f"Latest score given to a run-level annotation {whose} (ex.annotate)", sql="NULL"),
        Column("label", "VARCHAR", f"Latest label given to a run-level annotation {whose} (ex.annotate)", sql="NULL"),
    ]


# Filled in after the load, in Python (agno_nb.analysis.derived): prices can be set at any
# time, and flags compare a run with others. The SQL gives the typed NULL they replace.
def _cost_column(doc: str) -> Column:
    return Column("cost_usd", "DOUBLE", doc, sql="NULL")


# Filled in after the load (agno_nb.analysis.offload) from Agno's offload store: the SQL
# gives the typed NULL they replace.
def _offload_columns(what: str) -> List[Column]:
    return [
        Column("offloaded", "BOOLEAN", f"True if Agno offloaded the tool's result (offload_tool_results=True); {what}",
               sql="NULL"),
        Column("result_size", "BIGINT", "Bytes (UTF-8) of what the tool returned (tool results only)", sql="NULL"),
    ]


SESSION_COLUMNS: List[Column] = [
    Column("session_id", "VARCHAR", "The session's id", row="session_id"),
    Column("session_type", "VARCHAR", "agent, team or workflow", row="session_type"),
    Column("agent_id", "VARCHAR", "Agent of an agent session", row="agent_id"),
    Column("team_id", "VARCHAR", "Team of a team session", row="team_id"),
    Column("workflow_id", "VARCHAR", "Workflow of a workflow session", row="workflow_id"),
    Column("user_id", "VARCHAR", "The user the session belongs to", row="user_id"),
    Column("session_name", "VARCHAR", "session_data.session_name", path="session_name"),
    Column("created_at", TIME, "When the session started (UTC)", row="created_at"),
    Column("updated_at", TIME, "When the session last changed (UTC)", row="updated_at"),
    Column("n_runs", "BIGINT", "Top-level runs (member and step runs not counted)", sql="n_runs"),
    *_metric_columns("session_metrics.", whose="Agno's stored session totals (session_data.session_metrics): "),
    *_session_run_sum_columns(),
    Column("summary", "VARCHAR", "The session summary's text, if one was written", sql="summary_text"),
    Column("summary_topics", "VARCHAR", "Topics of the session summary, as a JSON list of strings", sql="summary_topics"),
    *_latest_annotation_columns("of any of its runs"),
    _cost_column("Sum of its runs' cost_usd (NaN if none could be priced)"),
]

RUN_COLUMNS: List[Column] = [
    Column("run_id", "VARCHAR", "The run's id", row="run_id"),
    Column("session_id", "VARCHAR", "Session the run belongs to", row="session_id"),
    Column("parent_run_id", "VARCHAR", "Team run of a member run, workflow run of a step run", row="parent_run_id"),
    Column("run_index", "BIGINT", "Position of the run in its session (0-based)", row="run_index"),
    Column("run_type", "VARCHAR", "agent, team or workflow", row="run_type"),
    Column("agent_id", "VARCHAR", "Agent that ran", row="agent_id"),
    Column("team_id", "VARCHAR", "Team that ran", row="team_id"),
    Column("workflow_id", "VARCHAR", "Workflow that ran", row="workflow_id"),
    Column("user_id", "VARCHAR", "User of the run", row="user_id"),
    Column("status", "VARCHAR", "COMPLETED, ERROR, ... (upper case)", row="status"),
    Column("model", "VARCHAR", "Model id", path="model"),
    Column("model_provider", "VARCHAR", "Model provider", path="model_provider"),
    Column("input", TEXT, "The run's input: input.input_content of agent and team runs, the stored value "
           "itself for workflow runs (Agno stores a workflow's input as it was given)",
           sql="agno_input({doc}.input)", reads=_INPUT),
    *_run_media_columns(),
    Column("content", TEXT, "The run's final answer", path="content"),
    Column("reasoning_content", TEXT, "The model's reasoning, where the model returned it (reasoning_content)",
           path="reasoning_content"),
    Column("metadata", JSONTEXT, "The run's metadata (JSON text)", path="metadata"),
    Column("session_state", JSONTEXT, "The session state at the end of the run (JSON text)", path="session_state"),
    Column("created_at", TIME, "When the run started (UTC)", row="created_at"),
    *_metric_columns(whose="As stored with the run (a team run: its leader's calls only; a workflow run: "
                           "its steps added up, or NULL as Agno writes it; see self_/cum_ columns): "),
    *_rollup_columns(),
    Column("duration", "DOUBLE", "Seconds from start to end of the run (wall clock: a team's or "
           "workflow's includes its nested runs)", path="metrics.duration"),
    Column("time_to_first_token", "DOUBLE", "Seconds until the model's first token",
           path="metrics.time_to_first_token"),
    Column("n_messages", "BIGINT", "Messages stored with the run", sql="coalesce(len({doc}.messages), 0)"),
    Column("n_tool_calls", "BIGINT", "Tool executions in the run", sql="coalesce(len({doc}.tools), 0)"),
    Column("step_results", JSONTEXT, "A workflow run's step results (JSON text)", path="step_results"),
    *_latest_annotation_columns("of the run"),
    _cost_column("USD of the run's own model calls: self_ tokens priced with agno_nb.prices (NaN for an "
                 "unknown model; 0 for a workflow run, whose steps carry the cost)"),
    Column("flags", "VARCHAR[]", "Pathology flags of the run (see describe('flags') and ex.flags())", sql="NULL"),
]
# n_messages / n_tool_calls count the items of the messages and tools lists, which the runs'
# parse reads with the fields the flags need (agno_nb.analysis.flags.RUN_INPUTS).

MESSAGE_COLUMNS: List[Column] = [
    Column("session_id", "VARCHAR", "Session of the message", row="session_id"),
    Column("run_id", "VARCHAR", "Run of the message", row="run_id"),
    Column("message_index", "BIGINT", "Position in the run's messages (0-based)", sql="message_index"),
    Column("message_id", "VARCHAR", "The message's id", path="id"),
    Column("role", "VARCHAR", "system, user, assistant or tool", path="role"),
    Column("content", TEXT, "Message text (JSON text for structured content)", path="content"),
    Column("reasoning_content", TEXT, "For assistant messages: the model's reasoning, where it returned it",
           path="reasoning_content"),
    *_message_media_columns(),
    Column("tool_call_id", "VARCHAR", "For tool messages: the call they answer", path="tool_call_id"),
    Column("tool_name", "VARCHAR", "For tool messages: the tool", path="tool_name"),
    Column("tool_calls", JSONTEXT, "For assistant messages: the tool calls asked for", path="tool_calls"),
    Column("from_history", "BOOLEAN", "True if it was history sent again as context", path="from_history"),
    Column("created_at", TIME, "When the message was created (UTC)", path="created_at"),
    *_metric_columns(),
    Column("duration", "DOUBLE", "Seconds the model took for this message", path="metrics.duration"),
    Column("time_to_first_token", "DOUBLE", "Seconds to the first token", path="metrics.time_to_first_token"),
    Column("agent_id", "VARCHAR", "Agent of the run", row="agent_id"),
    Column("team_id", "VARCHAR", "Team of the run", row="team_id"),
    Column("user_id", "VARCHAR", "User of the run", row="user_id"),
    Column("model", "VARCHAR", "Model of the run", row="run_model"),
    Column("model_provider", "VARCHAR", "Model provider of the run", row="run_model_provider"),
    Column("finish_reason", "VARCHAR", "Why the model stopped (length, stop, ...), where the writer stored it",
           path="provider_data.finish_reason"),
    _cost_column("USD for this model call, from its tokens and agno_nb.prices"),
    *_offload_columns("content stays the envelope the model saw"),
]

TOOL_CALL_COLUMNS: List[Column] = [
    Column("session_id", "VARCHAR", "Session of the call", row="session_id"),
    Column("run_id", "VARCHAR", "Run of the call", row="run_id"),
    Column("tool_call_id", "VARCHAR", "The call's id (matches the tool message)", path="tool_call_id"),
    Column("tool_name", "VARCHAR", "The tool", path="tool_name"),
    Column("tool_args", JSONTEXT, "Arguments, as JSON text", path="tool_args"),
    Column("result", TEXT, "What the tool returned", path="result"),
    Column("tool_call_error", "BOOLEAN", "True if the tool failed", path="tool_call_error"),
    Column("duration", "DOUBLE", "Seconds the tool ran", path="metrics.duration"),
    Column("created_at", TIME, "When the call was made (UTC)", path="created_at"),
    Column("child_run_id", "VARCHAR", "For a team's delegation: the member run it started", path="child_run_id"),
    Column("agent_id", "VARCHAR", "Agent of the run", row="agent_id"),
    Column("team_id", "VARCHAR", "Team of the run", row="team_id"),
    Column("user_id", "VARCHAR", "User of the run", row="user_id"),
    *_offload_columns("result is the payload the tool returned, read from Agno's offload store"),
]

TABLES: Dict[str, List[Column]] = {
    "sessions": SESSION_COLUMNS,
    "runs": RUN_COLUMNS,
    "messages": MESSAGE_COLUMNS,
    "tool_calls": TOOL_CALL_COLUMNS,
}

# Columns filled in after the parse (cost, flags, self_/cum_ figures, run sums, score, label): the
# load's SQL gives them as a typed NULL; asking for one of them needs the whole table parsed.
DERIVED = frozenset(c.name for cols in TABLES.values() for c in cols if c.sql == "NULL")


# Tables that are not parsed from the session rows, documented by describe() all the same.
ANNOTATION_COLUMNS: List[Column] = [
    Column("annotation_id", "VARCHAR", "The annotation's id (returned by ex.annotate)"),
    Column("session_id", "VARCHAR", "Session of the annotated run"),
    Column("run_id", "VARCHAR", "The annotated run"),
    Column("message_index", "BIGINT", "The annotated message (as in messages()); NULL for the whole run"),
    Column("label", "VARCHAR", "A free label (good, bad, hallucination, ...)"),
    Column("score", "DOUBLE", "A numeric score (good = 1, bad = 0 from the replay widget)"),
    Column("note", "VARCHAR", "Free text"),
    Column("author", "VARCHAR", "Who annotated"),
    Column("created_at", "TIMESTAMPTZ", "When the annotation was stored (UTC)"),
]

OTHER_TABLES: Dict[str, List[Column]] = {"annotations": ANNOTATION_COLUMNS, "evals": EVAL_COLUMNS}
# Agno's other tables read row for row (agno_nb.analysis.stored), evals among them


def struct_for(columns: Sequence[Column], extra: Optional[Dict[str, str]] = None) -> str:
    """The ``from_json`` structure that parses exactly the paths these columns read."""
    tree: Dict[str, object] = {}
    for path, parse_type in parsed_paths(columns):
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = parse_type
    return _render(tree, extra or {})


def parsed_paths(columns: Sequence[Column]) -> List[Tuple[str, str]]:
    """(path, parse type) of every JSON path these columns read, their ``reads`` included."""
    out: List[Tuple[str, str]] = []
    for col in columns:
        if col.path is not None:
            out.append((col.path, col.parse_type))
        out.extend(col.reads)
    return out


def _render(tree: Dict[str, object], extra: Dict[str, str]) -> str:
    parts = [f"{json.dumps(k)}: {_render(v, {}) if isinstance(v, dict) else json.dumps(v)}" for k, v in tree.items()]
    parts += [f"{json.dumps(k)}: {v}" for k, v in extra.items()]
    return "{" + ", ".join(parts) + "}"


def value_sql(col: Column, row: str, doc: str) -> str:
    """The DuckDB expression for ``col``, with the stored row as ``row`` and the parsed item as ``doc``."""
    if col.row is not None:
        src = f'{row}."{col.row}"'
    elif col.path is not None:
        src = doc + "".join(f'."{p}"' for p in col.path.split("."))
    else:
        src = col.sql or "NULL"
    if col.type == TIME:
        # some writers store milliseconds: anything past year 5138 in seconds is taken as ms
        num = f"TRY_CAST({src} AS DOUBLE)" if col.row is None else f"CAST({src} AS DOUBLE)"
        stamp = f"to_timestamp(CASE WHEN {num} > 1e11 THEN {num} / 1000 ELSE {num} END)"
        # in JSON, ISO text ('2026-01-02 03:04:05', naive = UTC) too; stored rows come as numbers
        return stamp if col.row is not None else f"coalesce({stamp}, TRY_CAST({src} AS TIMESTAMPTZ))"
    return f"CAST({src} AS {col.duckdb_type})"


def projection(columns: Sequence[Column], row: str, doc: str) -> str:
    return ",\n  ".join(f'{value_sql(c, row, doc)} AS "{c.name}"' for c in columns)


def describe(table: Optional[str] = None):
    """The declared columns as a DataFrame: table, column, dtype, description.

    Every source fills these columns: a SQLite file, PostgreSQL, MySQL/MariaDB
    (``connect("mysql+pymysql://...")``) and a Parquet export fill all of them; OpenTelemetry
    trace files (``connect("traces.jsonl")``, see :mod:`agno_nb.analysis.otlp`) fill them as
    far as their spans carry them.

    ``describe("flags")`` lists the pathology flags (table ``flags``) with their thresholds.
    """
    import pandas as pd

    from .flags import describe_flags

    every = {**TABLES, **OTHER_TABLES, **STORED_COLUMNS}
    rows = [
        {"table": name, "column": c.name, "type": c.duckdb_type, "description": c.doc}
        for name, cols in every.items() if table in (None, name) for c in cols
    ] + (describe_flags() if table in (None, "flags") else [])
    if not rows:
        raise KeyError(f"no table {table!r}; tables are {', '.join(every)}")
    from .usage import with_usage  # how to ask for columns and filter, shown under the table

    return with_usage(pd.DataFrame(rows))
