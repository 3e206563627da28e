"""What one span says, under the conventions agno_nb reads: its role, its messages, its tokens.

* OpenInference (Phoenix, ``openinference-instrumentation-*``): ``openinference.span.kind``
  (AGENT, CHAIN, LLM, TOOL), ``llm.input_messages.N.message.role|content|tool_calls...``,
  ``llm.output_messages...``, ``llm.token_count.prompt|completion|total``, ``tool.name``,
  ``input.value`` / ``output.value``.
* OpenTelemetry GenAI semantic conventions: ``gen_ai.operation.name`` (``chat``,
  ``invoke_agent``, ``execute_tool``, ...), ``gen_ai.input.messages`` /
  ``gen_ai.output.messages`` (``[{role, parts: [{type: text|tool_call|tool_call_response}]}]``),
  ``gen_ai.system_instructions``, ``gen_ai.usage.input_tokens|output_tokens``,
  ``gen_ai.tool.name|call.id|call.arguments|call.result``.
* Older GenAI instrumentations: ``gen_ai.prompt`` / ``gen_ai.completion`` (JSON, or indexed
  ``gen_ai.prompt.N.role|content`` as OpenLLMetry writes them), ``gen_ai.usage.prompt_tokens``,
  and the events ``gen_ai.content.prompt|completion``, ``gen_ai.{system,user,assistant,tool}.message``
  and ``gen_ai.choice``.

Messages come out OpenAI-style: ``{role, content, tool_calls: [{id, type, function: {name,
arguments}}], tool_call_id}``, as Agno stores them.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any, Dict, List, Optional, Tuple

from .otlp_spans import Span

LLM_OPERATIONS = {"chat", "text_completion", "generate_content", "completion"}
AGENT_OPERATIONS = {"invoke_agent"}
CHAIN_OPERATIONS = {"invoke_workflow"}
TOOL_OPERATIONS = {"execute_tool"}
_OI_MESSAGE = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(.+)$")
_OLD_MESSAGE = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(.+)$")


# -- span roles --------------------------------------------------------------------------

def role_of(span: Span) -> Optional[str]:
    """``agent``, ``chain``, ``llm``, ``tool``, or None for a span this module cannot map."""
    a = span.attrs
    oi = str(a.get("openinference.span.kind") or "").upper()
    op = str(a.get("gen_ai.operation.name") or "").lower()
    if oi == "AGENT" or op in AGENT_OPERATIONS:
        return "agent"
    if oi == "CHAIN" or op in CHAIN_OPERATIONS:
        return "chain"
    if oi == "TOOL" or op in TOOL_OPERATIONS:
        return "tool"
    if oi == "LLM" or op in LLM_OPERATIONS:
        return "llm"
    if not oi and not op and any(k.startswith(("gen_ai.prompt", "gen_ai.completion", "gen_ai.input.messages",
                                                "gen_ai.usage.", "llm.input_messages")) for k in a):
        return "llm"
    return None


def first_of(attrs: Dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = attrs.get(k)
        if v not in (None, ""):
            return v
    return None


def as_int(v: Any) -> Optional[int]:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def as_text(v: Any) -> Optional[str]:
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v)


def json_text(v: Any) -> Optional[str]:
    """JSON text as DuckDB writes it (compact), from a value or from JSON text."""
    if v is None:
        return None
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def loads(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return None
    return v


# -- messages from one LLM span ----------------------------------------------------------

def _call(id_: Any, name: Any, arguments: Any) -> Dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments if arguments is not None else {})
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}


def _openinference_messages(attrs: Dict[str, Any], side: str) -> List[Dict[str, Any]]:
    found: Dict[int, Dict[str, Any]] = defaultdict(dict)
    for key, value in attrs.items():
        m = _OI_MESSAGE.match(key)
        if m and m.group(1) == side:
            found[int(m.group(2))][m.group(3)] = value
    out = []
    for _, flat in sorted(found.items()):
        calls: Dict[int, Dict[str, Any]] = defaultdict(dict)
        parts: Dict[int, Dict[str, Any]] = defaultdict(dict)
        for k, v in flat.items():
            m = re.match(r"^tool_calls\.(\d+)\.tool_call\.(.+)$", k)
            if m:
                calls[int(m.group(1))][m.group(2)] = v
            m = re.match(r"^contents\.(\d+)\.message_content\.(.+)$", k)
            if m:
                parts[int(m.group(1))][m.group(2)] = v
        content = flat.get("content")
        if content is None and parts:
            content = "".join(str(p.get("text") or "") for _, p in sorted(parts.items()))
        msg = {"role": flat.get("role"), "content": content, "tool_call_id": flat.get("tool_call_id"),
               "tool_name": flat.get("name") if flat.get("role") == "tool" else None}
        if calls:
            msg["tool_calls"] = [_call(c.get("id"), c.get("function.name"), c.get("function.arguments"))
                                 for _, c in sorted(calls.items())]
        out.append(msg)
    return out


def _genai_messages(value: Any) -> List[Dict[str, Any]]:
    """``gen_ai.input.messages`` / ``gen_ai.output.messages``: ``[{role, parts: [...]}]``."""
    items = loads(value)
    out: List[Dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if "parts" not in item:  # the older {role, content} shape
            out.append(_plain_message(item))
            continue
        texts, calls, replies = [], [], []
        for part in item.get("parts") or []:
            kind = part.get("type")
            if kind == "tool_call":
                calls.append(_call(part.get("id"), part.get("name"), part.get("arguments")))
            elif kind == "tool_call_response":
                replies.append(part)
            elif "content" in part:
                texts.append(as_text(part.get("content")))
        role = item.get("role")
        for reply in replies:  # one tool message per response
            out.append({"role": "tool", "content": as_text(reply.get("response")), "tool_call_id": reply.get("id")})
        if texts or calls or not replies:
            msg = {"role": role, "content": "".join(t for t in texts if t) if texts else None}
            if calls:
                msg["tool_calls"] = calls
            out.append(msg)
    return out


def _plain_message(item: Dict[str, Any]) -> Dict[str, Any]:
    """An OpenAI-style ``{role, content, tool_calls, tool_call_id}`` message."""
    msg = {"role": item.get("role"), "content": as_text(item.get("content")), "tool_call_id": item.get("tool_call_id")}
    calls = item.get("tool_calls")
    if isinstance(calls, str):
        calls = loads(calls)
    if calls:
        msg["tool_calls"] = [_call(c.get("id"), (c.get("function") or c).get("name"),
                                   (c.get("function") or c).get("arguments")) for c in calls if isinstance(c, dict)]
    return msg


def _indexed_messages(attrs: Dict[str, Any], side: str) -> List[Dict[str, Any]]:
    """OpenLLMetry's ``gen_ai.prompt.N.role`` / ``gen_ai.completion.N.content``."""
    found: Dict[int, Dict[str, Any]] = defaultdict(dict)
    for key, value in attrs.items():
        m = _OLD_MESSAGE.match(key)
        if m and m.group(1) == side:
            found[int(m.group(2))][m.group(3)] = value
    out = []
    for _, flat in sorted(found.items()):
        calls: Dict[int, Dict[str, Any]] = defaultdict(dict)
        for k, v in flat.items():
            m = re.match(r"^tool_calls\.(\d+)\.(.+)$", k)
            if m:
                calls[int(m.group(1))][m.group(2)] = v
        msg = {"role": flat.get("role") or ("assistant" if side == "completion" else None),
               "content": flat.get("content"), "tool_call_id": flat.get("tool_call_id")}
        if calls:
            msg["tool_calls"] = [_call(c.get("id"), c.get("name"), c.get("arguments")) for _, c in sorted(calls.items())]
        out.append(msg)
    return out


def _event_messages(span: Span) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The older GenAI events: ``gen_ai.content.prompt``/``completion`` and ``gen_ai.*.message``/``gen_ai.choice``."""
    ins: List[Dict[str, Any]] = []
    outs: List[Dict[str, Any]] = []
    for name, _, attrs in span.events:
        if name == "gen_ai.content.prompt":
            ins += [_plain_message(m) for m in loads(attrs.get("gen_ai.prompt")) or [] if isinstance(m, dict)]
        elif name == "gen_ai.content.completion":
            outs += [_plain_message(m) for m in loads(attrs.get("gen_ai.completion")) or [] if isinstance(m, dict)]
        elif name in ("gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message", "gen_ai.tool.message"):
            body = loads(attrs.get("body")) if "body" in attrs else attrs
            body = dict(body or {})
            body.setdefault("role", name.split(".")[1])
            if "id" in body and body["role"] == "tool":
                body.setdefault("tool_call_id", body["id"])
            ins.append(_plain_message(body))
        elif name == "gen_ai.choice":
            body = loads(attrs.get("body")) if "body" in attrs else attrs
            message = loads((body or {}).get("message")) or {
                k.split(".", 1)[1]: v for k, v in (body or {}).items() if k.startswith("message.")}
            message = dict(message or {})
            message.setdefault("role", "assistant")
            outs.append(_plain_message(message))
    return ins, outs


def llm_messages(span: Span) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The (input, output) messages of an LLM span, from whichever convention it follows."""
    a = span.attrs
    ins = _openinference_messages(a, "input")
    outs = _openinference_messages(a, "output")
    if not ins and "gen_ai.input.messages" in a:
        ins = _genai_messages(a["gen_ai.input.messages"])
        system = loads(a.get("gen_ai.system_instructions"))
        if isinstance(system, list) and system:
            text = "".join(str(p.get("content") or "") for p in system if isinstance(p, dict))
            ins = [{"role": "system", "content": text}] + ins
    if not outs and "gen_ai.output.messages" in a:
        outs = _genai_messages(a["gen_ai.output.messages"])
    if not ins and isinstance(loads(a.get("gen_ai.prompt")), list):
        ins = [_plain_message(m) for m in loads(a["gen_ai.prompt"]) if isinstance(m, dict)]
    if not outs and isinstance(loads(a.get("gen_ai.completion")), list):
        outs = [_plain_message(m) for m in loads(a["gen_ai.completion"]) if isinstance(m, dict)]
    if not ins:
        ins = _indexed_messages(a, "prompt")
    if not outs:
        outs = _indexed_messages(a, "completion")
    if not ins and not outs:
        ins, outs = _event_messages(span)
    _enrich(ins, loads(a.get("input.value")))
    _enrich(outs, loads(a.get("output.value")))
    return ins, outs


def _enrich(messages: List[Dict[str, Any]], doc: Any) -> None:
    """Take ids, ``from_history`` and times from an Agno-style ``input.value``
    (``{"messages": [...]}``, as openinference-instrumentation-agno and ``to_otlp`` write it)."""
    full = doc.get("messages") if isinstance(doc, dict) else doc
    if not isinstance(full, list) or len(full) != len(messages):
        return
    if any(not isinstance(f, dict) or f.get("role") != m.get("role") for f, m in zip(full, messages)):
        return
    for f, m in zip(full, messages):
        for key in ("id", "from_history", "created_at", "tool_name", "reasoning_content", "media"):
            if f.get(key) is not None and m.get(key) is None:
                m[key] = f[key]


def same_message(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    return (a.get("role"), a.get("content"), a.get("tool_call_id")) == (b.get("role"), b.get("content"), b.get("tool_call_id"))


def token_counts(a: Dict[str, Any]) -> Tuple[Optional[int], Optional[int], Optional[int]]:
    i = as_int(first_of(a, "llm.token_count.prompt", "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"))
    o = as_int(first_of(a, "llm.token_count.completion", "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"))
    t = as_int(first_of(a, "llm.token_count.total", "gen_ai.usage.total_tokens"))
    if t is None and (i is not None or o is not None):
        t = (i or 0) + (o or 0)
    return i, o, t


def add_counts(a: Optional[int], b: Optional[int]) -> Optional[int]:
    return b if a is None else a if b is None else a + b
