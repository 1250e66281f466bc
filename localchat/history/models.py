"""Conversation data as the rest of localchat sees it (frozen, no SQLite types)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localchat.config import DEFAULT_SYSTEM_PROMPT, ChatDefaults
from localchat.recommend.sampling import SAMPLING_KEYS


@dataclass(frozen=True)
class ConversationSettings:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024
    top_k: int = 40  # 0: no limit
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int | None = None  # None: a new random seed for every reply
    thinking: bool | None = None  # the template's thinking switch; None: the model's default
    preset: str = ""  # the preset the system prompt came from ("": typed, or none)
    # the sampling settings the user chose (in the config or in F3): the loaded model's
    # recommended sampling fills in the others (recommend/sampling.py)
    user_set: frozenset[str] = frozenset()

    @classmethod
    def from_defaults(cls, defaults: ChatDefaults) -> ConversationSettings:
        return cls(defaults.system_prompt, defaults.temperature, defaults.top_p,
                   defaults.max_tokens, defaults.top_k, defaults.min_p, defaults.repeat_penalty,
                   None if defaults.seed < 0 else defaults.seed,
                   {"on": True, "off": False}.get(defaults.thinking), defaults.preset,
                   defaults.chosen & frozenset(SAMPLING_KEYS))

    def as_defaults(self) -> ChatDefaults:
        """The config's [chat] defaults that make new chats start with these settings."""
        thinking = "default" if self.thinking is None else "on" if self.thinking else "off"
        return ChatDefaults(self.system_prompt, self.temperature, self.top_p, self.max_tokens,
                            self.top_k, self.min_p, self.repeat_penalty,
                            -1 if self.seed is None else self.seed, thinking, self.preset,
                            self.user_set)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str  # "system" | "user" | "assistant"
    content: str
    # "complete" | "partial" (streaming, or cut off by a crash) | "stopped" | "cut" (stopped at
    # max tokens or a full context: Continue extends it)
    status: str
    model: str
    created_at: float
    stats: dict[str, Any] | None


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created_at: float
    updated_at: float
    settings: ConversationSettings
    messages: tuple[StoredMessage, ...]


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    updated_at: float
    message_count: int
    preview: str


@dataclass(frozen=True)
class SearchHit:
    conversation_id: int
    message_id: int | None  # None: the title matched
    title: str
    snippet: str


def title_from_first_message(text: str, width: int = 48) -> str:
    """A short automatic title: the first line of the first message, cut at a word."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if not line:
        return "New chat"
    if len(line) <= width:
        return line
    cut = line[:width].rsplit(" ", 1)[0] or line[:width]
    return cut.rstrip(",.;:") + "…"
