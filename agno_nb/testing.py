"""A local OpenAI-compatible chat-completions server, for tests and benchmarks.

No model service is reachable from tests or Binder, so this answers on 127.0.0.1 the
way an OpenAI-compatible endpoint does: with ``tools`` offered and no tool result yet
in the conversation, it calls the first tool (arguments from ``tool_args``); otherwise
it echoes the last user message. Usage counts are real counts of words. With
``"stream": true`` the answer comes as server-sent ``chat.completion.chunk`` events.
A model id containing ``reason`` (``fake-reasoner``) also answers with
``reasoning_content``, as DeepSeek-style reasoning endpoints do (in the message, or in
the deltas before the text when streaming); other ids never do.

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

    def __init__(self, tool_args: Optional[Dict[str, Any]] = None, port: int = 0):
        self.tool_args = tool_args or {}
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
            name = tools[0]["function"]["name"]
            message["content"] = None
            message["tool_calls"] = [{
                "id": f"call_{len(self.requests)}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(self.tool_args.get(name, {}))},
            }]
            words_out = 5
        else:
            tool_results = [m for m in messages[_last_user(messages):] if m.get("role") == "tool"]
            if tool_results:
                message["content"] = f"Tool said: {tool_results[-1].get('content')}"
            else:
                user = messages[_last_user(messages)].get("content") if messages else ""
                message["content"] = f"Echo: {user}"
            words_out = len(message["content"].split())
        if "reason" in str(body.get("model") or ""):
            # reasoning endpoints send their thinking beside the answer, not in it
            message["reasoning_content"] = f"Thinking about {len(messages)} message(s) before answering."
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


def _last_user(messages: List[Dict[str, Any]]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return 0
