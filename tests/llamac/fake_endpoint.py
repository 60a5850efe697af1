"""A real loopback HTTP server speaking just enough of the chat-completions API to script failures.

Used by the retry, structured-path, logging and reliability tests: each request takes the next scripted
reply (status, headers, body: a JSON object, or raw bytes for a body that is not JSON); a reply function
may also sleep (a hanging provider). Every request's arrival time, headers and JSON body are kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], dict[str, Any] | bytes]


def completion(
    content: str, prompt_tokens: int = 10, completion_tokens: int = 5, finish_reason: str = "stop"
) -> Reply:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return 200, {}, body


def error(status: int, headers: dict[str, str] | None = None, message: str = "scripted failure") -> Reply:
    return status, headers or {}, {"error": {"message": message, "type": "server_error", "code": None}}


@dataclass
class Seen:
    at: float
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeEndpoint:
    replies: Callable[[int, dict[str, Any]], Reply]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


def serve(replies: list[Reply] | Callable[[int, dict[str, Any]], Reply]) -> tuple[FakeEndpoint, Callable[[], None]]:
    """Start the server; returns the endpoint (``url`` ends in /v1) and a stop function."""
    script = replies if callable(replies) else (lambda i, body: replies[min(i, len(replies) - 1)])
    endpoint = FakeEndpoint(replies=script)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with lock:
                index = len(endpoint.seen)
                endpoint.seen.append(Seen(time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, payload = endpoint.replies(index, body)
            raw = isinstance(payload, bytes)  # a body that is not JSON (an HTML error page, a cut-off answer)
            data = payload if raw else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "text/html" if raw else "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            data = json.dumps({"object": "list", "data": [{"id": "qwen-0.5b", "object": "model"}]}).encode()
            self.send_response(200 if self.path.endswith("/models") else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            return None  # a client that gave up on a hanging reply: nothing to report

    server = Server(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return endpoint, stop


def _fill(schema: dict[str, Any], amount: int) -> Any:
    """A value that satisfies ``schema`` (integers get ``amount`` within their bounds)."""
    kind = schema.get("type")
    if kind == "object":
        return {key: _fill(sub, amount) for key, sub in schema.get("properties", {}).items()}
    if kind == "integer":
        return max(schema.get("minimum", amount), min(schema.get("maximum", amount), amount))
    if kind == "array":
        return []
    if "enum" in schema:
        return schema["enum"][0]
    return "x"


def schema_answers(amount: int = 3, prompt_tokens: int = 100, completion_tokens: int = 10) -> Callable[[int, dict[str, Any]], Reply]:
    """A scripted endpoint for orchestration tests (not a model): a request that binds a JSON schema
    (``LLAMAC_ENDPOINT=llama_cpp``: ``response_format.schema``) gets an object satisfying it, with every
    integer ``amount`` (an allocation plan); any other request (an actor's check) gets "I Agree". Every
    answer reports the same usage, so a run's tokens are calls x (prompt + completion)."""

    def reply(index: int, body: dict[str, Any]) -> Reply:
        schema = (body.get("response_format") or {}).get("schema")
        content = json.dumps(_fill(schema, amount)) if schema else "I Agree"
        return completion(content, prompt_tokens, completion_tokens)

    return reply
