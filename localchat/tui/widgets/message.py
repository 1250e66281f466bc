"""One chat message: a role line, the reply's thinking (a collapsible section, when the model
thought), and the answer rendered as Markdown (streamed for replies: widgets/streaming.py).

The stored text keeps a reply whole, ``<think>…</think>`` block included (engine/thinking.py);
this view splits it. Markdown would hide a ``<think>`` tag as unknown HTML, so the thinking is
never given to it: it is shown as plain text in its own section.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown

from localchat.engine.thinking import ThinkingSplitter, split_reply
from localchat.safetext import for_terminal
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.widgets.streaming import GrowingText, MessageMarkdown, StreamingMarkdown

ROLE_LABEL = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUS_LABEL = {"stopped": "stopped", "partial": "interrupted", "cut": "cut off"}
CUT_NOTE = {"length": "✂ cut off at max tokens", "context": "✂ cut off: the context is full"}
CONTINUE_HINT = " — Ctrl+E continues this reply"
TITLE_INTERVAL_S = 0.5  # the thinking title's token count changes that often at most


def thought_title(stats: dict[str, Any] | None, tokens: int = 0, seconds: float = 0.0) -> str:
    """ "Thought for 12.3 s · 456 tokens", from the reply's stats where it has them."""
    if stats and stats.get("thinking_tokens"):
        tokens, seconds = int(stats["thinking_tokens"]), float(stats.get("thinking_s") or 0.0)
    parts = ["Thought"]
    if seconds > 0:
        parts[0] += f" for {seconds:.1f} s"
    if tokens > 0:
        parts.append(f"{tokens} tokens")
    return " · ".join(parts)


def cut_note(stats: dict[str, Any] | None, continuable: bool = True) -> str:
    reason = (stats or {}).get("finish_reason", "")
    return CUT_NOTE.get(reason, CUT_NOTE["length"]) + (CONTINUE_HINT if continuable else "")


class MessageView(Vertical):
    """A user or assistant message. A reply's answer streams into a ``StreamingMarkdown`` in
    place of the body (appending only the new text) and gets one full render in the body when
    it ends; thinking streams into its own section, collapsed once the answer starts."""

    def __init__(
        self, role: str, content: str, *, message_id: int, status: str = "complete",
        model: str = "", stats: dict[str, Any] | None = None, continuable: bool = True,
    ) -> None:
        """``continuable``: a cut-off reply here can be continued (the chat; not compare quants)."""
        super().__init__(classes=f"message {role}")
        self.role = role
        self.content = content
        self.status = status
        self.message_id = message_id
        self.model = model
        self.stats = stats
        self.continuable = continuable
        self._stream: StreamingMarkdown | None = None
        self._splitter: ThinkingSplitter | None = None
        self._thinking_started = 0.0
        self._thinking_tokens = 0
        self._title_shown_at = 0.0
        self._answer_started = False

    def compose(self) -> ComposeResult:
        yield PlainLabel(self._role_line(), classes="role")
        if self.role != "assistant":
            yield MessageMarkdown(for_terminal(self.content), classes="body")
            return
        split = split_reply(self.content)
        section = Collapsible(GrowingText(split.thinking, piece_classes="thinking-text"),
                              title=Content(self._stored_title(split.thinking_done)),  # type: ignore[arg-type]
                              collapsed=True, classes="thinking")
        section.display = split.has_thinking
        yield section
        yield MessageMarkdown(for_terminal(split.answer), classes="body")
        note = PlainLabel(cut_note(self.stats, self.continuable), classes="cut-note")
        note.display = self.status == "cut"
        yield note

    def _stored_title(self, thinking_done: bool) -> str:
        return thought_title(self.stats) if thinking_done else "Thinking (cut off)"

    def _role_line(self) -> str:
        label = ROLE_LABEL.get(self.role, self.role)
        if self.role == "assistant" and self.model:
            label += f" · {self.model}"
        note = STATUS_LABEL.get(self.status)
        return f"{label}  [{note}]" if note else label

    @property
    def body(self) -> Markdown:
        return self.query_one(".body", Markdown)

    @property
    def shown_answer(self) -> str:
        """The answer's Markdown as shown now (while streaming too)."""
        return self._stream.source if self._stream is not None else self.body.source

    @property
    def thinking_section(self) -> Collapsible:
        return self.query_one(".thinking", Collapsible)

    def _set_title(self, title: str) -> None:
        self.thinking_section.title = Content(title)  # type: ignore[assignment]  # plain, never markup

    def begin_continue(self) -> None:
        """The reply is extended in place (Continue): new text appends to what is shown."""
        self.status = "partial"
        self.query_one(".cut-note", PlainLabel).display = False
        self.query_one(".role", PlainLabel).update(self._role_line())
        self._splitter = ThinkingSplitter()
        # replay the text so far so the splitter knows whether the reply is still thinking
        for kind, _text in self._splitter.feed(self.content):
            self._answer_started = self._answer_started or kind == "answer"

    async def append(self, delta: str, tokens: int = 0) -> None:
        """``delta``: the new reply text; ``tokens``: pieces streamed so far (for the title)."""
        self.content += delta
        if self._splitter is None:
            self._splitter = ThinkingSplitter()
        for kind, text in self._splitter.feed(delta):
            if kind == "thinking":
                await self._think(text, tokens)
            else:
                await self._answer(text)

    async def _think(self, text: str, tokens: int) -> None:
        section = self.thinking_section
        if not self._thinking_started:
            self._thinking_started = time.monotonic()
            section.display = True
            section.collapsed = False
        self._thinking_tokens = tokens
        await section.query_one(GrowingText).append(text)
        now = time.monotonic()
        if now - self._title_shown_at >= TITLE_INTERVAL_S:
            self._title_shown_at = now
            self._set_title(f"Thinking… {tokens} tokens" if tokens else "Thinking…")

    async def _answer(self, text: str) -> None:
        if not self._answer_started:
            self._answer_started = True
            if self._thinking_started:
                seconds = time.monotonic() - self._thinking_started
                self.thinking_section.collapsed = True
                self._set_title(thought_title(None, self._thinking_tokens, seconds))
        if self._stream is None:
            # the answer so far (a continued reply's) streams on from the body's text
            self._stream = StreamingMarkdown(classes="stream")
            with self.app.batch_update():
                await self.mount(self._stream, after=self.body)
                await self._stream.append(self.body.source)
                self.body.display = False
        await self._stream.append(for_terminal(text))

    async def finish(self, text: str, status: str, stats: dict[str, Any] | None = None) -> None:
        with self.app.batch_update():  # the streamed answer gives way to the full render at once
            await self._finish(text, status, stats)

    async def _finish(self, text: str, status: str, stats: dict[str, Any] | None) -> None:
        self._splitter = None
        self.content = text
        self.status = status
        if stats is not None:
            self.stats = stats
        split = split_reply(text)
        section = self.thinking_section
        section.display = split.has_thinking
        if split.has_thinking:
            await section.query_one(GrowingText).reset(split.thinking)
            section.collapsed = True
            if (self.stats and self.stats.get("thinking_tokens")) or not split.thinking_done:
                self._set_title(self._stored_title(split.thinking_done))
        self.set_class(status == "stopped", "stopped")
        self.query_one(".role", PlainLabel).update(self._role_line())
        note = self.query_one(".cut-note", PlainLabel)
        note.update(cut_note(self.stats, self.continuable))
        note.display = status == "cut"
        await self.body.update(for_terminal(split.answer))
        if self._stream is not None:
            self.body.display = True
            await self._stream.remove()
            self._stream = None
