"""A local stand-in for the OpenAI and Groq HTTP APIs: it answers the real SDKs with replies queued in advance.

    with StandInServer() as server:
        server.reply(shapes.openai_chat("gpt-4o-mini", 12, 5))
        OpenAI(base_url=server.openai_base_url, api_key="x").chat.completions.create(...)
"""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One queued answer: a JSON body, a server-sent-event stream, or plain text."""

    status: int = 200
    body: Any = None  # dict → JSON; str → text/plain
    events: list[tuple[str | None, dict]] | None = None  # (event name, data) for text/event-stream
    done_marker: bool = True  # end an event stream with `data: [DONE]` (chat streams do)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SeenRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


class StandInServer:
    """An HTTP server on 127.0.0.1 (random port) answering each request with the next queued reply, in order."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the server's root URL."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        """Return the `base_url` for `openai.OpenAI` (its paths omit `/v1`)."""
        return f"{self.url}/v1"

    @property
    def groq_base_url(self) -> str:
        """Return the `base_url` for `groq.Groq` (its paths start with `/openai/v1`)."""
        return self.url

    def reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Queue a JSON (dict) or text (str) answer."""
        self._queue(Reply(status=status, body=body, headers=headers or {}))

    def reply_stream(self, events: list[dict] | list[tuple[str | None, dict]], done_marker: bool = True) -> None:
        """Queue a server-sent-event stream; items are data dicts or (event name, data) pairs."""
        pairs = [e if isinstance(e, tuple) else (None, e) for e in events]
        self._queue(Reply(events=pairs, done_marker=done_marker))

    def _queue(self, reply: Reply) -> None:
        with self._lock:
            self.replies.append(reply)

    def _next(self, seen: SeenRequest) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if self.replies:
                return self.replies.popleft()
        return Reply(status=500, body={"error": {"message": f"stand-in: no reply queued for {seen.path}", "type": "stand_in"}})

    def start(self) -> StandInServer:
        """Start serving in a background thread."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: do not wait 40 ms between them

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = SeenRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                standin._answer(self, standin._next(seen))

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:  # keep test and demo output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stand-in-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.events is not None:
            parts = []
            for name, data in reply.events:
                head = f"event: {name}\n" if name else ""
                parts.append(f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n")
            if reply.done_marker:
                parts.append("data: [DONE]\n\n")
            payload, content_type = "".join(parts).encode(), "text/event-stream; charset=utf-8"
        elif isinstance(reply.body, str):
            payload, content_type = reply.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(reply.body).encode(), "application/json"
        handler.send_response(reply.status)
        handler.send_header("content-type", content_type)
        handler.send_header("content-length", str(len(payload)))
        handler.send_header("x-should-retry", "false")  # the SDKs retry 429/5xx by default; one reply is one call here
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
