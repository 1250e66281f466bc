"""A small loopback HTTP server that replays what an OpenAI-compatible server sends: recorded
streams (``tests/remote/data``), model lists, error bodies. It keeps every request it got (headers
and JSON body) for the tests to read, and can cut a stream part way (the connection closed in
the middle of a chunked body, as a server that dies does) or pace it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def sse_events(body: bytes) -> list[bytes]:
    """A recorded SSE body split into its events (each ends with its blank line)."""
    return [part + b"\n\n" for part in body.replace(b"\r\n", b"\n").split(b"\n\n") if part.strip()]


@dataclass
class Reply:
    status: int = 200
    body: bytes | list[bytes] = b""  # a list: sent as a stream, one chunk each
    content_type: str = "application/json"
    delay_s: float = 0.0  # before each chunk of a stream
    cut_after: int | None = None  # chunks sent before the connection is cut
    hold: threading.Event | None = None  # a stream waits for this after its first chunk


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Route = Callable[[Request], Reply]


def json_reply(obj: Any, status: int = 200) -> Route:
    return lambda request: Reply(status, json.dumps(obj).encode())


def file_reply(name: str, status: int = 200) -> Route:
    return lambda request: Reply(status, data(name))


def stream_reply(name: str, **kwargs: Any) -> Route:
    return lambda request: Reply(200, sse_events(data(name)), "text/event-stream", **kwargs)


@dataclass
class ReplayServer:
    routes: dict[str, Route] = field(default_factory=dict)  # "POST /v1/chat/completions" → route
    requests: list[Request] = field(default_factory=list)

    def __enter__(self) -> ReplayServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                request = Request(self.command, self.path, dict(self.headers.items()), body)
                server.requests.append(request)
                route = server.routes.get(f"{self.command} {self.path}")
                reply = route(request) if route else Reply(404, b'{"detail":"Not Found"}')
                if isinstance(reply.body, bytes):
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for n, chunk in enumerate(reply.body):
                    if reply.cut_after is not None and n >= reply.cut_after:
                        self.close_connection = True
                        self.wfile.flush()
                        self.connection.shutdown(2)  # mid-body: the client reads a cut stream
                        return
                    if reply.delay_s:
                        threading.Event().wait(reply.delay_s)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if n == 0 and reply.hold is not None:
                        reply.hold.wait(30)
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]
