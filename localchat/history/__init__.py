"""Conversation history: SQLite, schema-versioned, crash-safe, searchable. No textual."""

from localchat.history.models import (
    Conversation,
    ConversationSettings,
    ConversationSummary,
    SearchHit,
    StoredMessage,
    title_from_first_message,
)
from localchat.history.store import ConversationStore

__all__ = [
    "Conversation",
    "ConversationSettings",
    "ConversationStore",
    "ConversationSummary",
    "SearchHit",
    "StoredMessage",
    "title_from_first_message",
]
