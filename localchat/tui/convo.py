"""Conversation helpers without widgets: the store's records to engine messages and sampling,
code blocks, export file names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from localchat import paths
from localchat.config import ChatDefaults
from localchat.engine.types import Message, ModelInfo, Sampling
from localchat.history import ConversationSettings, StoredMessage
from localchat.recommend.catalog import load_catalog
from localchat.recommend.sampling import SAMPLING_KEYS, ChosenSampling, choose_sampling, thinks

_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)


def new_chat_settings(defaults: ChatDefaults) -> ConversationSettings:
    """A new conversation's settings: the config file's defaults (the values it sets are the
    user's; the others give way to the loaded model's recommended sampling)."""
    return ConversationSettings.from_defaults(defaults)


def chosen_sampling(settings: ConversationSettings, info: ModelInfo | None) -> ChosenSampling:
    """The chat's sampling with the loaded model's recommended values where the user set none
    (their config or F3 did), following the chat's thinking switch where the family has two sets."""
    family = load_catalog().family_sampling(info.path, info.name, info.architecture) if info else None
    own = {key: getattr(settings, key) for key in SAMPLING_KEYS}
    return choose_sampling(own, settings.user_set, family,
                           thinks(settings.thinking, info.thinking if info else "none"))


def sampling_for(settings: ConversationSettings, info: ModelInfo | None = None) -> Sampling:
    """What a reply of this chat samples with; ``info``: the loaded model (its family's
    recommended sampling fills in what the user did not set)."""
    values = chosen_sampling(settings, info).values
    return Sampling(
        temperature=float(values["temperature"]),
        top_p=float(values["top_p"]),
        max_tokens=int(settings.max_tokens) if settings.max_tokens else None,
        top_k=int(values["top_k"]),
        min_p=float(values["min_p"]),
        repeat_penalty=float(values["repeat_penalty"]),
        seed=settings.seed,
        enable_thinking=settings.thinking,
    )


def engine_messages(system_prompt: str, stored: Sequence[StoredMessage]) -> list[Message]:
    """The turns sent to the model: the system prompt, then user and assistant messages with
    text (a stopped or interrupted reply is sent as far as it got, as the user saw it)."""
    out = [Message("system", system_prompt)] if system_prompt.strip() else []
    for m in stored:
        if m.role == "user":
            out.append(Message("user", m.content))
        elif m.role == "assistant" and m.content:
            out.append(Message("assistant", m.content))
    return out


def last_code_block(markdown: str) -> str | None:
    """The body of the last fenced code block in ``markdown`` (an unclosed one counts)."""
    blocks = [m.group(2) for m in _FENCE.finditer(markdown)]
    if blocks:
        return blocks[-1].rstrip("\n")
    open_fence = re.search(r"^(`{3,}|~{3,})[^\n]*\n(.*)\Z", markdown, re.DOTALL | re.MULTILINE)
    return open_fence.group(2).rstrip("\n") if open_fence else None


def export_path(title: str, conversation_id: int, suffix: str, folder: Path | None = None) -> Path:
    """``localchat-<title-slug>-<id>.<suffix>`` in the current directory, or in the data
    directory when the current one cannot be written."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "chat"
    name = f"localchat-{slug}-{conversation_id}.{suffix}"
    if folder is not None:
        return folder / name
    cwd = Path.cwd()
    try:
        probe = cwd / f".{name}.probe"
        probe.touch()
        probe.unlink()
        return cwd / name
    except OSError:
        target = paths.data_dir() / "exports"
        target.mkdir(parents=True, exist_ok=True)
        return target / name
