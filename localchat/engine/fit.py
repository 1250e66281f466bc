"""The context policy: which turns of a conversation are sent, visibly.

When the conversation plus room for the reply no longer fits the context window, the oldest
turns go first, a whole exchange at a time, and the system prompt always stays. The caller
reports how many messages were left out; nothing is truncated silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from localchat.engine.types import Message
from localchat.errors import ContextOverflowError

T = TypeVar("T")


@dataclass(frozen=True)
class FittedPrompt:
    messages: tuple[Message, ...]
    tokens: list[int]
    dropped_messages: int


def reply_reserve(n_ctx: int, max_tokens: int | None) -> int:
    """Tokens kept free for the reply: max_tokens, capped at half the window (so a long
    max_tokens never evicts the whole history); a quarter of the window when unlimited."""
    if max_tokens is None or max_tokens <= 0:
        return max(1, n_ctx // 4)
    return max(1, min(max_tokens, n_ctx // 2))


def fit_messages(
    messages: Sequence[Message],
    tokenize: Callable[[Sequence[Message]], list[int]],
    n_ctx: int,
    max_tokens: int | None,
) -> FittedPrompt:
    """Drop the oldest non-system turns until prompt + reply reserve fits ``n_ctx``."""
    kept, tokens, dropped = _fit(messages, tokenize, len, n_ctx, max_tokens)
    return FittedPrompt(kept, tokens, dropped)


def fit_counted(
    messages: Sequence[Message],
    count_tokens: Callable[[Sequence[Message]], int],
    n_ctx: int,
    max_tokens: int | None,
) -> tuple[tuple[Message, ...], int, int]:
    """``fit_messages`` with a count instead of the tokens (a server counts them): the messages
    kept, the tokens they take, and how many were left out."""
    return _fit(messages, count_tokens, int, n_ctx, max_tokens)


def tokens_in_context(
    messages: Sequence[Message],
    count_tokens: Callable[[Sequence[Message]], int],
    n_ctx: int,
    max_tokens: int | None,
) -> int:
    """Tokens the conversation takes in the context once the turns that do not fit are left
    out: what the next reply's prompt will hold, never more than ``n_ctx`` (the context meter)."""
    return _fit(messages, count_tokens, int, n_ctx, max_tokens)[1]


def _fit(
    messages: Sequence[Message],
    measure: Callable[[Sequence[Message]], T],
    size: Callable[[T], int],
    n_ctx: int,
    max_tokens: int | None,
) -> tuple[tuple[Message, ...], T, int]:
    budget = n_ctx - reply_reserve(n_ctx, max_tokens)
    system = [m for m in messages[:1] if m.role == "system"]
    rest = list(messages[len(system):])
    dropped = 0
    while True:
        kept = tuple(system + rest)
        measured = measure(kept)
        n_tokens = size(measured)
        if n_tokens <= budget:
            return kept, measured, dropped
        continuing = rest[-1].role == "assistant"  # a reply being continued stays with its question
        if len(rest) <= (2 if continuing else 1):
            raise ContextOverflowError(
                f"the message takes {n_tokens} tokens with the system prompt, but the "
                f"context holds {n_ctx} with {n_ctx - budget} kept for the reply",
                "shorten the message, lower max tokens, or load the model with a larger context",
            )
        # drop the oldest turn: the first message, and any assistant replies that follow it,
        # so the history still starts with a user message (chat templates expect that)
        rest.pop(0)
        dropped += 1
        while len(rest) > 1 and rest[0].role != "user":
            rest.pop(0)
            dropped += 1
