"""Agno 3.1's constructor flags for features agno_nb does not implement: accepted, kept, said so.

Code written for Agno passes these to ``Agent(...)``, ``Team(...)`` and ``Workflow(...)``
(``Team(update_memory_on_run=True)``, ``Agent(telemetry=False)``). agno_nb is session storage
and a notebook toolkit, not the whole framework, so they change nothing here; refusing them
would make that code fail on its first line. Each is accepted, set as an attribute of the
component (``agent.update_memory_on_run``, Agno's default when not given) and kept in
``component.agno_flags`` (the ones given). A flag given a value other than Agno's default,
for a feature whose absence changes what a run does, warns once, naming the feature.

The names are those of agno 3.1.10's ``__init__`` (``tests/test_compat_agno31.py`` compares
them); the reasons are listed in docs/compat.md.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Dict, Mapping, Tuple

__all__ = ["AGENT_FLAGS", "TEAM_FLAGS", "WORKFLOW_FLAGS", "accept_agno_flags"]

# Feature (as the warning names it) -> the flags that switch it on.
FEATURES: Dict[str, Tuple[str, ...]] = {
    "user memories": ("memory_manager", "enable_agentic_memory", "update_memory_on_run", "add_memories_to_context"),
    "knowledge and retrieval": ("knowledge", "knowledge_filters", "enable_agentic_knowledge_filters",
                                "add_knowledge_to_context", "knowledge_retriever", "references_format",
                                "search_knowledge", "add_search_knowledge_instructions", "update_knowledge"),
    "learnings": ("learning", "add_learnings_to_context"),
    "past-session search": ("search_past_sessions", "num_past_sessions_to_search", "num_past_session_runs_in_search"),
    "dependencies": ("dependencies", "add_dependencies_to_context"),
    "agentic state": ("enable_agentic_state",),
    "session summaries in the context": ("add_session_summary_to_context", "session_summary_manager"),
    "compaction, compression and offloading of tool results": (
        "compaction", "compress_tool_results", "compression_manager", "offload_tool_results",
        "max_tool_calls_from_history", "read_tool_call_history", "store_tool_messages"),
    "media": ("store_media", "media_storage", "send_media_to_model"),
    "reasoning": ("reasoning_model", "reasoning_agent"),
    "structured input and output": ("input_schema", "output_schema", "parser_model", "parser_model_prompt",
                                    "parse_response", "output_model", "output_model_prompt", "structured_outputs",
                                    "use_json_mode", "save_response_to_file"),
    "follow-up suggestions": ("followups", "num_followups", "followup_model"),
    "hooks and tool limits": ("tool_call_limit", "tool_choice", "tool_hooks", "pre_hooks", "post_hooks"),
    "model fallbacks and retries": ("fallback_config", "fallback_models", "retries", "delay_between_retries",
                                    "exponential_backoff"),
    "context building": ("system_message", "system_message_role", "introduction", "build_context",
                         "use_instruction_tags", "expected_output", "additional_context", "add_name_to_context",
                         "add_datetime_to_context", "add_location_to_context", "datetime_format",
                         "timezone_identifier", "resolve_in_context", "additional_input", "user_message_role",
                         "build_user_context", "role", "add_member_tools_to_context"),
    "component metadata": ("metadata",),
    "skills, sandboxes, files and checkpoints": ("skills", "sandbox", "filesystem", "checkpoint"),
    "streaming and stored events by default": ("stream", "stream_events", "store_events", "events_to_skip",
                                               "stream_member_events", "stream_executor_events"),
    "team modes": ("mode", "respond_directly", "determine_input_for_members", "delegate_to_all_members",
                   "max_iterations", "add_team_history_to_members", "num_team_history_runs",
                   "share_member_interactions", "get_member_information_tool", "store_member_responses",
                   "show_members_responses"),
    "agentic workflows": ("agent", "store_executor_outputs", "add_workflow_history_to_steps"),
}
# Logging, telemetry and caching of callables: nothing a run stores depends on them, so they
# are accepted without a word.
SILENT: Tuple[str, ...] = ("telemetry", "debug_mode", "debug_level", "cache_callables", "callable_tools_cache_key",
                           "callable_knowledge_cache_key", "callable_members_cache_key")

# Agno's defaults where they are not None (agno 3.1.10); a flag given its default asks for nothing.
AGNO_DEFAULTS: Dict[str, Any] = {
    "store_media": True, "store_tool_messages": True, "references_format": "json", "search_knowledge": True,
    "add_search_knowledge_instructions": True, "send_media_to_model": True, "system_message_role": "system",
    "build_context": True, "resolve_in_context": True, "add_learnings_to_context": True, "user_message_role": "user",
    "build_user_context": True, "delay_between_retries": 1, "parse_response": True, "debug_level": 1,
    "telemetry": True, "cache_callables": True, "determine_input_for_members": True, "max_iterations": 10,
    "num_team_history_runs": 3, "stream_member_events": True, "stream_executor_events": True,
    "store_executor_outputs": True,
}
# Defaults that are False rather than None in Agno (so ``agent.debug_mode`` reads as in Agno; where
# Agno's classes differ, None on one and False on another, both mean off).
_FALSE_DEFAULTS = ("enable_agentic_state", "search_past_sessions", "enable_agentic_memory", "update_memory_on_run",
                   "compress_tool_results", "enable_agentic_knowledge_filters", "add_knowledge_to_context",
                   "update_knowledge", "read_tool_call_history", "use_instruction_tags", "add_name_to_context",
                   "add_datetime_to_context", "add_location_to_context", "exponential_backoff", "use_json_mode",
                   "followups", "stream_events", "store_events", "debug_mode", "respond_directly",
                   "delegate_to_all_members", "add_team_history_to_members", "add_member_tools_to_context",
                   "share_member_interactions", "get_member_information_tool", "store_member_responses",
                   "show_members_responses", "add_workflow_history_to_steps", "add_dependencies_to_context")

_COMMON = ("debug_mode", "debug_level", "telemetry", "stream", "stream_events", "store_events", "events_to_skip",
           "store_media", "media_storage", "metadata", "dependencies", "add_dependencies_to_context",
           "input_schema")
_AGENT_AND_TEAM = tuple(n for names in FEATURES.values() for n in names
                        if n not in FEATURES["team modes"] + FEATURES["agentic workflows"]
                        + ("add_member_tools_to_context", "stream_member_events", "stream_executor_events"))
AGENT_FLAGS: Tuple[str, ...] = tuple(dict.fromkeys(
    (*_COMMON, *_AGENT_AND_TEAM, "cache_callables", "callable_tools_cache_key", "callable_knowledge_cache_key")))
_AGENT_ONLY = ("build_context", "build_user_context", "compaction", "filesystem", "read_tool_call_history", "sandbox",
               "save_response_to_file", "structured_outputs", "user_message_role")
TEAM_FLAGS: Tuple[str, ...] = tuple(dict.fromkeys(
    (*(n for n in AGENT_FLAGS if n not in _AGENT_ONLY), *FEATURES["team modes"], "add_member_tools_to_context",
     "stream_member_events", "callable_members_cache_key")))
WORKFLOW_FLAGS: Tuple[str, ...] = (*_COMMON, *FEATURES["agentic workflows"], "stream_executor_events")

_FEATURE_OF = {n: feature for feature, names in FEATURES.items() for n in names}


def agno_default(name: str) -> Any:
    """The value Agno gives ``name`` when it is not passed."""
    return AGNO_DEFAULTS.get(name, False if name in _FALSE_DEFAULTS else None)


def accept_agno_flags(component: Any, given: Mapping[str, Any], names: Tuple[str, ...]) -> None:
    """Set Agno's flags ``names`` on ``component`` (``given`` values, else Agno's defaults),
    keep the given ones in ``component.agno_flags``, and warn once for those that ask for a
    feature agno_nb lacks. A name that is not one of Agno's is a ``TypeError``, as Python's."""
    owner = type(component).__name__
    unknown = [n for n in given if n not in names]
    if unknown:
        raise TypeError(f"{owner}() got an unexpected keyword argument {unknown[0]!r}")
    for name in names:
        setattr(component, name, given.get(name, agno_default(name)))
    component.agno_flags = dict(given)
    asked = [n for n, v in given.items() if n not in SILENT and not _is_default(n, v)]
    if asked:
        features = sorted({_FEATURE_OF[n] for n in asked})
        warnings.warn(f"{owner}({', '.join(f'{n}=...' for n in asked)}): agno_nb does not implement "
                      f"{'; '.join(features)}, so these Agno flags have no effect here (kept in "
                      f".agno_flags; see docs/compat.md)", UserWarning, stacklevel=_caller_level())


def _is_default(name: str, value: Any) -> bool:
    default = agno_default(name)
    try:
        return value is default or bool(value == default) or (default in (None, False) and value in (None, False))
    except Exception:  # a value whose == is not a bool (an array): not the default
        return False


def _caller_level() -> int:
    """The stacklevel of the first frame outside agno_nb.agent: the user's ``Team(...)`` line,
    however many ``__init__``s of agno_nb (Team -> Agent) are in between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("agno_nb.agent"):
        frame, level = frame.f_back, level + 1
    return level
