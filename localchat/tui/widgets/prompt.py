"""The prompt: a multi-line TextArea where Enter sends and shift+enter / ctrl+j add a line."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    BINDINGS = [
        Binding("enter", "submit", "Send", show=False),
        Binding("shift+enter,ctrl+j", "newline", "New line", show=False),
    ]

    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
            placeholder="Message · Enter sends · Shift+Enter or Ctrl+J: new line · F1: keys",
            id=id,
        )

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline for Enter in its own key handler, before bindings run
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")
