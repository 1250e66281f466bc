"""Shown when no model is configured. The seam the first-run setup wizard will replace."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Markdown

NO_MODEL_TEXT = """\
# No model is set up yet

localchat chats with a GGUF model file on this machine. To start:

- open the chat on a file you have: `localchat --model PATH/TO/MODEL.gguf`
- or download a small model that fits this machine: `localchat pull starter`

Press **q** to quit.
"""


class NoModelScreen(Screen[None]):
    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="no-model"):
            yield Markdown(NO_MODEL_TEXT)
        yield Footer()
