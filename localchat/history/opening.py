"""Opening the conversation database: one path that tells locked, read-only and corrupt apart.

- *Locked*: another program holds a lock for longer than the timeout. Refused with a message;
  the file is never touched. SQLite's ``OperationalError`` ("database is locked", "table already
  exists" in a migration race) is never taken for corruption.
- *Read-only*: a read-only folder, file or mount. The chats open read-only with a notice, and a
  write says why it cannot be saved; with no database there yet it is a one-line error.
- *Corrupt*: "file is not a database", "database disk image is malformed" or a failed
  ``PRAGMA quick_check``. Only this moves the file aside (a new one is started), and only when no
  other process has it open: SQLite holds POSIX locks on the database file and on the ``-shm``
  file for as long as a WAL connection is open, so an exclusive lock taken without waiting proves
  nobody else has it; the rename happens while that lock is held.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from localchat.errors import StoreError
from localchat.history.migrations import migrate

try:
    import fcntl
except ImportError:  # Windows: renaming a file another process has open fails there anyway
    fcntl = None  # type: ignore[assignment]

_LOCKED = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_READ_ONLY = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM,
              sqlite3.SQLITE_AUTH}
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

# databases this process has open (POSIX locks are per process: our own test lock would succeed,
# and closing it would drop SQLite's locks, so a database open here is never moved)
_OPEN_HERE: dict[Path, int] = {}


class CorruptDatabase(Exception):
    """The file is not a database, or fails SQLite's integrity check."""


def kind_of(exc: sqlite3.Error) -> str:
    """"locked", "read-only", "corrupt", "full" or "other", from SQLite's own error code."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _LOCKED:
        return "locked"
    if primary in _READ_ONLY:
        return "read-only"
    if primary in _CORRUPT:
        return "corrupt"
    if primary == sqlite3.SQLITE_FULL:
        return "full"
    return "other"


def store_error(exc: sqlite3.Error, path: Path, timeout_s: float, doing: str = "write") -> StoreError:
    """One message per kind of failure: what happened and what to do, in one line."""
    kind = kind_of(exc)
    if kind == "locked":
        return StoreError(
            f"the conversation database {path} is locked by another program (waited {timeout_s:g} s)",
            "close the program holding it, or wait for it, and try again")
    if kind == "read-only":
        return StoreError(f"the conversation database {path} is read-only ({exc})",
                          f"make {path.parent} writable, or set LOCALCHAT_HOME to a writable folder")
    if kind == "full":
        return StoreError(f"cannot write the conversation database {path}: the disk is full",
                          "free some space and try again")
    return StoreError(f"cannot {doing} the conversation database {path}: {exc}",
                      "check the disk and the file's permissions")


def _connect(path: Path, timeout_s: float, query: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?{query}", uri=True, check_same_thread=False,
                         isolation_level=None, timeout=timeout_s)
    db.row_factory = sqlite3.Row
    return db


def _check(db: sqlite3.Connection) -> None:
    try:
        result = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if kind_of(exc) == "corrupt":
            raise CorruptDatabase(str(exc)) from exc
        raise
    if result != "ok":
        raise CorruptDatabase(f"integrity check failed: {result}")


def _open_writable(path: Path, timeout_s: float) -> sqlite3.Connection:
    db = _connect(path, timeout_s, "mode=rwc")
    try:
        try:
            _use_wal(db, timeout_s)
        except sqlite3.DatabaseError as exc:
            if kind_of(exc) == "corrupt":  # "file is not a database"
                raise CorruptDatabase(str(exc)) from exc
            raise
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        _check(db)
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def _use_wal(db: sqlite3.Connection, timeout_s: float) -> None:
    """Switch to WAL. Changing the journal mode returns "database is locked" at once, without
    SQLite's busy wait, while another connection has the file open (two first starts at once),
    so it is retried here for as long as the busy wait would have waited."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if kind_of(exc) != "locked" or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _open_read_only(path: Path, timeout_s: float) -> sqlite3.Connection:
    from localchat.history.migrations import SCHEMA_VERSION

    hint = f"make {path.parent} writable, or set LOCALCHAT_HOME to a writable folder"
    if not path.exists():
        raise StoreError(f"cannot create the conversation database in {path.parent}: "
                         "the folder is read-only", hint)
    failure: sqlite3.Error | None = None
    # a WAL database needs its -shm file; "immutable" reads it without one in a read-only folder
    for query in ("mode=ro", "mode=ro&immutable=1"):
        db = _connect(path, timeout_s, query)
        try:
            _check(db)
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        except CorruptDatabase as exc:
            db.close()
            raise StoreError(f"the conversation database {path} is damaged ({exc}) and read-only, "
                             "so it cannot be moved aside", hint) from None
        except sqlite3.Error as exc:
            db.close()
            failure = exc
            continue
        if version != SCHEMA_VERSION:
            db.close()
            raise StoreError(f"the conversation database {path} is read-only and needs an upgrade "
                             f"(schema {version}, this localchat uses {SCHEMA_VERSION})", hint)
        return db
    assert failure is not None
    raise store_error(failure, path, timeout_s, doing="open") from failure


def _writable(path: Path) -> bool:
    target = path if path.exists() else path.parent
    return os.access(target, os.W_OK) and os.access(path.parent, os.W_OK)


def open_database(path: Path, timeout_s: float) -> tuple[sqlite3.Connection, str, bool]:
    """The open connection, a notice for the user ("" when all is well), and whether it is
    read-only. Raises ``StoreError`` (one line) when the chats cannot be opened at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data folder {path.parent}: {exc.strerror}",
                         "set LOCALCHAT_HOME to a writable folder") from None
    read_only_notice = (f"the conversation database {path} is read-only: your chats are shown but "
                        f"nothing new is saved (make {path.parent} writable to save again)")
    if not _writable(path):
        return _open_read_only(path, timeout_s), read_only_notice, True
    try:
        return _open_writable(path, timeout_s), "", False
    except CorruptDatabase as exc:
        moved = move_aside(path, str(exc))
        notice = (f"the conversation database was unreadable ({exc}); moved it to {moved} and "
                  "started a new one")
        try:
            return _open_writable(path, timeout_s), notice, False
        except sqlite3.Error as again:
            raise store_error(again, path, timeout_s, doing="create") from again
    except sqlite3.Error as exc:
        if kind_of(exc) == "read-only":
            return _open_read_only(path, timeout_s), read_only_notice, True
        raise store_error(exc, path, timeout_s, doing="open") from exc


def move_aside(path: Path, reason: str) -> Path:
    """Rename a corrupt database (and its -wal/-shm) to ``<name>.corrupt-<time>``, only while an
    exclusive lock shows no other process has it open; otherwise refuse."""
    refused = StoreError(
        f"the conversation database {path} looks damaged ({reason}), but another program has it "
        "open, so it was left in place",
        "close other localchat windows and start again")
    if _OPEN_HERE.get(path.resolve()):
        raise refused
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    with _nobody_else_has(path) as alone:
        if not alone:
            raise refused
        try:
            path.replace(target)
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    side.replace(target.with_name(target.name + suffix))
        except OSError as exc:
            raise StoreError(f"the conversation database {path} looks damaged ({reason}) and "
                             f"cannot be moved aside: {exc.strerror}",
                             f"move it away yourself, or make {path.parent} writable") from None
    return target


@contextlib.contextmanager
def _nobody_else_has(path: Path) -> Iterator[bool]:
    """Holds exclusive POSIX locks on the database and its -shm file for the duration; yields
    False when another process holds any lock on either (SQLite's connections always do)."""
    if fcntl is None:
        yield True
        return
    fds: list[int] = []
    try:
        for name in (path, path.with_name(path.name + "-shm")):
            try:
                fd = os.open(name, os.O_RDWR)
            except FileNotFoundError:
                continue
            except OSError:
                yield False  # cannot even look: not sure, so not alone
                return
            fds.append(fd)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
        yield True
    finally:
        for fd in fds:
            os.close(fd)


def opened(path: Path) -> None:
    key = path.resolve()
    _OPEN_HERE[key] = _OPEN_HERE.get(key, 0) + 1


def closed(path: Path) -> None:
    key = path.resolve()
    left = _OPEN_HERE.get(key, 0) - 1
    if left > 0:
        _OPEN_HERE[key] = left
    else:
        _OPEN_HERE.pop(key, None)
