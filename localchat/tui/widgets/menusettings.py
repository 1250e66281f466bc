"""The model menu's settings bar: context length, GPU layers and KV cache type, as typed.

Posts ``MenuSettingsBar.Changed`` with the parsed ``MenuSettings`` (or the one-line error of
what was typed, the last valid settings kept) each time a field changes.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select

from localchat.errors import LocalChatError
from localchat.loadsettings import KV_TYPES, parse_ctx, parse_gpu_layers
from localchat.options.menu import MenuSettings
from localchat.tui.widgets.plain import PlainLabel


class MenuSettingsBar(Horizontal):
    DEFAULT_CSS = """
    MenuSettingsBar { height: 3; padding: 0 1; }
    MenuSettingsBar Label { padding: 1 1 0 0; }
    MenuSettingsBar Input { width: 12; margin-right: 2; }
    MenuSettingsBar Select { width: 14; }
    """

    class Changed(Message):
        def __init__(self, settings: MenuSettings | None, error: str = "") -> None:
            super().__init__()
            self.settings = settings  # None: what was typed is not valid (``error`` says why)
            self.error = error

    def __init__(self, settings: MenuSettings, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial = settings

    def compose(self) -> ComposeResult:
        yield PlainLabel("Context")
        yield Input(str(self.initial.ctx), id="menu-ctx", placeholder="8192 or 8k")
        yield PlainLabel("GPU layers")
        yield Input("auto", id="menu-gpu", placeholder="auto, all or N")
        yield PlainLabel("KV cache")
        yield Select([(k, k) for k in KV_TYPES], value=self.initial.kv_type, allow_blank=False,
                     id="menu-kv")

    @on(Input.Changed)
    @on(Input.Submitted)
    @on(Select.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        try:
            ctx = parse_ctx(self.query_one("#menu-ctx", Input).value)
            gpu = parse_gpu_layers(self.query_one("#menu-gpu", Input).value)
        except LocalChatError as exc:
            self.post_message(self.Changed(None, str(exc)))
            return
        kv = str(self.query_one("#menu-kv", Select).value)
        self.post_message(self.Changed(MenuSettings(ctx, kv, gpu)))

    def focus_first(self) -> None:
        self.query_one("#menu-ctx", Input).focus()
