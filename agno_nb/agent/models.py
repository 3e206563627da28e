"""Chat models: any OpenAI-compatible endpoint, and deterministic offline models."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from ..errors import AgnoNbError
from ..records import Message, Metrics


class ModelError(AgnoNbError, RuntimeError):
    """The model endpoint failed or answered with something unusable."""


@dataclass
class ModelResponse:
    """One model turn: text and/or tool calls, with its metrics."""

    content: Optional[str] = None
    tool_calls: List[Dict[str, Any]] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)
    provider_data: Optional[Dict[str, Any]] = None


class Model:
    """Base class: ``invoke(messages, tools)`` returns a :class:`ModelResponse`."""

    id: str = "model"
    name: str = "Model"
    provider: str = "agno_nb"
    calls_tools: bool = True  # False: the model never asks for a tool call

    def invoke(self, messages: Sequence[Message], tools: Optional[List[Dict[str, Any]]] = None) -> ModelResponse:
        start = time.perf_counter()
        response = self._respond(list(messages), tools or [])
        elapsed = time.perf_counter() - start
        if response.metrics.duration is None:
            response.metrics.duration = elapsed
        if response.metrics.time_to_first_token is None and response.content is not None:
            response.metrics.time_to_first_token = elapsed
        return response

    def _respond(self, messages: List[Message], tools: List[Dict[str, Any]]) -> ModelResponse:  # pragma: no cover
        raise NotImplementedError

    def invoke_stream(self, messages: Sequence[Message],
                      tools: Optional[List[Dict[str, Any]]] = None) -> Iterator[Union[str, ModelResponse]]:
        """Yield the answer's text as deltas (``str``), then the whole :class:`ModelResponse`.

        Offline models answer at once; their text is yielded word by word so that a
        streamed run looks like one.
        """
        response = self.invoke(messages, tools)
        yield from _WORDS.findall(response.content or "")
        yield response

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "provider": self.provider, "id": self.id}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"


_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORDS = re.compile(r"\S+\s*|\s+")


def count_tokens(text: Any) -> int:
    """A deterministic token count for offline models (words and punctuation)."""
    return len(_TOKEN.findall(text if isinstance(text, str) else json.dumps(text, default=str)))


def _usage(messages: Sequence[Message], content: Optional[str], tool_calls: List[Dict[str, Any]]) -> Metrics:
    inp = sum(count_tokens(m.content or "") + count_tokens(m.tool_calls or "") + 3 for m in messages)
    out = count_tokens(content or "") + sum(count_tokens(c["function"]["arguments"]) + 2 for c in tool_calls)
    return Metrics(input_tokens=inp, output_tokens=out, total_tokens=inp + out)


def tool_call(name: str, arguments: Optional[Dict[str, Any]] = None, call_id: Optional[str] = None) -> Dict[str, Any]:
    """An OpenAI-style tool call, for :class:`ScriptedModel` scripts."""
    return {"id": call_id or f"call_{uuid.uuid4().hex[:12]}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments or {})}}


class EchoModel(Model):
    """Answers ``"Echo: <last user message>"``. Offline and deterministic."""

    name = "EchoModel"
    provider = "agno_nb"
    calls_tools = False

    def __init__(self, id: str = "echo", prefix: str = "Echo: "):
        self.id = id
        self.prefix = prefix

    def _respond(self, messages, tools):
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        content = f"{self.prefix}{last}"
        return ModelResponse(content=content, metrics=_usage(messages, content, []))


Scripted = Union[str, Dict[str, Any], List[Dict[str, Any]], Callable[[List[Message]], Any]]


class ScriptedModel(Model):
    """Plays back a script of responses, one per model call. Offline and deterministic.

    Each response is text, a tool call (``tool_call("get_weather", {"city": "Oslo"})``
    or ``{"tool": "get_weather", "args": {...}}``), a list of tool calls, or a callable
    that receives the messages and returns one of those. A tool call's result goes back
    to the model, so the next response in the script answers it. With ``cycle=True``
    the script starts over when it ends; otherwise running past the end is an error.
    """

    name = "ScriptedModel"
    provider = "agno_nb"

    def __init__(self, responses: Sequence[Scripted], id: str = "scripted", cycle: bool = False):
        if not responses:
            raise ValueError("ScriptedModel needs at least one response")
        self.responses = list(responses)
        self.id = id
        self.cycle = cycle
        self.calls = 0

    def _respond(self, messages, tools):
        if self.calls >= len(self.responses) and not self.cycle:
            raise ModelError(f"ScriptedModel {self.id!r} ran out of responses ({len(self.responses)} scripted); "
                             "add more or pass cycle=True")
        item = self.responses[self.calls % len(self.responses)]
        self.calls += 1
        if callable(item):
            item = item(messages)
        if isinstance(item, dict) and "tool" in item:
            item = tool_call(item["tool"], item.get("args") or item.get("arguments"))
        if isinstance(item, dict) and item.get("type") == "function":
            item = [item]
        if isinstance(item, list):
            return ModelResponse(tool_calls=item, metrics=_usage(messages, None, item))
        content = str(item)
        return ModelResponse(content=content, metrics=_usage(messages, content, []))


class OpenAILike(Model):
    """Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, LM Studio, ...).

    ``api_key`` defaults to ``$OPENAI_API_KEY``; endpoints that need none accept any.
    """

    name = "OpenAILike"
    provider = "OpenAI"

    def __init__(self, id: str = "not-provided", base_url: str = "http://localhost:8000/v1",
                 api_key: Optional[str] = None, temperature: Optional[float] = None, timeout: float = 60.0,
                 max_tokens: Optional[int] = None):
        import httpx

        self.id = id
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "not-provided"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {self.api_key}"})

    def _body(self, messages, tools) -> Dict[str, Any]:
        body: Dict[str, Any] = {"model": self.id, "messages": [m.to_chat() for m in messages]}
        if tools:
            body["tools"] = tools
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body

    def invoke_stream(self, messages, tools=None):
        """Stream the completion (server-sent events) and yield text deltas as they come."""
        import httpx

        body = {**self._body(list(messages), tools or []), "stream": True, "stream_options": {"include_usage": True}}
        url = f"{self.base_url}/chat/completions"
        start = time.perf_counter()
        first: Optional[float] = None
        text: List[str] = []
        calls: Dict[int, Dict[str, Any]] = {}
        usage: Dict[str, Any] = {}
        response_id = None
        try:
            with self._client.stream("POST", url, json=body) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise ModelError(f"model endpoint {url} answered HTTP {resp.status_code}: {resp.text[:300]}")
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    try:
                        chunk = json.loads(payload)
                    except ValueError:
                        raise ModelError(f"model endpoint {url} sent a stream event that is not JSON: {payload[:200]}") from None
                    response_id = chunk.get("id") or response_id
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        if delta.get("content"):
                            if first is None:
                                first = time.perf_counter() - start
                            text.append(delta["content"])
                            yield delta["content"]
                        for call in delta.get("tool_calls") or []:
                            slot = calls.setdefault(call.get("index", len(calls)),
                                                    {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                            slot["id"] = call.get("id") or slot["id"]
                            fn = call.get("function") or {}
                            slot["function"]["name"] += fn.get("name") or ""
                            slot["function"]["arguments"] += fn.get("arguments") or ""
        except httpx.HTTPError as exc:
            raise ModelError(f"cannot reach model endpoint {url}: {exc}") from None
        metrics = _metrics_from_usage(usage)
        metrics.duration = time.perf_counter() - start
        metrics.time_to_first_token = first
        yield ModelResponse(content="".join(text) if text else None, tool_calls=[calls[i] for i in sorted(calls)],
                            metrics=metrics, provider_data={"id": response_id} if response_id else None)

    def _respond(self, messages, tools):
        import httpx

        body = self._body(messages, tools)
        url = f"{self.base_url}/chat/completions"
        try:
            resp = self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise ModelError(f"cannot reach model endpoint {url}: {exc}") from None
        if resp.status_code >= 400:
            raise ModelError(f"model endpoint {url} answered HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            data = resp.json()
            choice = data["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ModelError(f"model endpoint {url} sent no chat completion: {resp.text[:300]}") from None
        metrics = _metrics_from_usage(data.get("usage") or {})
        # finish_reason kept so analysis can tell an answer cut off by max_tokens ("length")
        extra = {"id": data.get("id"), "finish_reason": (data["choices"][0] or {}).get("finish_reason")}
        return ModelResponse(content=choice.get("content"), tool_calls=choice.get("tool_calls") or [],
                             metrics=metrics, provider_data={k: v for k, v in extra.items() if v} or None)


def _metrics_from_usage(usage: Dict[str, Any]) -> Metrics:
    """An OpenAI ``usage`` object as metrics."""
    return Metrics(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        total_tokens=usage.get("total_tokens") or 0,
        cache_read_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0,
        reasoning_tokens=(usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0,
    )


class OpenAIChat(OpenAILike):
    """OpenAI's chat-completions API (``$OPENAI_API_KEY``; ``base_url`` may point elsewhere)."""

    name = "OpenAIChat"

    def __init__(self, id: str = "gpt-4o-mini", base_url: Optional[str] = None, api_key: Optional[str] = None,
                 **kwargs: Any):
        super().__init__(id=id, base_url=base_url or os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
                         api_key=api_key, **kwargs)
