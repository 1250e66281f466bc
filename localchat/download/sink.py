"""Write and hash downloaded bytes in two helper threads, so the socket is read meanwhile.

File writes and ``hashlib`` updates of large buffers release the GIL, so receiving, writing and
hashing overlap. Measured with benchmarks/pull_throughput.py on a local server: all three inline
in one thread gave about half of curl's throughput (SHA-256 alone runs at ~300–700 MB/s here).
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable
from typing import BinaryIO

_BATCH_BYTES = 1 << 20
_QUEUE_BATCHES = 32  # at most ~32 MB in flight between the threads
# flush to disk as we go, so the fsync before the final rename has little left to do
_SYNC_EVERY_BYTES = 64 << 20

Batch = list[bytes]


class _Worker:
    def __init__(self, name: str, consume: Callable[[bytes], object]) -> None:
        self.consume = consume
        self.error: OSError | None = None
        self.queue: queue.Queue[Batch | None] = queue.Queue(_QUEUE_BATCHES)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.queue.get()) is not None:
            try:
                if self.error is None:
                    for chunk in batch:
                        self.consume(chunk)
            except OSError as exc:  # disk full, I/O error: reported to the receiving thread
                self.error = exc
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()


class Sink:
    """``put()`` chunks, ``drain()`` before relying on the file (resume offset, verify, rename)."""

    def __init__(self, fh: BinaryIO, hasher: hashlib._Hash) -> None:
        self.fh = fh
        self.hasher = hasher
        self._batch: Batch = []
        self._batch_bytes = 0
        self._unsynced = 0
        self._writer = _Worker("localchat-download-writer", self._write)
        self._hashing = _Worker("localchat-download-hasher", lambda chunk: self.hasher.update(chunk))

    def _write(self, chunk: bytes) -> None:
        self.fh.write(chunk)
        self._unsynced += len(chunk)
        if self._unsynced >= _SYNC_EVERY_BYTES:
            sync = getattr(os, "fdatasync", os.fsync)  # macOS and Windows have fsync only
            sync(self.fh.fileno())
            self._unsynced = 0

    def put(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= _BATCH_BYTES:
            self._send()

    def _send(self) -> None:
        if self._writer.error is not None:
            raise self._writer.error
        if self._batch:
            # one 1 MB buffer: far fewer GIL hand-offs and syscalls than 64 kB socket reads
            joined = [b"".join(self._batch)]
            self._writer.queue.put(joined)
            self._hashing.queue.put(joined)
            self._batch, self._batch_bytes = [], 0

    def drain(self) -> None:
        """Block until everything put so far is written and hashed; re-raise a write error."""
        self._send()
        self._writer.queue.join()
        self._hashing.queue.join()
        if self._writer.error is not None:
            raise self._writer.error

    def restart(self) -> None:
        """Drop the file's bytes and start the hash over (a server that ignored ``Range``)."""
        self.drain()
        self.fh.truncate(0)
        self.hasher = hashlib.sha256()

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._writer.stop()
            self._hashing.stop()
