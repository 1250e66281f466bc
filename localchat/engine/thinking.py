"""Reasoning ("thinking") in replies: recognise it, split it from the answer, keep it out of the
next turn's prompt. Pure text handling, no llama_cpp.

Qwen3, the DeepSeek-R1 distills, Phi-4-mini-reasoning and others open a reply with a
``<think>…</think>`` block. Templates differ in who writes the opening tag: Qwen3's generation
prompt leaves it to the model (and, with ``enable_thinking=false``, writes an empty block
itself), the R1 distills' template ends the prompt with ``<think>\\n`` so the reply holds only the
closing tag. The engine makes every reply self-describing (it emits the opening tag the prompt
wrote), so everything downstream splits on the tags alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

OPEN = "<think>"
CLOSE = "</think>"
_BLOCK = re.compile(r"^\s*<think>(.*?)(</think>\s*|$)", re.DOTALL)

ThinkingSupport = Literal["none", "always", "switchable"]


def template_thinking(template: str) -> ThinkingSupport:
    """What a chat template says about thinking: "switchable" when it reads ``enable_thinking``
    (Qwen3), "always" when it knows ``<think>`` blocks but has no switch (R1 distills),
    else "none"."""
    if "enable_thinking" in template:
        return "switchable"
    if OPEN in template or CLOSE in template:
        return "always"
    return "none"


def prompt_opens_thinking(prompt: str) -> bool:
    """The rendered prompt ends inside an open ``<think>`` block: the reply starts thinking."""
    tail = prompt.rstrip()
    return tail.endswith(OPEN)


@dataclass(frozen=True)
class SplitReply:
    thinking: str  # the reasoning, without its tags ("" when there was none)
    answer: str
    thinking_done: bool  # the block was closed (False: the reply stopped while thinking)

    @property
    def has_thinking(self) -> bool:
        return bool(self.thinking.strip()) or not self.thinking_done


def split_reply(text: str) -> SplitReply:
    """``"<think>plan</think>\\n\\nAnswer"`` → thinking "plan", answer "Answer". A reply that
    never closed its block (cut off while thinking) is all thinking."""
    m = _BLOCK.match(text)
    if m is None:
        return SplitReply("", text, True)
    closed = bool(m.group(2))
    return SplitReply(m.group(1).strip("\n"), text[m.end():] if closed else "", closed)


def answer_only(text: str) -> str:
    """What goes back to the model in later turns: the answer, never the reasoning (Qwen3's own
    template strips it the same way; templates that do not would feed it back)."""
    return split_reply(text).answer


Part = tuple[Literal["thinking", "answer"], str]


class ThinkingSplitter:
    """Splits a streamed reply into thinking and answer pieces as they arrive. A tag split over
    two pieces (``"<thi"`` + ``"nk>"``) is held back until it is whole."""

    def __init__(self) -> None:
        self._state: Literal["start", "thinking", "answer"] = "start"
        self._pending = ""
        self._after_close = False  # the newlines after </think> are the block's, not the answer's

    @property
    def thinking(self) -> bool:
        return self._state == "thinking"

    def feed(self, piece: str) -> list[Part]:
        """The parts ``piece`` completes (possibly none, while a tag may be starting)."""
        return list(self._parts(piece))

    def _parts(self, piece: str) -> Iterator[Part]:
        self._pending += piece
        while self._pending:
            if self._state == "start":
                stripped = self._pending.lstrip()
                if not stripped:
                    return  # only whitespace so far: wait for more
                if stripped.startswith(OPEN):
                    self._state = "thinking"
                    self._pending = stripped[len(OPEN):].lstrip("\n")
                    continue
                if OPEN.startswith(stripped):
                    return  # maybe the start of the tag
                self._state = "answer"
                continue
            if self._state == "answer":
                if self._after_close:
                    self._pending = self._pending.lstrip("\n")
                    if not self._pending:
                        return
                    self._after_close = False
                yield ("answer", self._pending)
                self._pending = ""
                return
            # thinking: emit up to the closing tag, holding back what might be its start
            end = self._pending.find(CLOSE)
            if end >= 0:
                if end:
                    yield ("thinking", self._pending[:end])
                self._state = "answer"
                self._after_close = True
                self._pending = self._pending[end + len(CLOSE):]
                continue
            keep = _partial_suffix(self._pending, CLOSE)
            text = self._pending[: len(self._pending) - keep]
            if text:
                yield ("thinking", text)
            self._pending = self._pending[len(text):]
            return

    def flush(self) -> list[Part]:
        """The end of the reply: whatever was held back."""
        if not self._pending:
            return []
        kind: Literal["thinking", "answer"] = "thinking" if self._state == "thinking" else "answer"
        text, self._pending = self._pending, ""
        return [(kind, text)]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a start of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0
