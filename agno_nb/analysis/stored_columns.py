"""The columns of Agno's other tables (traces, spans, approvals, ...), declared once.

These tables are read row for row (see :mod:`agno_nb.analysis.stored`), so a
:class:`~agno_nb.analysis.columns.Column` here says where its value comes from in the
stored row:

- ``row="col"``: that column of the stored row; ``row="trace.col"``: a column of the
  joined table (a span's trace);
- ``row="col", path='$."key"'``: a value inside the JSON held by the column ``col``
  (a DuckDB JSON path; Agno's span attributes have dotted keys, hence the quotes);
- ``sql="..."``: a DuckDB expression over the columns above, by their names.

Types as in :mod:`agno_nb.analysis.column_spec`: ``TIME`` takes Unix seconds (or milliseconds)
or ISO text with an offset (Agno's traces and spans store ``2026-12-07T20:08:17.233164+00:00``)
and gives a UTC TIMESTAMPTZ; ``TEXT`` unquotes a JSON string and keeps any other JSON as
text; ``JSONTEXT`` keeps JSON as text.
"""

from __future__ import annotations

from typing import Dict, List

from .column_spec import JSONTEXT, TEXT, TIME, Column


def _attr(name: str, type_: str, doc: str, key: str) -> Column:
    """A column read from a span's ``attributes`` JSON (OpenInference's flat, dotted keys)."""
    return Column(name, type_, doc, row="attributes", path=f'$."{key}"')


EVAL_COLUMNS: List[Column] = [
    Column("run_id", "VARCHAR", "The eval run's id (Agno's, not a session run's)", row="run_id"),
    Column("eval_type", "VARCHAR", "accuracy, agent_as_judge, performance or reliability", row="eval_type"),
    Column("name", "VARCHAR", "The eval's name", row="name"),
    Column("agent_id", "VARCHAR", "Agent evaluated", row="agent_id"),
    Column("team_id", "VARCHAR", "Team evaluated", row="team_id"),
    Column("workflow_id", "VARCHAR", "Workflow evaluated", row="workflow_id"),
    Column("model_id", "VARCHAR", "Model of the evaluated component", row="model_id"),
    Column("model_provider", "VARCHAR", "Its provider", row="model_provider"),
    Column("evaluated_component_name", "VARCHAR", "Name of the evaluated agent, team or workflow",
           row="evaluated_component_name"),
    Column("user_id", "VARCHAR", "User of the eval run", row="user_id"),
    Column("avg_score", "DOUBLE", "eval_data.avg_score (accuracy and agent-as-judge evals), else NULL",
           row="eval_data", path="$.avg_score"),
    Column("eval_data", JSONTEXT, "The eval's results as Agno stored them (JSON text)", row="eval_data"),
    Column("eval_input", JSONTEXT, "The eval's input as Agno stored it (JSON text)", row="eval_input"),
    Column("created_at", TIME, "When the eval ran (UTC)", row="created_at"),
    Column("updated_at", TIME, "When its row last changed (UTC)", row="updated_at"),
]

TRACE_COLUMNS: List[Column] = [
    Column("trace_id", "VARCHAR", "The trace's id", row="trace_id"),
    Column("name", "VARCHAR", "Root span name (Agent.run, Team.run, ...)", row="name"),
    Column("status", "VARCHAR", "OK, ERROR or UNSET", row="status"),
    Column("start_time", TIME, "When the trace started (UTC)", row="start_time"),
    Column("end_time", TIME, "When it ended (UTC)", row="end_time"),
    Column("duration_ms", "DOUBLE", "Milliseconds from start to end", row="duration_ms"),
    Column("run_id", "VARCHAR", "Run of the trace's root span (joins runs.run_id); NULL outside runs", row="run_id"),
    Column("session_id", "VARCHAR", "Session of the run (NULL for model calls outside sessions)", row="session_id"),
    Column("user_id", "VARCHAR", "User of the run", row="user_id"),
    Column("agent_id", "VARCHAR", "Agent that ran", row="agent_id"),
    Column("team_id", "VARCHAR", "Team that ran", row="team_id"),
    Column("workflow_id", "VARCHAR", "Workflow that ran (Agno 3.1 leaves it empty)", row="workflow_id"),
    Column("created_at", TIME, "When the trace was stored (UTC)", row="created_at"),
]

SPAN_COLUMNS: List[Column] = [
    Column("span_id", "VARCHAR", "The span's id", row="span_id"),
    Column("trace_id", "VARCHAR", "Its trace (joins traces.trace_id)", row="trace_id"),
    Column("parent_span_id", "VARCHAR", "The enclosing span (NULL for a trace's root)", row="parent_span_id"),
    Column("name", "VARCHAR", "Span name (OpenAILike.invoke, get_weather, Agent.run, ...)", row="name"),
    _attr("span_kind", "VARCHAR", "OpenInference kind: LLM, TOOL, AGENT, CHAIN, ... (unknown kinds as stored)",
          "openinference.span.kind"),
    Column("otel_kind", "VARCHAR", "OpenTelemetry span kind as stored (INTERNAL, CLIENT, ...)", row="span_kind"),
    Column("status", "VARCHAR", "OK, ERROR or UNSET", row="status_code"),
    Column("status_message", "VARCHAR", "The error message of a failed span", row="status_message"),
    Column("start_time", TIME, "When the span started (UTC)", row="start_time"),
    Column("end_time", TIME, "When it ended (UTC)", row="end_time"),
    Column("duration_ms", "DOUBLE", "Milliseconds from start to end", row="duration_ms"),
    _attr("model", "VARCHAR", "LLM spans: the model (llm.model_name)", "llm.model_name"),
    _attr("provider", "VARCHAR", "LLM spans: the provider (llm.provider)", "llm.provider"),
    _attr("input_tokens", "BIGINT", "LLM spans: prompt tokens (llm.token_count.prompt)", "llm.token_count.prompt"),
    _attr("output_tokens", "BIGINT", "LLM spans: completion tokens (llm.token_count.completion)",
          "llm.token_count.completion"),
    _attr("stored_total_tokens", "BIGINT", "llm.token_count.total as stored (often absent)", "llm.token_count.total"),
    _attr("tool_name", "VARCHAR", "TOOL spans: the tool (tool.name)", "tool.name"),
    _attr("input_value", TEXT, "input.value: the span's input (a tool's arguments, a run's input)", "input.value"),
    _attr("output_value", TEXT, "output.value: the span's output (a tool's result, a run's answer)", "output.value"),
    _attr("attr_run_id", "VARCHAR", "agno.run.id of the span or of its nearest ancestor with one "
          "(AGENT/TEAM spans carry it)", "agno.run.id"),
    _attr("attr_session_id", "VARCHAR", "session.id of the span or of its nearest ancestor with one", "session.id"),
    Column("trace_run_id", "VARCHAR", "Run of the span's trace", row="trace.run_id"),
    Column("trace_session_id", "VARCHAR", "Session of the span's trace", row="trace.session_id"),
    Column("user_id", "VARCHAR", "User of the span's trace", row="trace.user_id"),
    Column("agent_id", "VARCHAR", "Agent of the span's trace", row="trace.agent_id"),
    Column("team_id", "VARCHAR", "Team of the span's trace", row="trace.team_id"),
    Column("workflow_id", "VARCHAR", "Workflow of the span's trace", row="trace.workflow_id"),
    Column("attributes", JSONTEXT, "All attributes as stored (JSON text; raw text where it is not JSON)",
           row="attributes"),
    Column("created_at", TIME, "When the span was stored (UTC)", row="created_at"),
    # computed from the columns above
    Column("total_tokens", "BIGINT", "llm.token_count.total, else prompt + completion",
           sql="coalesce(stored_total_tokens, input_tokens + output_tokens)"),
    Column("run_id", "VARCHAR", "The run the span belongs to: agno.run.id of the span or its nearest ancestor "
           "(a team member's model call: the member's run), else its trace's (joins runs.run_id)",
           sql="coalesce(attr_run_id, trace_run_id)"),
    Column("session_id", "VARCHAR", "Session of the span's trace (else session.id)",
           sql="coalesce(trace_session_id, attr_session_id)"),
]

APPROVAL_COLUMNS: List[Column] = [
    Column("approval_id", "VARCHAR", "The approval's id", row="id"),
    Column("run_id", "VARCHAR", "The paused run (joins runs.run_id)", row="run_id"),
    Column("session_id", "VARCHAR", "Its session", row="session_id"),
    Column("decision", "VARCHAR", "pending, approved or rejected (Agno's status)", row="status"),
    Column("source_type", "VARCHAR", "What asked: agent, team, workflow, schedule", row="source_type"),
    Column("approval_type", "VARCHAR", "Agno's approval type", row="approval_type"),
    Column("pause_type", "VARCHAR", "required (the run waits) or audit (recorded only)", row="pause_type"),
    Column("tool_name", "VARCHAR", "The tool awaiting approval", row="tool_name"),
    Column("tool_args", JSONTEXT, "Its arguments (JSON text)", row="tool_args"),
    Column("requested_at", TIME, "When approval was asked for (UTC; Agno's created_at)", row="created_at"),
    Column("resolved_at", TIME, "When it was decided (UTC)", row="resolved_at"),
    Column("resolved_by", "VARCHAR", "Who decided", row="resolved_by"),
    Column("expires_at", TIME, "When the request expires (UTC)", row="expires_at"),
    Column("agent_id", "VARCHAR", "Agent of the run", row="agent_id"),
    Column("team_id", "VARCHAR", "Team of the run", row="team_id"),
    Column("workflow_id", "VARCHAR", "Workflow of the run", row="workflow_id"),
    Column("user_id", "VARCHAR", "User of the run", row="user_id"),
    Column("schedule_id", "VARCHAR", "Schedule that started the run", row="schedule_id"),
    Column("source_name", "VARCHAR", "Name of what asked", row="source_name"),
    Column("requirements", JSONTEXT, "What must be satisfied (JSON text)", row="requirements"),
    Column("context", JSONTEXT, "Context shown to the approver (JSON text)", row="context"),
    Column("resolution_data", JSONTEXT, "What the approver sent back (JSON text)", row="resolution_data"),
    Column("run_status", "VARCHAR", "The run's status as last recorded on the approval", row="run_status"),
    Column("updated_at", TIME, "When the row last changed (UTC)", row="updated_at"),
    Column("time_to_decision", "DOUBLE", "Seconds from request to decision (NULL while pending)",
           sql="epoch(resolved_at) - epoch(requested_at)"),
]

COMPACTION_COLUMNS: List[Column] = [
    Column("compaction_id", "VARCHAR", "The fold's id", row="compaction_id"),
    Column("session_id", "VARCHAR", "Its session", row="session_id"),
    Column("run_id", "VARCHAR", "The run that folded the history", row="run_id"),
    Column("user_id", "VARCHAR", "User of the session", row="user_id"),
    Column("first_kept_message_id", "VARCHAR", "First message kept after the summary", row="first_kept_message_id"),
    Column("summary", "VARCHAR", "The summary the model sees instead of the folded messages", row="summary"),
    Column("archived_messages", JSONTEXT, "The folded messages, verbatim (JSON text)", row="archived_messages"),
    Column("messages_compacted", "BIGINT", "How many messages were folded", row="messages_compacted"),
    Column("tokens_before", "BIGINT", "Context tokens before the fold", row="tokens_before"),
    Column("tokens_after", "BIGINT", "Context tokens after it", row="tokens_after"),
    Column("created_at", TIME, "When it was folded (UTC)", row="created_at"),
    Column("n_archived", "BIGINT", "Messages in archived_messages (NULL if not stored or not a JSON list)",
           sql="CASE WHEN json_valid(archived_messages) THEN json_array_length(archived_messages) END"),
]

MEMORY_COLUMNS: List[Column] = [
    Column("memory_id", "VARCHAR", "The memory's id", row="memory_id"),
    Column("memory", TEXT, "What is remembered (text; JSON text if structured)", row="memory"),
    Column("topics", "VARCHAR[]", "Its topics", row="topics"),
    Column("input", "VARCHAR", "The input the memory was made from", row="input"),
    Column("user_id", "VARCHAR", "Whose memory", row="user_id"),
    Column("agent_id", "VARCHAR", "Agent that made it", row="agent_id"),
    Column("team_id", "VARCHAR", "Team that made it", row="team_id"),
    Column("feedback", "VARCHAR", "Feedback stored with it", row="feedback"),
    Column("created_at", TIME, "When it was made (UTC)", row="created_at"),
    Column("updated_at", TIME, "When it last changed (UTC)", row="updated_at"),
]

LEARNING_COLUMNS: List[Column] = [
    Column("learning_id", "VARCHAR", "The learning's id", row="learning_id"),
    Column("learning_type", "VARCHAR", "user_profile, session_context, ...", row="learning_type"),
    Column("namespace", "VARCHAR", "Its namespace", row="namespace"),
    Column("user_id", "VARCHAR", "User it is about", row="user_id"),
    Column("agent_id", "VARCHAR", "Agent that learned it", row="agent_id"),
    Column("team_id", "VARCHAR", "Team that learned it", row="team_id"),
    Column("workflow_id", "VARCHAR", "Workflow that learned it", row="workflow_id"),
    Column("session_id", "VARCHAR", "Session it came from", row="session_id"),
    Column("entity_id", "VARCHAR", "Entity it is about", row="entity_id"),
    Column("entity_type", "VARCHAR", "Kind of that entity", row="entity_type"),
    Column("content", JSONTEXT, "What was learned, as stored (JSON text)", row="content"),
    Column("metadata", JSONTEXT, "Its metadata (JSON text)", row="metadata"),
    Column("created_at", TIME, "When it was learned (UTC)", row="created_at"),
    Column("updated_at", TIME, "When it last changed (UTC)", row="updated_at"),
]

METRIC_COLUMNS: List[Column] = [
    Column("id", "VARCHAR", "The row's id", row="id"),
    Column("date", "DATE", "The day (or period start) the row counts", row="date"),
    Column("aggregation_period", "VARCHAR", "daily, ...", row="aggregation_period"),
    Column("user_id", "VARCHAR", "User the row counts (Agno's '' = all users, shown as NULL)",
           sql="nullif(stored_user_id, '')"),
    Column("stored_user_id", "VARCHAR", "user_id as stored ('' for all users)", row="user_id"),
    Column("agent_runs_count", "BIGINT", "Agent runs that day", row="agent_runs_count"),
    Column("team_runs_count", "BIGINT", "Team runs that day", row="team_runs_count"),
    Column("workflow_runs_count", "BIGINT", "Workflow runs that day", row="workflow_runs_count"),
    Column("agent_sessions_count", "BIGINT", "Agent sessions that day", row="agent_sessions_count"),
    Column("team_sessions_count", "BIGINT", "Team sessions that day", row="team_sessions_count"),
    Column("workflow_sessions_count", "BIGINT", "Workflow sessions that day", row="workflow_sessions_count"),
    Column("users_count", "BIGINT", "Distinct users that day", row="users_count"),
    Column("input_tokens", "BIGINT", "token_metrics.input_tokens", row="token_metrics", path="$.input_tokens"),
    Column("output_tokens", "BIGINT", "token_metrics.output_tokens", row="token_metrics", path="$.output_tokens"),
    Column("total_tokens", "BIGINT", "token_metrics.total_tokens", row="token_metrics", path="$.total_tokens"),
    Column("token_metrics", JSONTEXT, "Agno's token totals for the day (JSON text)", row="token_metrics"),
    Column("model_metrics", JSONTEXT, "Agno's per-model counts (JSON text)", row="model_metrics"),
    Column("completed", "BOOLEAN", "True once the day is over and final", row="completed"),
    Column("created_at", TIME, "When the row was written (UTC)", row="created_at"),
    Column("updated_at", TIME, "When it last changed (UTC)", row="updated_at"),
]

TOOL_RESULT_COLUMNS: List[Column] = [
    Column("result_id", "VARCHAR", "The offloaded result's id (res_...; in the envelope the model saw)",
           row="result_id"),
    Column("session_id", "VARCHAR", "Session of the call", row="session_id"),
    Column("run_id", "VARCHAR", "Run of the call", row="run_id"),
    Column("tool_call_id", "VARCHAR", "The call (joins tool_calls.tool_call_id)", row="tool_call_id"),
    Column("tool_name", "VARCHAR", "The tool", row="tool_name"),
    Column("namespace", "VARCHAR", "Namespace of the payload in agno_fs", row="namespace"),
    Column("path", "VARCHAR", "Path of the payload in agno_fs", row="path"),
    Column("content_type", "VARCHAR", "json or text", row="content_type"),
    Column("size_bytes", "BIGINT", "Size of the payload (UTF-8 bytes)", row="size_bytes"),
    Column("line_count", "BIGINT", "Lines in the payload", row="line_count"),
    Column("preview", "VARCHAR", "The preview the model saw", row="preview"),
    Column("user_id", "VARCHAR", "User of the run", row="user_id"),
    Column("created_at", TIME, "When it was stored (UTC)", row="created_at"),
    Column("expires_at", TIME, "When the payload expires (UTC; NULL: never)", row="expires_at"),
]

STORED_COLUMNS: Dict[str, List[Column]] = {
    "traces": TRACE_COLUMNS,
    "spans": SPAN_COLUMNS,
    "approvals": APPROVAL_COLUMNS,
    "compactions": COMPACTION_COLUMNS,
    "memories": MEMORY_COLUMNS,
    "learnings": LEARNING_COLUMNS,
    "metrics": METRIC_COLUMNS,
    "tool_results": TOOL_RESULT_COLUMNS,
    "evals": EVAL_COLUMNS,
}
