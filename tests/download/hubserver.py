"""A stand-in for the Hugging Face Hub on 127.0.0.1, speaking the parts huggingface_hub uses.

- ``GET /api/models/{org}/{name}[/revision/{rev}][?blobs=true]``: id, sha, siblings (with LFS
  sha256/size when ``blobs`` is asked for), gated;
- ``GET /api/models?search=…&filter=gguf&limit=N``: the model search (repos by downloads);
- ``HEAD``/``GET /{org}/{name}/resolve/{rev}/{filename}``: 302 to ``/lfs/...`` as the Hub redirects
  LFS files to its CDN, with ``X-Repo-Commit``, ``X-Linked-Etag``, ``X-Linked-Size``, ``ETag``;
  the ``/lfs`` URL honours ``Range`` (206 + ``Content-Range``);
- gated repos answer 401 (no token) / 403 (token without access) with ``X-Error-Code: GatedRepo``.

Faults for tests: per file, an advertised hash or size other than the real one;
``throttle_bps``; ``cut_after`` (close the connection after N body bytes of each response);
``pause_at`` (stop sending for a while once, mid-file); ``fail_with`` (HTTP error statuses for
the next file requests). ``bytes_sent`` counts body bytes per filename.
Run as a script to serve files for the benchmark.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class HubFile:
    path: Path  # the bytes served
    sha256: str  # the hash advertised (tests advertise a different one to serve corrupt bytes)
    advertised_size: int | None = None  # the size the API and headers claim, when not the real one

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def listed_size(self) -> int:
        return self.size if self.advertised_size is None else self.advertised_size


@dataclass
class HubRepo:
    repo_id: str
    files: dict[str, HubFile]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    gated: bool = False
    downloads: int = 0  # what the search sorts by
    likes: int = 0

    @property
    def tags(self) -> set[str]:
        return {"gguf"} if any(name.endswith(".gguf") for name in self.files) else set()


@dataclass
class HubState:
    repos: dict[str, HubRepo] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)  # tokens with access to gated repos
    throttle_bps: float | None = None
    cut_after: int | None = None
    pause_at: tuple[int, float] | None = None  # (file offset, seconds), once
    fail_with: list[int] = field(default_factory=list)  # answer the next file GETs with these
    bytes_sent: Counter = field(default_factory=Counter)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_repo(self, repo_id: str, files: dict[str, Path], *, gated: bool = False,
                 sha256s: dict[str, str] | None = None, sizes: dict[str, int] | None = None,
                 downloads: int = 0, likes: int = 0) -> HubRepo:
        sha256s, sizes = sha256s or {}, sizes or {}
        repo = HubRepo(repo_id, {name: HubFile(path, sha256s.get(name) or sha256_of(path), sizes.get(name))
                                 for name, path in files.items()}, gated=gated, downloads=downloads,
                       likes=likes)
        self.repos[repo_id] = repo
        return repo


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    @property
    def state(self) -> HubState:
        return self.server.state

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, head: bool) -> None:
        url = urlsplit(self.path)
        with self.state.lock:
            self.state.requests.append((self.command, url.path, self.headers.get("Range")))
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["_control"]:
            return self._control(parse_qs(url.query))
        if parts == ["api", "models"]:
            return self._search(parse_qs(url.query))
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            return self._api(parts[2:], parse_qs(url.query))
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._resolve(parts, head)
        if parts[0] == "lfs" and len(parts) >= 4:
            return self._lfs("/".join(parts[1:3]), "/".join(parts[3:]), head)
        self._send_json(404, {"error": "not found"}, {"X-Error-Code": "EntryNotFound"})

    def _control(self, query: dict[str, list[str]]) -> None:
        """``/_control?throttle_bps=N&reset=1`` (benchmarks drive a server in another process)."""
        st = self.state
        if "throttle_bps" in query:
            st.throttle_bps = float(query["throttle_bps"][0]) or None
        if "reset" in query:
            st.bytes_sent.clear()
        self._send_json(200, {"bytes_sent": dict(st.bytes_sent)})

    def _search(self, query: dict[str, list[str]]) -> None:
        """The model search: repos whose id holds ``search`` (any case), tagged with every
        ``filter`` (each repo here is tagged ``gguf`` when it holds a .gguf file), most
        downloaded first, at most ``limit``."""
        term = query.get("search", [""])[0].lower()
        tags = set(query.get("filter", []))
        limit = int(query.get("limit", ["1000"])[0])
        found = [r for r in self.state.repos.values() if term in r.repo_id.lower() and tags <= r.tags]
        found.sort(key=lambda r: -r.downloads)
        self._send_json(200, [{"_id": "x", "id": r.repo_id, "modelId": r.repo_id, "likes": r.likes,
                               "downloads": r.downloads, "private": False, "tags": sorted(r.tags),
                               "createdAt": "2026-01-01T00:00:00.000Z"} for r in found[:limit]])

    def _api(self, parts: list[str], query: dict[str, list[str]]) -> None:
        repo = self.state.repos.get("/".join(parts[:2]))
        if repo is None:
            return self._send_json(401, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        blobs = query.get("blobs", ["false"])[0].lower() in ("1", "true")
        siblings = []
        for name, f in repo.files.items():
            entry: dict[str, object] = {"rfilename": name}
            if blobs:
                entry.update(size=f.listed_size, blobId=f.sha256[:40],
                             lfs={"sha256": f.sha256, "size": f.listed_size, "pointerSize": 134})
            siblings.append(entry)
        self._send_json(200, {
            "_id": "x", "id": repo.repo_id, "modelId": repo.repo_id, "sha": repo.commit,
            "private": False, "gated": "manual" if repo.gated else False, "disabled": False,
            "tags": sorted(repo.tags), "downloads": repo.downloads, "likes": repo.likes,
            "siblings": siblings,
            "lastModified": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z",
        })

    def _authorized(self, repo: HubRepo) -> bool:
        if not repo.gated:
            return True
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            self._send_json(401, {"error": f"Access to model {repo.repo_id} is restricted."},
                            {"X-Error-Code": "GatedRepo"})
            return False
        if auth.removeprefix("Bearer ") not in self.state.tokens:
            self._send_json(403, {"error": f"Access to model {repo.repo_id} is restricted."},
                            {"X-Error-Code": "GatedRepo"})
            return False
        return True

    def _resolve(self, parts: list[str], head: bool) -> None:
        repo = self.state.repos.get("/".join(parts[:2]))
        filename = "/".join(parts[4:])
        f = repo.files.get(filename) if repo else None
        if repo is None or f is None:
            return self._send_json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        if not self._authorized(repo):
            return
        self.send_response(302)
        # the Hub sends LFS files to a CDN on another host; "localhost" plays that host here, so
        # clients drop the Authorization header and huggingface_hub reads the metadata off this 302
        port = self.server.server_address[1]
        self.send_header("Location", f"http://localhost:{port}/lfs/{repo.repo_id}/{quote(filename)}")
        self.send_header("X-Repo-Commit", repo.commit)
        self.send_header("X-Linked-Etag", f'"{f.sha256}"')
        self.send_header("X-Linked-Size", str(f.listed_size))
        self.send_header("ETag", f'"{f.sha256[:40]}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _lfs(self, repo_id: str, filename: str, head: bool) -> None:
        repo = self.state.repos.get(repo_id)
        f = repo.files.get(filename) if repo else None
        if repo is None or f is None:
            return self._send_json(404, {"error": "Entry not found"})
        if self.state.fail_with and not head:
            return self._send_json(self.state.fail_with.pop(0), {"error": "try again"})
        size = f.size
        start, end = 0, size - 1
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            first, _, last = rng.removeprefix("bytes=").partition("-")
            start = int(first or 0)
            end = min(int(last), size - 1) if last else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{f.sha256}"')
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if not head:
            self._send_body(f.path, filename, start, end - start + 1)

    def _send_body(self, path: Path, filename: str, start: int, count: int) -> None:
        st = self.state
        plain = st.throttle_bps is None and st.cut_after is None and st.pause_at is None
        with open(path, "rb") as fh:
            try:
                if plain:
                    sent = self.connection.sendfile(fh, start, count)
                    with st.lock:
                        st.bytes_sent[filename] += sent
                    return
                self._send_slowly(fh, filename, start, count)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def _send_slowly(self, fh, filename: str, start: int, count: int) -> None:
        st = self.state
        fh.seek(start)
        sent, began = 0, time.monotonic()
        while sent < count and not st.stop.is_set():
            pos = start + sent
            if st.pause_at and pos >= st.pause_at[0]:
                seconds = st.pause_at[1]
                st.pause_at = None
                if st.stop.wait(seconds):
                    return
            block = 64 << 10
            if st.cut_after is not None:
                block = min(block, st.cut_after - sent)
                if block <= 0:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
            data = fh.read(min(block, count - sent))
            self.wfile.write(data)
            sent += len(data)
            with st.lock:
                st.bytes_sent[filename] += len(data)
            if st.throttle_bps:
                ahead = sent / st.throttle_bps - (time.monotonic() - began)
                if ahead > 0 and st.stop.wait(ahead):
                    return

    def _send_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HubState


class HubServer:
    """``with HubServer() as hub: hub.state.add_repo(...); os.environ["HF_ENDPOINT"] = hub.url``."""

    def __init__(self, state: HubState | None = None) -> None:
        self.state = state or HubState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.stop.set()
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Serve files as ``--repo ORG/NAME --file PATH ...`` and print the URL (for benchmarks)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--file", action="append", type=Path, required=True)
    args = parser.parse_args()
    with HubServer() as hub:
        hub.state.add_repo(args.repo, {p.name: p for p in args.file})
        print(hub.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
