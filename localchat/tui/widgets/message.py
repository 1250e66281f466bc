"""One chat message: a role line and the text rendered as Markdown (streamed for replies)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from localchat.safetext import for_terminal
from localchat.tui.widgets.plain import PlainLabel

ROLE_LABEL = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUS_LABEL = {"stopped": "stopped", "partial": "interrupted"}


class MessageView(Vertical):
    """A user or assistant message. Replies stream through ``MarkdownStream`` (appending only
    the new text) and get one full render when they end."""

    def __init__(
        self, role: str, content: str, *, message_id: int, status: str = "complete",
        model: str = "",
    ) -> None:
        super().__init__(classes=f"message {role}")
        self.role = role
        self.content = content
        self.status = status
        self.message_id = message_id
        self.model = model
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        yield PlainLabel(self._role_line(), classes="role")
        yield Markdown(for_terminal(self.content), classes="body")

    def _role_line(self) -> str:
        label = ROLE_LABEL.get(self.role, self.role)
        if self.role == "assistant" and self.model:
            label += f" · {self.model}"
        note = STATUS_LABEL.get(self.status)
        return f"{label}  [{note}]" if note else label

    @property
    def body(self) -> Markdown:
        return self.query_one(".body", Markdown)

    async def append(self, delta: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self.body)
        self.content += delta
        await self._stream.write(for_terminal(delta))

    async def finish(self, text: str, status: str) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.content = text
        self.status = status
        self.set_class(status == "stopped", "stopped")
        self.query_one(".role", PlainLabel).update(self._role_line())
        await self.body.update(for_terminal(text))
