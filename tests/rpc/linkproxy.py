"""A TCP relay on 127.0.0.1 in front of one llama.cpp RPC worker: it counts what crosses the
link (bytes each way, and the worker's answers, each of which the client waited for) and can
make the link look like a LAN (a one-way delay and a bandwidth), where ``tc netem`` is not there
to do it (this project's test machines have no netem qdisc).

An answer is a run of worker-to-client data after client-to-worker data: ggml-rpc's client sends
a command and, when the command has an output, reads the answer before it sends anything else on
that socket (``send_rpc_cmd`` in ggml-rpc.cpp), so each such run is one round trip it waited for.

    with LinkProxy(worker.port, one_way_s=0.5e-3) as link:
        EngineProcess(..., rpc_workers=(link.endpoint,))
        link.counts()  # (answers, bytes to the worker, bytes from it)
"""

from __future__ import annotations

import collections
import contextlib
import socket
import threading
import time
from types import TracebackType


class LinkProxy:
    def __init__(self, worker_port: int, *, one_way_s: float = 0.0,
                 bytes_per_s: float | None = None) -> None:
        self.worker_port = worker_port
        self.one_way_s = one_way_s
        self.bytes_per_s = bytes_per_s
        self._lock = threading.Lock()
        self._answers = self._to_worker = self._from_worker = 0
        self._last_from_client: dict[int, bool] = {}  # per connection: did the client speak last?
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"127.0.0.1:{self.port}"
        self._closed = False
        self._sockets: list[socket.socket] = []

    def counts(self) -> tuple[int, int, int]:
        """(answers the client waited for, bytes sent to the worker, bytes received from it)."""
        with self._lock:
            return self._answers, self._to_worker, self._from_worker

    def since(self, earlier: tuple[int, int, int]) -> tuple[int, int, int]:
        """``counts()`` less an earlier ``counts()``."""
        answers, to_worker, from_worker = (now - then for now, then in zip(self.counts(), earlier,
                                                                           strict=True))
        return answers, to_worker, from_worker

    def __enter__(self) -> LinkProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._closed = True
        self._listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            worker = socket.create_connection(("127.0.0.1", self.worker_port))
            for sock in (client, worker):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sockets.append(sock)
            link = id(client)
            self._last_from_client[link] = False
            for source, sink, to_worker in ((client, worker, True), (worker, client, False)):
                queue: collections.deque[tuple[float, bytes]] = collections.deque()
                ready = threading.Condition()
                threading.Thread(target=self._read, args=(source, queue, ready, link, to_worker),
                                 daemon=True).start()
                threading.Thread(target=self._write, args=(sink, queue, ready), daemon=True).start()

    def _read(self, source: socket.socket, queue: collections.deque[tuple[float, bytes]],
              ready: threading.Condition, link: int, to_worker: bool) -> None:
        sent_until = 0.0  # when the link has sent what it holds, at its bandwidth
        while True:
            try:
                data = source.recv(1 << 16)
            except OSError:
                data = b""
            now = time.perf_counter()
            with self._lock:
                if to_worker:
                    self._to_worker += len(data)
                else:
                    self._from_worker += len(data)
                    if data and self._last_from_client[link]:
                        self._answers += 1
                if data:
                    self._last_from_client[link] = to_worker
            # at a bandwidth, data waits for what is ahead of it, then takes its own time
            sent_until = (max(now, sent_until) + len(data) / self.bytes_per_s if self.bytes_per_s
                          else now)
            with ready:
                queue.append((sent_until + self.one_way_s, data))
                ready.notify()
            if not data:
                return

    def _write(self, sink: socket.socket, queue: collections.deque[tuple[float, bytes]],
               ready: threading.Condition) -> None:
        while True:
            with ready:
                while not queue:
                    ready.wait()
                due, data = queue.popleft()
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            try:
                if not data:  # the other side closed: pass it on
                    sink.shutdown(socket.SHUT_WR)
                    return
                sink.sendall(data)
            except OSError:
                return
