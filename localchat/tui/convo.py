"""Conversation helpers without widgets: the store's records to engine messages and sampling."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from localchat.config import ChatDefaults
from localchat.engine.types import Message, Sampling

_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)


def chat_settings(conversation: Any, defaults: ChatDefaults) -> Any:
    """The conversation's settings, or the config defaults when it has none yet."""
    from localchat.history import ConversationSettings

    if conversation is not None and conversation.settings is not None:
        return conversation.settings
    return ConversationSettings.from_defaults(defaults)


def sampling_for(settings: Any) -> Sampling:
    return Sampling(
        temperature=float(settings.temperature),
        top_p=float(settings.top_p),
        max_tokens=int(settings.max_tokens) if settings.max_tokens else None,
    )


def engine_messages(system_prompt: str, stored: Sequence[Any]) -> list[Message]:
    """The turns sent to the model: the system prompt, then user and assistant messages with
    text (a stopped or partial reply is sent as far as it got, as the user saw it)."""
    out = [Message("system", system_prompt)] if system_prompt.strip() else []
    for m in stored:
        if m.role in ("user", "assistant") and m.content:
            out.append(Message(m.role, m.content))
    return out


def last_code_block(markdown: str) -> str | None:
    """The body of the last fenced code block in ``markdown`` (an unclosed one counts)."""
    blocks = [m.group(2) for m in _FENCE.finditer(markdown)]
    if blocks:
        return blocks[-1].rstrip("\n")
    open_fence = re.search(r"^(`{3,}|~{3,})[^\n]*\n(.*)\Z", markdown, re.DOTALL | re.MULTILINE)
    return open_fence.group(2).rstrip("\n") if open_fence else None
