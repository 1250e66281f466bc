"""Which running localchat processes have a model loaded, so ``localchat rm`` never pulls it away.

``register(path)`` writes ``cache_dir()/inuse/<key>-<pid>`` (key: a hash of the resolved path);
the file holds the pid, the path and the process's start time. ``holders(path)`` returns the
live pids and removes the markers of processes that died without releasing (a crash, SIGKILL),
including when the system has since given their pid to another process.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import TracebackType

from localchat import paths


def _folder() -> Path:
    return paths.cache_dir() / "inuse"


def _key(path: str | Path) -> str:
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:16]


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (None if there is no such live process)."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _holds(marker: Path, pid: int) -> bool:
    """The process that wrote ``marker`` is still running (not a later one that reuses its pid)."""
    started = _started_at(pid)
    if started is None:
        return False
    try:
        recorded = float(marker.read_text().splitlines()[2])
    except (OSError, IndexError, ValueError):
        return True  # no start time recorded: trust the pid
    return abs(started - recorded) < 1.0


class InUse:
    """A registration; ``release()`` (or leaving the ``with`` block) removes it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def release(self) -> None:
        self.marker.unlink(missing_ok=True)

    def __enter__(self) -> InUse:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def register(path: str | Path, pid: int | None = None) -> InUse:
    pid = os.getpid() if pid is None else pid
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{_key(path)}-{pid}"
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(f"{pid}\n{Path(path).resolve()}\n{_started_at(pid) or 0.0}\n")
    os.replace(tmp, marker)
    return InUse(marker)


def holders(path: str | Path) -> list[int]:
    """Pids of live processes that registered ``path``; stale markers are deleted."""
    live = []
    try:
        markers = sorted(_folder().glob(f"{_key(path)}-*"))
    except OSError:
        return []
    for marker in markers:
        try:
            pid = int(marker.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if _holds(marker, pid):
            live.append(pid)
        else:
            marker.unlink(missing_ok=True)
    return live
