"""Opening the store tells locked, read-only and corrupt apart: only a database that fails its
integrity check is moved aside, and never while another process has it open."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localchat import paths
from localchat.errors import StoreError
from localchat.history import ConversationStore
from tests.readonly import read_only_folder

ROOT = Path(__file__).resolve().parents[2]

FIRST_START = """
import sys, time
from localchat.history import ConversationStore
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # both start together
s = ConversationStore()
s.create("from pid")
print(repr(s.notice), flush=True)
s.close()
"""

HOLD_EXCLUSIVE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
db.execute("UPDATE conversations SET title = title")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes stdin
db.execute("COMMIT")
"""

HOLD_OPEN = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("SELECT * FROM sqlite_master").fetchall()
print("open", flush=True)
sys.stdin.read()
"""


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=os.environ.copy())


def _moved_aside() -> list[Path]:
    return sorted(paths.data_dir().glob("*.corrupt-*"))


def _with_conversations(n: int) -> Path:
    store = ConversationStore()
    for i in range(n):
        store.create(f"chat {i}")
    store.close()
    return paths.database_file()


@pytest.mark.parametrize("attempt", range(8))
def test_two_first_starts_at_once_keep_one_healthy_database(attempt):
    start_at = f"{time.time() + 1.0:.3f}"
    procs = [_python(FIRST_START, start_at) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["''", "''"]  # no "moved it to" notice
    assert _moved_aside() == []
    store = ConversationStore()
    assert [c.title for c in store.list()] == ["from pid", "from pid"]


def test_a_database_locked_past_the_timeout_is_refused_not_moved():
    path = _with_conversations(30)
    holder = _python(HOLD_EXCLUSIVE, str(path))
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked by another program") as raised:
            ConversationStore(timeout_s=1.0)
        assert time.monotonic() - started < 10
        assert "\n" not in str(raised.value)
        assert _moved_aside() == []
    finally:
        holder.communicate("", timeout=30)
    store = ConversationStore()  # once the lock is gone, every chat is there
    assert len(store.list()) == 30 and store.notice == ""


def test_a_read_only_data_folder_opens_read_only():
    _with_conversations(3)
    with read_only_folder(paths.data_dir()):
        store = ConversationStore()
        assert "read-only" in store.notice and "\n" not in store.notice
        assert len(store.list()) == 3
        with pytest.raises(StoreError, match="read-only"):
            store.create("not saved")
        store.close()
        assert _moved_aside() == []
    assert len(ConversationStore().list()) == 3


def test_a_read_only_data_folder_without_a_database_is_a_one_line_error():
    paths.data_dir().mkdir(parents=True)
    with read_only_folder(paths.data_dir()), pytest.raises(StoreError) as raised:
        ConversationStore()
    message = str(raised.value)
    assert "\n" not in message and str(paths.data_dir()) in message and "LOCALCHAT_HOME" in message


def _corrupt_pages(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE filler(x)")
    db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(200)])
    db.commit()
    db.close()
    with open(path, "r+b") as fh:  # keep the header (page 1), scramble the pages after it
        fh.seek(4096 * 3)
        fh.write(os.urandom(4096 * 4))


def test_a_corrupt_database_another_process_has_open_is_not_moved():
    path = paths.database_file()
    path.parent.mkdir(parents=True)
    _corrupt_pages(path)
    holder = _python(HOLD_OPEN, str(path))
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    before = path.read_bytes()
    try:
        with pytest.raises(StoreError, match="another program has it open"):
            ConversationStore()
        assert _moved_aside() == [] and path.read_bytes() == before
    finally:
        holder.communicate("", timeout=30)
    store = ConversationStore()  # nobody has it open now: moved aside, a new one started
    assert "moved it to" in store.notice
    [moved] = _moved_aside()
    assert moved.read_bytes() == before
