"""Progress of a pull: bytes done, speed over a sliding window, ETA, and the stalled state; and
``PullCancelled``, how a pull (from the Hub or PyPI) ends when its caller cancels it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from localchat.errors import DownloadError

_WINDOW_S = 5.0  # speed is averaged over the last seconds: steady, yet follows real changes
_EMIT_INTERVAL_S = 0.1


class PullCancelled(DownloadError):
    """The caller set the cancel event; the partial file is kept for the next pull."""


@dataclass(frozen=True)
class PullProgress:
    """One progress report. Byte counts cover the whole model (all files of a split set)."""

    filename: str  # the file being fetched now
    done_bytes: int
    total_bytes: int
    speed_bps: float  # bytes per second over the last few seconds; 0 while stalled
    eta_s: float | None  # None while unknown or stalled
    stalled: bool  # no bytes for the stall timeout: the pull is reconnecting
    file_index: int  # 0-based
    file_count: int
    resumed_from_bytes: int  # bytes that were already on disk when this pull started

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 1.0


class Meter:
    def __init__(self, total_bytes: int, file_count: int,
                 callback: Callable[[PullProgress], None] | None, resumed_from_bytes: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total_bytes = total_bytes
        self.file_count = file_count
        self.callback = callback
        self.resumed_from_bytes = resumed_from_bytes
        self.clock = clock
        self.done = 0
        self.file_done = 0
        self.filename = ""
        self.index = 0
        self.is_stalled = False
        self.samples: deque[tuple[float, int]] = deque()
        self.last_emit = float("-inf")

    def skip(self, filename: str, index: int, size: int) -> None:
        """A file already in the cache."""
        self.filename, self.index = filename, index
        self.done += size
        self._emit(force=True)

    def start_file(self, filename: str, index: int, on_disk: int) -> None:
        self.filename, self.index = filename, index
        self.file_done = on_disk
        self.done += on_disk
        self.samples.clear()
        self._emit(force=True)

    def restart_file(self, on_disk: int) -> None:
        self.done += on_disk - self.file_done
        self.file_done = on_disk
        self.samples.clear()

    def advance(self, n: int) -> None:
        self.done += n
        self.file_done += n
        if self.is_stalled:
            self.is_stalled = False
            self.samples.clear()
        self._emit()

    def stalled(self) -> None:
        self.is_stalled = True
        self.samples.clear()
        self._emit(force=True)

    def finish(self) -> None:
        self.is_stalled = False
        self._emit(force=True)

    def speed_bps(self) -> float:
        if self.is_stalled or len(self.samples) < 2:
            return 0.0
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    def _emit(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.last_emit < _EMIT_INTERVAL_S:
            return
        self.last_emit = now
        self.samples.append((now, self.done))
        while len(self.samples) > 2 and now - self.samples[0][0] > _WINDOW_S:
            self.samples.popleft()
        if self.callback is None:
            return
        speed = self.speed_bps()
        remaining = self.total_bytes - self.done
        eta = 0.0 if remaining <= 0 else (remaining / speed if speed > 0 else None)
        self.callback(PullProgress(
            filename=self.filename, done_bytes=self.done, total_bytes=self.total_bytes,
            speed_bps=speed, eta_s=eta, stalled=self.is_stalled, file_index=self.index,
            file_count=self.file_count, resumed_from_bytes=self.resumed_from_bytes,
        ))
