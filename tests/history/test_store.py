"""The conversation store: round trips, crash safety with a real SIGKILL, search, export."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from localchat import paths
from localchat.errors import NotFoundError
from localchat.history import ConversationSettings, ConversationStore, title_from_first_message
from localchat.history.migrations import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store():
    s = ConversationStore()
    yield s
    s.close()


def test_lives_in_the_data_dir_with_a_schema_version(store):
    assert store.path == paths.database_file() and store.path.exists()
    assert store.schema_version == SCHEMA_VERSION >= 1
    assert store.notice == ""


def test_round_trip(store):
    settings = ConversationSettings("Answer in French.", 0.3, 0.9, 256)
    conv = store.create("Trip", settings)
    user = store.add_message(conv.id, "user", "Hello")
    reply = store.begin_reply(conv.id, "smollm2 Q4_1")
    store.update_reply(reply.id, "Bon")
    store.finish_reply(reply.id, "Bonjour", "complete", {"gen_tps": 80.5})
    got = store.get(conv.id)
    assert got.settings == settings and got.title == "Trip"
    assert [(m.role, m.content, m.status) for m in got.messages] == [
        ("user", "Hello", "complete"), ("assistant", "Bonjour", "complete")]
    assert got.messages[1].stats == {"gen_tps": 80.5} and got.messages[0].id == user.id


def test_list_is_most_recent_first_with_preview(store):
    a = store.create("A")
    b = store.create("B")
    store.add_message(a.id, "user", "a question " * 20)
    titles = [c.title for c in store.list()]
    assert titles == ["A", "B"] and b.id in [c.id for c in store.list()]
    assert store.list()[0].message_count == 1 and store.list()[0].preview.endswith("…")


def test_rename_delete_settings_and_missing(store):
    conv = store.create()
    store.rename(conv.id, "Renamed")
    store.update_settings(conv.id, ConversationSettings("x", 1.0, 0.5, 10))
    assert store.get(conv.id).title == "Renamed"
    assert store.get(conv.id).settings.max_tokens == 10
    store.delete(conv.id)
    with pytest.raises(NotFoundError):
        store.get(conv.id)
    with pytest.raises(NotFoundError):
        store.rename(conv.id, "x")


def test_delete_messages_from(store):
    conv = store.create()
    first = store.add_message(conv.id, "user", "one")
    store.add_message(conv.id, "assistant", "reply one")
    second = store.add_message(conv.id, "user", "two")
    store.add_message(conv.id, "assistant", "reply two")
    store.delete_messages_from(second.id)
    assert [m.content for m in store.get(conv.id).messages] == ["one", "reply one"]
    assert first.content == "one"


def test_search_words_titles_and_odd_syntax(store):
    conv = store.create("Sailing notes")
    store.add_message(conv.id, "user", "How do lighthouses work?")
    reply = store.begin_reply(conv.id, "m")
    store.update_reply(reply.id, "A partial answer about fresnel")
    assert store.search("fresnel") == []  # still streaming: not indexed yet
    store.finish_reply(reply.id, "A fresnel lens focuses the light.", "stopped")
    hits = store.search("fresnel")
    assert [h.message_id for h in hits] == [reply.id] and "[fresnel]" in hits[0].snippet
    assert store.search("lightho")[0].message_id is not None  # prefix while typing
    assert store.search("sailing")[0].message_id is None  # the title matched
    for odd in ('"unclosed', "AND OR NOT", "title:x", "*", "NEAR(", ""):
        store.search(odd)  # never raises
    store.delete(conv.id)
    assert store.search("fresnel") == []


def test_export_markdown_and_json(store):
    conv = store.create("Export me")
    store.add_message(conv.id, "user", "What is 2+2?")
    reply = store.begin_reply(conv.id, "tiny")
    store.finish_reply(reply.id, "4, stopped early", "stopped")
    md = store.export_markdown(conv.id)
    assert md.startswith("# Export me") and "## You" in md and "What is 2+2?" in md
    assert "*(stopped)*" in md
    data = json.loads(store.export_json(conv.id))
    assert data["title"] == "Export me" and len(data["messages"]) == 2
    assert data["messages"][1]["status"] == "stopped"


def test_writes_from_another_thread(store):
    conv = store.create()
    errors = []

    def worker():
        try:
            reply = store.begin_reply(conv.id, "m")
            for i in range(50):
                store.update_reply(reply.id, "x" * i)
            store.finish_reply(reply.id, "done", "complete")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    for _ in range(50):
        store.list()
    t.join()
    assert not errors and store.get(conv.id).messages[-1].content == "done"


CRASH_SCRIPT = """
import sys
from localchat.history import ConversationStore
s = ConversationStore()
c = s.create("Crash test")
s.add_message(c.id, "user", "Tell me a story")
r = s.begin_reply(c.id, "m")
text = ""
for word in ["Once", " upon", " a", " time"]:
    text += word
    s.update_reply(r.id, text)
print("ready", flush=True)
sys.stdin.read()  # wait to be killed mid-reply
"""


def test_sigkill_mid_reply_keeps_user_message_and_partial_reply():
    proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=os.environ.copy())
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    store = ConversationStore()
    conv = store.get(store.list()[0].id)
    assert [(m.role, m.content, m.status) for m in conv.messages] == [
        ("user", "Tell me a story", "complete"), ("assistant", "Once upon a time", "partial")]
    assert "interrupted" in store.export_markdown(conv.id)


def test_corrupt_database_is_moved_aside_never_overwritten():
    path = paths.database_file()
    path.parent.mkdir(parents=True)
    garbage = b"this is not sqlite at all " * 100
    path.write_bytes(garbage)
    store = ConversationStore()
    assert "moved it to" in store.notice
    moved = list(path.parent.glob("conversations.sqlite3.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == garbage
    conv = store.create()
    store.add_message(conv.id, "user", "works again")
    assert store.get(conv.id).messages[0].content == "works again"


def test_old_empty_database_is_migrated():
    path = paths.database_file()
    path.parent.mkdir(parents=True)
    sqlite3.connect(path).close()  # version 0: an empty file from before any schema
    store = ConversationStore()
    assert store.schema_version == SCHEMA_VERSION and store.notice == ""


def test_newer_schema_is_refused_not_clobbered():
    from localchat.errors import StoreError

    path = paths.database_file()
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(StoreError, match="newer localchat"):
        ConversationStore()


def test_checkpoint_cost(store):
    """Not a timed assertion: prints what one durable checkpoint costs, for the docs."""
    conv = store.create()
    reply = store.begin_reply(conv.id, "m")
    t = time.perf_counter()
    for i in range(100):
        store.update_reply(reply.id, "word " * i)
    per_ms = (time.perf_counter() - t) * 10
    print(f"checkpoint: {per_ms:.2f} ms")
    assert store.get(conv.id).messages[-1].content == "word " * 99


@pytest.mark.parametrize(("text", "title"), [
    ("How do lighthouses work?", "How do lighthouses work?"),
    ("\n\n  first line\nsecond", "first line"),
    ("word " * 30, "word word word word word word word word word…"),
    ("   ", "New chat"),
])
def test_title_from_first_message(text, title):
    assert title_from_first_message(text) == title


def test_a_version_1_database_gains_the_sampling_columns_with_their_defaults(tmp_path):
    """Schema 2 adds top-k, min-p, repeat penalty, seed and the thinking switch: a chat saved
    before keeps its settings and samples as it did (the engine's old fixed values)."""
    from localchat.history.migrations import MIGRATIONS, _statements

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO conversations(title, created_at, updated_at, system_prompt, "
               "temperature, top_p, max_tokens) VALUES ('Old', 1, 1, 'Be brief.', 0.2, 0.8, 64)")
    db.commit()
    db.close()
    store = ConversationStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION == 3
        settings = store.get(store.list()[0].id).settings
        # schema 3: the values that differ from the defaults of the time were the user's choice
        assert settings == ConversationSettings("Be brief.", 0.2, 0.8, 64, top_k=40, min_p=0.05,
                                                repeat_penalty=1.0, seed=None, thinking=None,
                                                user_set=frozenset({"temperature", "top_p"}))
        store.update_settings(1, ConversationSettings(top_k=0, seed=7, thinking=True))
        assert store.get(1).settings == ConversationSettings(top_k=0, seed=7, thinking=True)
    finally:
        store.close()


def test_a_version_2_chat_keeps_its_changed_values_as_its_own_and_its_preset_is_kept(tmp_path):
    """Schema 3 adds the preset and the sampling settings the user chose: a chat saved before
    keeps every value that differs from localchat's defaults as its own (the model's recommended
    sampling fills in only the others); a preset and chosen settings are saved and read back."""
    from localchat.history.migrations import MIGRATIONS, _statements

    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO conversations(title, created_at, updated_at, system_prompt, "
               "temperature, top_p, max_tokens, top_k, min_p, repeat_penalty) "
               "VALUES ('Tuned', 1, 1, 'Hi.', 0.7, 0.95, 64, 0, 0.05, 1.1)")
    db.execute("INSERT INTO conversations(title, created_at, updated_at, system_prompt, "
               "temperature, top_p, max_tokens) VALUES ('Plain', 1, 1, 'Hi.', 0.7, 0.95, 64)")
    db.commit()
    db.close()
    store = ConversationStore(path)
    try:
        assert store.get(1).settings.user_set == {"top_k", "repeat_penalty"}
        assert store.get(2).settings.user_set == frozenset() and store.get(2).settings.preset == ""
        chosen = ConversationSettings("Explain step by step.", preset="Tutor",
                                      user_set=frozenset({"min_p"}), min_p=0.1)
        store.update_settings(2, chosen)
        assert store.get(2).settings == chosen
        created = store.create("New", chosen)
        assert store.get(created.id).settings == chosen
    finally:
        store.close()
