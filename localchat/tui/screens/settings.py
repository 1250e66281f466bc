"""Per-conversation settings: system prompt and sampling (temperature, top-p, max tokens, top-k,
min-p, repeat penalty, seed), and the thinking switch where the model's template has one."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, TextArea

from localchat.config import RULES
from localchat.history import ConversationSettings
from localchat.safetext import for_terminal
from localchat.tui.widgets.plain import PlainLabel

# (input id, label, [chat] config key): the form's fields, checked by the config file's rules
FIELDS = (
    ("temperature", "Temperature", "temperature"),
    ("top-p", "Top-p", "top_p"),
    ("max-tokens", "Max tokens", "max_tokens"),
    ("top-k", "Top-k", "top_k"),
    ("min-p", "Min-p", "min_p"),
    ("repeat-penalty", "Rep. penalty", "repeat_penalty"),
    ("seed", "Seed", "seed"),
)
THINKING_CHOICES = (("default", "default"), ("on", "on"), ("off", "off"))  # default: the model's


def _named(label: str) -> str:
    return label.lower().replace("rep.", "repeat")


def _number(label: str, key: str, text: str) -> float | int:
    """``text`` as the field's number; ValueError naming the field and what it must be."""
    rule = RULES[("chat", key)]
    try:
        value: float | int = rule.kind(text.strip())
    except ValueError:
        raise ValueError(f"{_named(label)} must be {rule.must_be}") from None
    if not rule.ok(value):
        raise ValueError(f"{_named(label)} must be {rule.must_be}")
    return value


def parse_settings(system_prompt: str, values: dict[str, str], thinking: str = "default",
                   ) -> ConversationSettings:
    """ConversationSettings from the form's text (``values`` by config key; an empty seed is a
    random one); ValueError says which field is wrong."""
    numbers: dict[str, float | int] = {}
    for _id, label, key in FIELDS:
        text = values.get(key, "")
        if key == "seed" and not text.strip():
            text = "-1"
        numbers[key] = _number(label, key, text)
    seed = int(numbers.pop("seed"))
    return ConversationSettings(
        system_prompt=system_prompt, seed=None if seed < 0 else seed,
        thinking={"on": True, "off": False}.get(thinking), **numbers,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class SavedSettings:
    settings: ConversationSettings
    as_default: bool = False  # also the config's [chat] defaults, for new chats


def thinking_choice(thinking: bool | None) -> str:
    return "default" if thinking is None else "on" if thinking else "off"


class SettingsScreen(ModalScreen[SavedSettings | None]):
    """Dismisses with the new settings (and whether they are the new defaults too), or None
    when cancelled. ``thinking_switch``:
    the loaded model's template can turn thinking on and off (Qwen3's ``enable_thinking``)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, settings: ConversationSettings, title: str, *,
                 thinking_switch: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.settings = settings
        self.conversation_title = title
        self.thinking_switch = thinking_switch

    def _value(self, key: str) -> str:
        value = getattr(self.settings, key)
        return "" if value is None else str(value)

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical(classes="dialog settings"):
            yield PlainLabel(f"Settings · {self.conversation_title}", classes="dialog-question")
            yield PlainLabel("System prompt")
            yield TextArea(for_terminal(s.system_prompt), id="system-prompt", soft_wrap=True)
            for second, row in enumerate((FIELDS[:3], FIELDS[3:])):
                with Horizontal(classes="fields"):
                    for field_id, label, key in row:
                        with Vertical():
                            yield PlainLabel(label)
                            whole = RULES[("chat", key)].kind is int
                            yield Input(self._value(key), id=field_id,
                                        type="integer" if whole else "number",
                                        placeholder="random" if key == "seed" else "")
                    if self.thinking_switch and second:
                        with Vertical(classes="thinking-field"):
                            yield PlainLabel("Thinking")
                            yield Select(THINKING_CHOICES, value=thinking_choice(s.thinking),
                                         allow_blank=False, id="thinking")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Save as default", id="save-default")
                yield Button("Cancel", id="cancel")

    def action_save(self, as_default: bool = False) -> None:
        thinking = thinking_choice(self.settings.thinking)
        if self.thinking_switch:
            thinking = str(self.query_one("#thinking", Select).value)
        try:
            settings = parse_settings(
                self.query_one("#system-prompt", TextArea).text,
                {key: self.query_one(f"#{field_id}", Input).value for field_id, _, key in FIELDS},
                thinking,
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.dismiss(SavedSettings(settings, as_default))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("save", "save-default"):
            self.action_save(as_default=event.button.id == "save-default")
        else:
            self.dismiss(None)
