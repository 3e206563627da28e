"""Chat models: any OpenAI-compatible endpoint, and deterministic offline models."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

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

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "provider": self.provider, "id": self.id}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"


_TOKEN = re.compile(r"\w+|[^\w\s]")


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

    def _respond(self, messages, tools):
        import httpx

        body: Dict[str, Any] = {"model": self.id, "messages": [m.to_chat() for m in messages]}
        if tools:
            body["tools"] = tools
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
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
        usage = data.get("usage") or {}
        metrics = Metrics(
            input_tokens=usage.get("prompt_tokens") or 0,
            output_tokens=usage.get("completion_tokens") or 0,
            total_tokens=usage.get("total_tokens") or 0,
            cache_read_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0,
            reasoning_tokens=(usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0,
        )
        # finish_reason kept so analysis can tell an answer cut off by max_tokens ("length")
        extra = {"id": data.get("id"), "finish_reason": (data["choices"][0] or {}).get("finish_reason")}
        return ModelResponse(content=choice.get("content"), tool_calls=choice.get("tool_calls") or [],
                             metrics=metrics, provider_data={k: v for k, v in extra.items() if v} or None)


class OpenAIChat(OpenAILike):
    """OpenAI's chat-completions API (``$OPENAI_API_KEY``; ``base_url`` may point elsewhere)."""

    name = "OpenAIChat"

    def __init__(self, id: str = "gpt-4o-mini", base_url: Optional[str] = None, api_key: Optional[str] = None,
                 **kwargs: Any):
        super().__init__(id=id, base_url=base_url or os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
                         api_key=api_key, **kwargs)
