"""Per-conversation settings: system prompt, temperature, top-p, max tokens."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, TextArea

from localchat.history import ConversationSettings
from localchat.safetext import for_terminal
from localchat.tui.widgets.plain import PlainLabel


def parse_settings(system_prompt: str, temperature: str, top_p: str, max_tokens: str
                   ) -> ConversationSettings:
    """ConversationSettings from the form's text; ValueError says which field is wrong."""
    try:
        temp = float(temperature)
    except ValueError:
        raise ValueError("temperature must be a number such as 0.7") from None
    try:
        top = float(top_p)
    except ValueError:
        raise ValueError("top-p must be a number such as 0.95") from None
    try:
        limit = int(max_tokens)
    except ValueError:
        raise ValueError("max tokens must be a whole number such as 1024") from None
    if not 0.0 <= temp <= 2.0:
        raise ValueError("temperature must be between 0 and 2")
    if not 0.0 < top <= 1.0:
        raise ValueError("top-p must be above 0 and at most 1")
    if limit <= 0:
        raise ValueError("max tokens must be greater than 0")
    return ConversationSettings(system_prompt=system_prompt, temperature=temp, top_p=top, max_tokens=limit)


class SettingsScreen(ModalScreen[ConversationSettings | None]):
    """Dismisses with the new ConversationSettings, or None when cancelled."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, settings: ConversationSettings, title: str) -> None:
        super().__init__(classes="dialog-screen")
        self.settings = settings
        self.conversation_title = title

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical(classes="dialog settings"):
            yield PlainLabel(f"Settings · {self.conversation_title}", classes="dialog-question")
            yield PlainLabel("System prompt")
            yield TextArea(for_terminal(s.system_prompt), id="system-prompt", soft_wrap=True)
            with Horizontal(classes="fields"):
                with Vertical():
                    yield PlainLabel("Temperature")
                    yield Input(str(s.temperature), id="temperature", type="number")
                with Vertical():
                    yield PlainLabel("Top-p")
                    yield Input(str(s.top_p), id="top-p", type="number")
                with Vertical():
                    yield PlainLabel("Max tokens")
                    yield Input(str(s.max_tokens), id="max-tokens", type="integer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def action_save(self) -> None:
        try:
            settings = parse_settings(
                self.query_one("#system-prompt", TextArea).text,
                self.query_one("#temperature", Input).value,
                self.query_one("#top-p", Input).value,
                self.query_one("#max-tokens", Input).value,
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.dismiss(settings)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)
