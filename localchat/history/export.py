"""Export a conversation to Markdown (for reading) or JSON (for tools)."""

from __future__ import annotations

import dataclasses
import json
import time

from localchat.engine.thinking import split_reply
from localchat.history.models import Conversation

_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def to_markdown(conversation: Conversation) -> str:
    lines = [f"# {conversation.title}", "",
             f"*{_when(conversation.created_at)} · system prompt: "
             f"{conversation.settings.system_prompt or '(none)'}*", ""]
    for msg in conversation.messages:
        label = _LABELS.get(msg.role, msg.role)
        note = ""
        if msg.status == "stopped":
            note = " *(stopped)*"
        elif msg.status == "partial":
            note = " *(interrupted)*"
        elif msg.status == "cut":
            note = " *(cut off)*"
        model = f" · {msg.model}" if msg.model else ""
        lines += [f"## {label}{model}{note}", ""]
        split = split_reply(msg.content) if msg.role == "assistant" else None
        if split is not None and split.has_thinking:
            # a <details> block: GitHub and most viewers show it folded, as the chat does
            lines += ["<details><summary>Thinking</summary>", "", split.thinking, "", "</details>", ""]
            lines += [split.answer, ""]
        else:
            lines += [msg.content, ""]
    return "\n".join(lines).rstrip() + "\n"


def to_json(conversation: Conversation) -> str:
    data = dataclasses.asdict(conversation)
    data["settings"]["user_set"] = sorted(conversation.settings.user_set)
    for message in data["messages"]:
        if message["role"] == "assistant":
            split = split_reply(message["content"])
            if split.has_thinking:  # the reasoning beside the answer, never inside it
                message["content"], message["thinking"] = split.answer, split.thinking
    data["format"] = "localchat-conversation/1"
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
