"""A local OpenAI-compatible chat-completions server, for tests and benchmarks.

No model service is reachable from tests or Binder, so this answers on 127.0.0.1 the
way an OpenAI-compatible endpoint does: with ``tools`` offered and no tool result yet
in the conversation, it calls the first tool (arguments from ``tool_args``, those it declares); otherwise
it echoes the last user message. Usage counts are real counts of words. With
``"stream": true`` the answer comes as server-sent ``chat.completion.chunk`` events.

Asked for structured output (``response_format`` with a JSON schema, as Agno's session
summaries are), it answers with a JSON object that fills the schema. A model id listed in
``reasoning`` answers with that text as ``reasoning_content`` too, as DeepSeek-R1 and vLLM's
reasoning parsers do (in the message, or in the deltas before the text when streaming); any
other model id containing ``reason`` (``fake-reasoner``) with a stock sentence; other ids never do.

    with FakeOpenAIServer() as server:
        model = OpenAILike(id="fake", base_url=server.base_url)
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional


class FakeOpenAIServer:
    """Serve ``POST /v1/chat/completions`` on 127.0.0.1 in a background thread."""

    def __init__(self, tool_args: Optional[Dict[str, Any]] = None, port: int = 0,
                 reasoning: Optional[Dict[str, str]] = None):
        self.tool_args = tool_args or {}
        self.reasoning = reasoning or {}
        self.requests: List[Dict[str, Any]] = []
        self.fail_next: Optional[int] = None  # HTTP status to answer the next request with
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; with Nagle on, the body waits ~40 ms
            # for the client's delayed ACK, which would swamp what tests and benchmarks measure.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                server.requests.append(body)
                if server.fail_next is not None:
                    status, server.fail_next = server.fail_next, None
                    return self._send(status, {"error": {"message": "injected failure"}})
                if body.get("stream"):
                    return self._send_stream(server.stream_chunks(body))
                self._send(200, server.complete(body))

            def _send_stream(self, chunks):
                # Server-sent events, as OpenAI streams; one body with a length keeps it simple.
                data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def complete(self, body: Dict[str, Any]) -> Dict[str, Any]:
        messages = body.get("messages") or []
        tools = body.get("tools") or []
        words_in = sum(len(str(m.get("content") or "").split()) + 3 for m in messages)
        message: Dict[str, Any] = {"role": "assistant"}
        if tools and not any(m.get("role") == "tool" for m in messages[_last_user(messages):]):
            function = tools[0]["function"]
            name, args = function["name"], self.tool_args.get(function["name"], {})
            declared = (function.get("parameters") or {}).get("properties")
            if declared:  # two tools of one name (Agno's memory and learning stores) take different args
                args = {k: v for k, v in args.items() if k in declared}
            message["content"] = None
            message["tool_calls"] = [{
                "id": f"call_{len(self.requests)}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }]
            words_out = 5
        else:
            tool_results = [m for m in messages[_last_user(messages):] if m.get("role") == "tool"]
            if tool_results:
                message["content"] = f"Tool said: {tool_results[-1].get('content')}"
            else:
                user = messages[_last_user(messages)].get("content") if messages else ""
                message["content"] = f"Echo: {_text(user)}"
            schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
            if schema:
                message["content"] = json.dumps(_fill(schema, message["content"], schema))
            words_out = len(message["content"].split())
        reasoning = self.reasoning.get(body.get("model")) if body.get("model") in self.reasoning else (
            f"Thinking about {len(messages)} message(s) before answering." if "reason" in str(body.get("model") or "")
            else None)
        if reasoning is not None:
            # reasoning endpoints send their thinking beside the answer, not in it
            message["reasoning_content"] = reasoning
            words_out += len(reasoning.split())
        finish = "tool_calls" if "tool_calls" in message else "stop"
        limit = body.get("max_tokens")
        if limit is not None and words_out > limit and message.get("content"):
            # like a real endpoint: the answer stops at max_tokens, and says why
            message["content"] = " ".join(message["content"].split()[:limit])
            words_out, finish = limit, "length"
        return {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": words_in, "completion_tokens": words_out,
                      "total_tokens": words_in + words_out},
        }

    def stream_chunks(self, body: Dict[str, Any]) -> List[Dict[str, Any]]:
        """The completion as ``chat.completion.chunk`` deltas: the text word by word, tool
        calls in one chunk, then (with ``stream_options.include_usage``) the usage."""
        full = self.complete(body)
        message, usage = full["choices"][0]["message"], full["usage"]
        base = {"id": full["id"], "object": "chat.completion.chunk", "model": full["model"]}

        def chunk(delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        out = [chunk({"role": "assistant", "content": ""})]
        if message.get("reasoning_content"):
            out.append(chunk({"reasoning_content": message["reasoning_content"]}))
        out += [chunk({"content": piece}) for piece in re.findall(r"\S+\s*|\s+", message.get("content") or "")]
        if message.get("tool_calls"):
            out.append(chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]}))
        out.append(chunk({}, full["choices"][0]["finish_reason"]))
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append({**base, "choices": [], "usage": usage})
        return out

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _text(content: Any) -> Any:
    """A message's text: multimodal content (a list of parts) echoes its text parts only."""
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content


def _fill(schema: Dict[str, Any], text: str, root: Dict[str, Any]) -> Any:
    """A value that satisfies ``schema`` (strings say ``text``), following ``$ref``s into ``root``."""
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return _fill(node, text, root)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return _fill(next((o for o in options if o.get("type") != "null"), options[0]), text, root)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _fill(v, text, root) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_fill(schema.get("items") or {"type": "string"}, text, root)]
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1.0, "boolean": True, "null": None}.get(kind, text)


def _last_user(messages: List[Dict[str, Any]]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return 0
