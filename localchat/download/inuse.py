"""Which running localchat processes have a model loaded, so ``localchat rm`` never pulls it away.

``register(path)`` writes ``cache_dir()/inuse/<key>-<pid>`` (key: a hash of the resolved path);
the file holds the pid and the path. ``holders(path)`` returns the live pids and removes the
markers of processes that died without releasing (a crash, SIGKILL).
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


def pid_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
    tmp.write_text(f"{pid}\n{Path(path).resolve()}\n")
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
        if pid_alive(pid):
            live.append(pid)
        else:
            marker.unlink(missing_ok=True)
    return live
