"""Conversations in SQLite: written before they are shown, kept through crashes.

Durability: the database runs in WAL mode. Every write is its own committed transaction, so a
``kill -9`` loses nothing that was written. ``synchronous=FULL`` makes each commit fsync the
WAL, so a power cut loses nothing either; the chat checkpoints a streaming reply a few times a
second, which keeps the fsync cost well under 1% of generation time (measured in
tests/history/test_store.py::test_checkpoint_cost).

Full-text search: FTS5 indexes finished messages and titles. A reply still streaming (status
"partial") is indexed when it ends, so checkpoints don't rewrite the index many times a second.
A reply cut off by a crash keeps its text and its "partial" status.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localchat import paths
from localchat.errors import NotFoundError, StoreError
from localchat.history import opening
from localchat.history.migrations import SCHEMA_VERSION
from localchat.history.models import (
    Conversation,
    ConversationSettings,
    ConversationSummary,
    SearchHit,
    StoredMessage,
)

ROLES = ("system", "user", "assistant")
STATUSES = ("complete", "partial", "stopped", "cut")  # cut: at max tokens or a full context


class ConversationStore:
    """Thread-safe: the chat writes from its generation worker and reads from the UI thread.

    Opening tells a locked, a read-only and a corrupt database apart (history/opening.py); a
    read or write that fails later raises ``StoreError`` saying which it is and what to do."""

    def __init__(self, path: Path | None = None, *, timeout_s: float = 10.0) -> None:
        self.path = path or paths.database_file()
        self.timeout_s = timeout_s
        self._lock = threading.RLock()
        self._db, self.notice, self.read_only = opening.open_database(self.path, timeout_s)
        opening.opened(self.path)
        self._closed = False

    @property
    def schema_version(self) -> int:
        row = self._read_one("PRAGMA user_version")
        return int(row[0]) if row is not None else 0

    def _error(self, exc: sqlite3.Error, doing: str) -> StoreError:
        return opening.store_error(exc, self.path, self.timeout_s, doing)

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, params)
            except sqlite3.DatabaseError as exc:  # locked, read-only, full, damaged
                raise self._error(exc, "write") from exc

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._error(exc, "read") from exc

    def _read_one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self._read(sql, params)
        return rows[0] if rows else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all of them are stored, or none (e.g. an edited message
        replacing what followed it)."""
        with self._lock:
            if self._db.in_transaction:  # nested: the outer one commits
                yield
                return
            self._write("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise self._error(exc, "write") from exc

    def exists(self, conversation_id: int) -> bool:
        return self._read_one("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)) is not None

    def _touch(self, conversation_id: int) -> None:
        self._write("UPDATE conversations SET updated_at = ? WHERE id = ?",
                    (time.time(), conversation_id))

    # ------------------------------------------------------------------ conversations
    def create(self, title: str = "New chat",
               settings: ConversationSettings | None = None) -> Conversation:
        s = settings or ConversationSettings()
        now = time.time()
        cur = self._write(
            "INSERT INTO conversations(title, created_at, updated_at, system_prompt, temperature,"
            " top_p, max_tokens, top_k, min_p, repeat_penalty, seed, thinking, preset, user_set)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (title, now, now, s.system_prompt, s.temperature, s.top_p, s.max_tokens, s.top_k,
             s.min_p, s.repeat_penalty, s.seed, s.thinking, s.preset, _names(s.user_set)),
        )
        return self.get(int(cur.lastrowid or 0))

    def list(self, limit: int = 200) -> list[ConversationSummary]:
        rows = self._read(
            "SELECT c.id, c.title, c.updated_at, COUNT(m.id) AS n, "
            " (SELECT content FROM messages WHERE conversation_id = c.id AND role = 'user'"
            "  ORDER BY id LIMIT 1) AS first "
            "FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id "
            "GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", (limit,),
        )
        return [ConversationSummary(r["id"], r["title"], r["updated_at"], r["n"],
                                    _preview(r["first"] or "")) for r in rows]

    def get(self, conversation_id: int) -> Conversation:
        with self._lock:
            row = self._read_one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} does not exist")
            messages = self._read("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id",
                                  (conversation_id,))
        thinking = row["thinking"]
        settings = ConversationSettings(row["system_prompt"], row["temperature"], row["top_p"],
                                        row["max_tokens"], row["top_k"], row["min_p"],
                                        row["repeat_penalty"], row["seed"],
                                        None if thinking is None else bool(thinking),
                                        row["preset"], frozenset(row["user_set"].split()))
        return Conversation(row["id"], row["title"], row["created_at"], row["updated_at"],
                            settings, tuple(_message(m) for m in messages))

    def rename(self, conversation_id: int, title: str) -> None:
        self._require(conversation_id)
        self._write("UPDATE conversations SET title = ? WHERE id = ?", (title.strip() or "Untitled",
                                                                       conversation_id))

    def delete(self, conversation_id: int) -> None:
        self._require(conversation_id)
        self._write("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def update_settings(self, conversation_id: int, settings: ConversationSettings) -> None:
        self._require(conversation_id)
        self._write(
            "UPDATE conversations SET system_prompt = ?, temperature = ?, top_p = ?, max_tokens = ?,"
            " top_k = ?, min_p = ?, repeat_penalty = ?, seed = ?, thinking = ?, preset = ?,"
            " user_set = ? WHERE id = ?",
            (settings.system_prompt, settings.temperature, settings.top_p, settings.max_tokens,
             settings.top_k, settings.min_p, settings.repeat_penalty, settings.seed,
             settings.thinking, settings.preset, _names(settings.user_set), conversation_id),
        )

    def _require(self, conversation_id: int) -> None:
        if not self.exists(conversation_id):
            raise NotFoundError(f"conversation {conversation_id} does not exist")

    # ------------------------------------------------------------------ messages
    def add_message(self, conversation_id: int, role: str, content: str, *, model: str = "",
                    status: str = "complete") -> StoredMessage:
        if role not in ROLES or status not in STATUSES:
            raise ValueError(f"bad role {role!r} or status {status!r}")
        self._require(conversation_id)
        cur = self._write(
            "INSERT INTO messages(conversation_id, role, content, status, model, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (conversation_id, role, content, status, model, time.time()),
        )
        self._touch(conversation_id)
        return self._get_message(int(cur.lastrowid or 0))

    def begin_reply(self, conversation_id: int, model: str) -> StoredMessage:
        return self.add_message(conversation_id, "assistant", "", model=model, status="partial")

    def update_reply(self, message_id: int, content: str) -> None:
        """Checkpoint a streaming reply (one small committed UPDATE)."""
        self._write("UPDATE messages SET content = ? WHERE id = ? AND status = 'partial'",
                    (content, message_id))

    def finish_reply(self, message_id: int, content: str, status: str,
                     stats: dict[str, Any] | None = None) -> None:
        if status not in ("complete", "stopped", "cut"):
            raise ValueError(f"a reply finishes as complete, stopped or cut, not {status!r}")
        self._write("UPDATE messages SET content = ?, status = ?, stats = ? WHERE id = ?",
                    (content, status, json.dumps(stats) if stats else None, message_id))
        self._touch(self._get_message(message_id).conversation_id)

    def reopen_reply(self, message_id: int) -> StoredMessage:
        """A finished reply streams again (Continue extends it in place): "partial" until
        ``finish_reply``, so checkpoints reach it and a crash keeps what it had."""
        self._write("UPDATE messages SET status = 'partial' WHERE id = ? AND role = 'assistant'",
                    (message_id,))
        return self._get_message(message_id)

    def delete_messages_from(self, message_id: int) -> None:
        """Drop this message and every later one in its conversation (regenerate, edit)."""
        msg = self._get_message(message_id)
        self._write("DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
                    (msg.conversation_id, message_id))
        self._touch(msg.conversation_id)

    def _get_message(self, message_id: int) -> StoredMessage:
        row = self._read_one("SELECT * FROM messages WHERE id = ?", (message_id,))
        if row is None:
            raise NotFoundError(f"message {message_id} does not exist")
        return _message(row)

    # ------------------------------------------------------------------ search and export
    def search(self, query: str, limit: int = 50) -> builtins.list[SearchHit]:
        """Words anywhere in titles or messages; FTS syntax in the query is taken literally."""
        match = _literal_fts_query(query)
        if not match:
            return []
        rows = self._read(
            "SELECT m.conversation_id AS cid, m.id AS mid, c.title AS title, "
            " snippet(messages_fts, 0, '[', ']', '…', 12) AS snip, bm25(messages_fts) AS rank "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ? "
            "UNION ALL "
            "SELECT c.id, NULL, c.title, snippet(titles_fts, 0, '[', ']', '…', 12), "
            " bm25(titles_fts) - 100 "
            "FROM titles_fts JOIN conversations c ON c.id = titles_fts.rowid "
            "WHERE titles_fts MATCH ? ORDER BY rank LIMIT ?", (match, match, limit),
        )
        return [SearchHit(r["cid"], r["mid"], r["title"], r["snip"]) for r in rows]

    def export_markdown(self, conversation_id: int) -> str:
        from localchat.history.export import to_markdown

        return to_markdown(self.get(conversation_id))

    def export_json(self, conversation_id: int) -> str:
        from localchat.history.export import to_json

        return to_json(self.get(conversation_id))

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
                opening.closed(self.path)


def _names(keys: frozenset[str]) -> str:
    return " ".join(sorted(keys))


def _message(row: sqlite3.Row) -> StoredMessage:
    stats = json.loads(row["stats"]) if row["stats"] else None
    return StoredMessage(row["id"], row["conversation_id"], row["role"], row["content"],
                         row["status"], row["model"], row["created_at"], stats)


def _preview(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _literal_fts_query(query: str) -> str:
    """Each word quoted (so AND, OR, NEAR, quotes and colons are plain text), the last one a
    prefix match so results appear while typing."""
    words = [w.replace('"', '""') for w in query.split()]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


__all__ = ["SCHEMA_VERSION", "ConversationStore"]
