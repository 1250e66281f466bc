"""A minimal Hub stand-in on 127.0.0.1: ``GET /{org}/{name}/resolve/{rev}/{file}`` with Range
support (206 + Content-Range), as the Hub's CDN answers. Records every request and the body bytes
it sent, so tests can check that only a header prefix was read."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


class RangeServer:
    def __init__(self, files: dict[str, Path], status: int | None = None) -> None:
        self.files = files  # "org/name/filename" -> local path
        self.status = status  # answer every request with this error status instead
        self.requests: list[tuple[str, str | None]] = []
        self.bytes_sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
                path = None
                if len(parts) >= 5 and parts[2] == "resolve":
                    path = server.files.get("/".join(parts[:2] + parts[4:]))
                if server.status or path is None:
                    self.send_response(server.status or 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                size = path.stat().st_size
                start, end = 0, size - 1
                if rng and rng.startswith("bytes="):
                    first, _, last = rng.removeprefix("bytes=").partition("-")
                    start, end = int(first or 0), min(int(last or size - 1), size - 1)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(end - start + 1))
                self.end_headers()
                with open(path, "rb") as fh:
                    fh.seek(start)
                    data = fh.read(end - start + 1)
                try:
                    self.wfile.write(data)
                    server.bytes_sent += len(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
