"""Schema versions, applied in order; ``PRAGMA user_version`` records the one in force."""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    system_prompt TEXT NOT NULL,
    temperature REAL NOT NULL,
    top_p REAL NOT NULL,
    max_tokens INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    stats TEXT
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

-- full-text search over finished messages (external content: no second copy of the text)
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id');
CREATE TRIGGER messages_ai AFTER INSERT ON messages WHEN new.status != 'partial' BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages WHEN old.status != 'partial' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au_old AFTER UPDATE ON messages WHEN old.status != 'partial' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au_new AFTER UPDATE ON messages WHEN new.status != 'partial' BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE VIRTUAL TABLE titles_fts USING fts5(title, content='conversations', content_rowid='id');
CREATE TRIGGER titles_ai AFTER INSERT ON conversations BEGIN
    INSERT INTO titles_fts(rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER titles_ad AFTER DELETE ON conversations BEGIN
    INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER titles_au AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
    INSERT INTO titles_fts(rowid, title) VALUES (new.id, new.title);
END;
"""

# the sampling a chat keeps beyond temperature and top-p (issue 17); NULL seed: random, NULL
# thinking: the model's default (1 on, 0 off)
V2 = """
ALTER TABLE conversations ADD COLUMN top_k INTEGER NOT NULL DEFAULT 40;
ALTER TABLE conversations ADD COLUMN min_p REAL NOT NULL DEFAULT 0.05;
ALTER TABLE conversations ADD COLUMN repeat_penalty REAL NOT NULL DEFAULT 1.0;
ALTER TABLE conversations ADD COLUMN seed INTEGER;
ALTER TABLE conversations ADD COLUMN thinking INTEGER;
"""

# a chat's preset, and the sampling settings the user chose (space-separated names; the loaded
# model's recommended sampling fills in the rest). A chat from before keeps as its own choice
# every value that differs from localchat's defaults of the time (a value changed in F3 or the
# config); the others follow the model's recommendation from now on.
V3 = """
ALTER TABLE conversations ADD COLUMN preset TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN user_set TEXT NOT NULL DEFAULT '';
UPDATE conversations SET user_set = trim(
    (CASE WHEN temperature != 0.7 THEN 'temperature ' ELSE '' END) ||
    (CASE WHEN top_p != 0.95 THEN 'top_p ' ELSE '' END) ||
    (CASE WHEN top_k != 40 THEN 'top_k ' ELSE '' END) ||
    (CASE WHEN min_p != 0.05 THEN 'min_p ' ELSE '' END) ||
    (CASE WHEN repeat_penalty != 1.0 THEN 'repeat_penalty' ELSE '' END));
"""

MIGRATIONS: list[str] = [V1, V2, V3]  # MIGRATIONS[i] takes the schema from version i to i + 1
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to ``SCHEMA_VERSION``. Two first starts at once must not race: the
    version is read again inside a ``BEGIN IMMEDIATE`` transaction (one writer at a time), so
    the second one finds the work done instead of "table conversations already exists"."""
    if _version(db) == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _version(db)
        for index in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[index]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {index + 1}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _version(db: sqlite3.Connection) -> int:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        from localchat.errors import StoreError

        raise StoreError(
            f"the conversation database is from a newer localchat (schema {version}, this one "
            f"knows {SCHEMA_VERSION})", "upgrade localchat",
        )
    return version


def _statements(script: str) -> list[str]:
    """The script's statements one by one (executescript would commit the open transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements
