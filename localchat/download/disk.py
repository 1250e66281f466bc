"""The disk side of downloads: free space checked before a pull, and the lock on a partial file.

A running pull holds an exclusive advisory lock (``flock``) on its partial file: a second pull
of the same file refuses instead of interleaving bytes, and ``localchat rm`` only deletes
partial files nobody holds. The lock goes away with the process, however it ends (SIGKILL too).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

from localchat.errors import DownloadError
from localchat.units import fmt_bytes

# room left for the OS, logs and the HF cache's small files; a pull that would leave less is refused
DISK_MARGIN_BYTES = 64 << 20


def free_bytes(path: Path) -> int:
    """Free space on the filesystem holding ``path`` (its nearest existing ancestor)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def require_free_space(folder: Path, needed: int, what: str) -> None:
    """Refuse before downloading when ``needed`` bytes (plus a margin) do not fit on the disk."""
    if needed <= 0:
        return
    free = free_bytes(folder)
    if needed + DISK_MARGIN_BYTES > free:
        raise DownloadError(
            f"not enough disk space for {what}: {fmt_bytes(needed)} to download and "
            f"{fmt_bytes(DISK_MARGIN_BYTES)} kept free, {fmt_bytes(free)} free on the disk that "
            f"holds {folder}",
            "free some space (`localchat models`, `localchat rm NAME`) or point HF_HOME at a bigger disk",
        )


def try_lock(fh: BinaryIO) -> bool:
    """Take the exclusive lock on an open file without waiting; False if another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; two pulls of one file are the user's call
        return True
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
