"""Per-conversation settings: system prompt (typed, or a preset's) and sampling (temperature,
top-p, max tokens, top-k, min-p, repeat penalty, seed), and the thinking switch where the model's
template has one.

The sampling fields show what the next reply uses: the user's own values, and for the others the
loaded model's recommended sampling (or localchat's default). A field changed here becomes the
user's; a field cleared goes back to the recommendation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, TextArea

from localchat.config import RULES
from localchat.history import ConversationSettings
from localchat.presets import BUILTIN_PRESETS, Preset, preset_for_prompt
from localchat.recommend.sampling import SAMPLING_KEYS, ChosenSampling
from localchat.safetext import for_terminal
from localchat.tui.widgets.plain import PlainLabel, plain

CUSTOM = -1  # the preset choice for a prompt typed here

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


def parse_settings(system_prompt: str, values: Mapping[str, str], thinking: str = "default", *,
                   before: ConversationSettings | None = None,
                   shown: Mapping[str, str] | None = None, preset: str = "",
                   ) -> ConversationSettings:
    """ConversationSettings from the form's text (``values`` by config key; an empty seed is a
    random one); ValueError says which field is wrong. ``shown``: the sampling fields' text as
    the form opened, over the chat's settings ``before``: a field left as shown keeps what it
    was (the user's value, or the model's recommendation), a changed one becomes the user's, a
    cleared one goes back to the recommendation."""
    before = before or ConversationSettings()
    shown = shown or {}
    user_set = set(before.user_set)
    numbers: dict[str, float | int] = {}
    for _id, label, key in FIELDS:
        text = values.get(key, "").strip()
        if key in SAMPLING_KEYS and (not text or text == shown.get(key, "").strip()):
            if not text:
                user_set.discard(key)
            numbers[key] = getattr(before, key)
            continue
        if key == "seed" and not text:
            text = "-1"
        numbers[key] = _number(label, key, text)
        if key in SAMPLING_KEYS:
            user_set.add(key)
    seed = int(numbers.pop("seed"))
    return ConversationSettings(
        system_prompt=system_prompt, seed=None if seed < 0 else seed,
        thinking={"on": True, "off": False}.get(thinking), preset=preset,
        user_set=frozenset(user_set), **numbers,  # type: ignore[arg-type]
    )


def _shown(value: float | int) -> str:
    return str(value)


@dataclass(frozen=True)
class SavedSettings:
    settings: ConversationSettings
    as_default: bool = False  # also the config's [chat] defaults, for new chats


def thinking_choice(thinking: bool | None) -> str:
    return "default" if thinking is None else "on" if thinking else "off"


class SettingsScreen(ModalScreen[SavedSettings | None]):
    """Dismisses with the new settings (and whether they are the new defaults too), or None
    when cancelled. ``thinking_switch``: the loaded model's template can turn thinking on and
    off (Qwen3's ``enable_thinking``). ``presets``: the system-prompt presets offered (built-in
    and the user's). ``sampling``: what the next reply samples with (``convo.chosen_sampling``),
    shown in the fields; without it they show the chat's own values."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "save", "Save")]
    AUTO_FOCUS = "#system-prompt"  # the text to edit, not the preset choice above it

    def __init__(self, settings: ConversationSettings, title: str, *,
                 thinking_switch: bool = False, presets: Sequence[Preset] = BUILTIN_PRESETS,
                 sampling: ChosenSampling | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.settings = settings
        self.conversation_title = title
        self.thinking_switch = thinking_switch
        self.presets = tuple(presets)
        self.sampling = sampling
        self.shown = {key: self._value(key) for _, _, key in FIELDS}

    def _value(self, key: str) -> str:
        if self.sampling is not None and key in self.sampling.values:
            return _shown(self.sampling.values[key])
        value = getattr(self.settings, key)
        return "" if value is None else _shown(value)

    def _preset_choice(self, prompt: str) -> int:
        named = [i for i, p in enumerate(self.presets) if p.name == self.settings.preset]
        if named and self.presets[named[0]].prompt.strip() == prompt.strip():
            return named[0]
        match = preset_for_prompt(prompt, self.presets)
        return self.presets.index(match) if match is not None else CUSTOM

    def compose(self) -> ComposeResult:
        s = self.settings
        choices = [(plain(p.name, line=True), i) for i, p in enumerate(self.presets)]
        with Vertical(classes="dialog settings"):
            with Horizontal(classes="preset-row"):
                with Vertical(classes="preset-label"):
                    yield PlainLabel(f"Settings · {self.conversation_title}",
                                     classes="dialog-question")
                    yield PlainLabel("System prompt")
                yield Select([*choices, (plain("Custom"), CUSTOM)], allow_blank=False,
                             value=self._preset_choice(s.system_prompt), id="preset")
            yield TextArea(for_terminal(s.system_prompt), id="system-prompt", soft_wrap=True)
            for second, row in enumerate((FIELDS[:3], FIELDS[3:])):
                with Horizontal(classes="fields"):
                    for field_id, label, key in row:
                        with Vertical():
                            yield PlainLabel(label)
                            whole = RULES[("chat", key)].kind is int
                            yield Input(self.shown[key], id=field_id,
                                        type="integer" if whole else "number",
                                        placeholder="random" if key == "seed" else "")
                    if self.thinking_switch and second:
                        with Vertical(classes="thinking-field"):
                            yield PlainLabel("Thinking")
                            yield Select(THINKING_CHOICES, value=thinking_choice(s.thinking),
                                         allow_blank=False, id="thinking")
            if self.sampling is not None:  # a cleared field goes back to these too
                yield PlainLabel(f"Values you did not set: {self.sampling.describe()}",
                                 id="sampling-source")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Save as default", id="save-default")
                yield Button("Cancel", id="cancel")

    @on(Select.Changed, "#preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        """A preset fills in its prompt (Custom leaves the text to edit)."""
        if isinstance(event.value, int) and event.value != CUSTOM:
            area = self.query_one("#system-prompt", TextArea)
            prompt = self.presets[event.value].prompt
            if area.text.strip() != prompt.strip():
                area.text = prompt

    @on(TextArea.Changed, "#system-prompt")
    def _prompt_edited(self, event: TextArea.Changed) -> None:
        """Typed text that is no preset's makes the choice Custom."""
        select = self.query_one("#preset", Select)
        current = select.value
        if isinstance(current, int) and current != CUSTOM and \
                self.presets[current].prompt.strip() == event.text_area.text.strip():
            return
        match = preset_for_prompt(event.text_area.text, self.presets)
        select.value = self.presets.index(match) if match is not None else CUSTOM

    def action_save(self, as_default: bool = False) -> None:
        thinking = thinking_choice(self.settings.thinking)
        if self.thinking_switch:
            thinking = str(self.query_one("#thinking", Select).value)
        prompt = self.query_one("#system-prompt", TextArea).text
        choice = self.query_one("#preset", Select).value
        preset = self.presets[choice].name if isinstance(choice, int) and choice != CUSTOM else ""
        try:
            settings = parse_settings(
                prompt,
                {key: self.query_one(f"#{field_id}", Input).value for field_id, _, key in FIELDS},
                thinking, before=self.settings, shown=self.shown, preset=preset,
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
