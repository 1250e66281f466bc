"""The localchat Textual app: which screen opens, theme, notices, help and command palette.

The model lives in ``ModelHost`` (modelhost.py): ``switch_model(path, settings)`` loads one in a
worker and posts ``ModelLoaded`` / ``ModelLoadFailed`` to the screens. The screens see the app as
``AppHost`` (host.py): this module imports them, they never import it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from localchat.config import Config, save_config
from localchat.engine.target import LoadTarget
from localchat.errors import LocalChatError
from localchat.history import ConversationStore
from localchat.loadsettings import LoadOverrides, LoadSettings
from localchat.options.sources import Sources
from localchat.tui.host import AppHost
from localchat.tui.modelhost import EngineLoader, real_engine_loader
from localchat.tui.screens.chat import ChatScreen
from localchat.tui.screens.help import HelpScreen, key_rows
from localchat.tui.screens.setup import SetupScreen
from localchat.tui.widgets.prompt import PromptInput


class LocalChatApp(AppHost):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses elsewhere find it too
    TITLE = "localchat"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help"),
        Binding("f4", "models", "Models"),
        Binding("f9", "compare_quants", "Compare quants", show=False),
        Binding("ctrl+t", "change_theme", "Change theme", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        model_path: LoadTarget | None,
        *,
        config: Config,
        store: ConversationStore,
        load_settings: LoadSettings | None = None,
        engine_loader: EngineLoader = real_engine_loader,
        sources: Sources | None = None,
        overrides: LoadOverrides | None = None,
        setup_reason: str = "",
    ) -> None:
        super().__init__()
        self.setup_reason = setup_reason  # why the setup opens though a model was configured
        self.sources = sources or Sources()  # the machine, catalog, local models, Hub check
        # what the command line asked for (`localchat --ctx N`): the first-run setup plans for it
        self.overrides = overrides or LoadOverrides()
        self.start_model = model_path
        self.config = config
        self.store = store
        self.load_settings = load_settings or LoadSettings()
        self.engine_loader = engine_loader

    def on_mount(self) -> None:
        if self.config.ui.theme in self.available_themes:
            self.theme = self.config.ui.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        for notice in (self.config.notice, getattr(self.store, "notice", "")):
            if notice:
                self.notify(notice, severity="warning", timeout=30)
        if self.start_model:
            if isinstance(self.start_model, str):
                self.prepare_load()  # the engine process starts while the first frame is drawn
            self.open_chat()
        else:
            self.push_screen(self.no_model_screen())

    def on_ready(self) -> None:
        # after the first frame: importing llama_cpp and mapping the GGUF in the load worker
        # would otherwise compete with the first paint for the GIL (benchmarks/tui_speed.py)
        if self.start_model:
            self.switch_model(self.start_model, self.load_settings)

    def no_model_screen(self) -> Screen[Any]:
        """The screen shown when no model is configured: the first-run setup (it picks a model,
        calls ``switch_model`` and then ``open_chat``)."""
        return SetupScreen(self.setup_reason)

    def open_chat(self) -> ChatScreen:
        """Show the chat screen (on top of whatever is shown), creating it the first time."""
        chat = next((s for s in self.screen_stack if isinstance(s, ChatScreen)), None)
        if chat is None:
            chat = ChatScreen()
            if len(self.screen_stack) > 1:  # replace the no-model / setup screen
                self.switch_screen(chat)
            else:
                self.push_screen(chat)
        else:
            while self.screen is not chat:
                self.pop_screen()
        return chat

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name != self.config.ui.theme:
            self.config = dataclasses.replace(
                self.config, ui=dataclasses.replace(self.config.ui, theme=theme.name), notice=""
            )
            try:
                save_config(self.config)
            except (OSError, LocalChatError) as exc:
                self.notify(f"Could not save the theme choice: {exc}", severity="warning")

    # ------------------------------------------------------------------ help and palette
    def binding_groups(self, screen: Screen[Any] | None = None) -> list[tuple[str, list[Any]]]:
        """The keys by where they work; ``screen``, when it is not the chat (the setup screen,
        the model menu, compare quants), comes first with its own."""
        groups = [("App", list(self.BINDINGS)), ("Chat", list(ChatScreen.BINDINGS)),
                  ("Prompt", list(PromptInput.BINDINGS))]
        if screen is not None and not isinstance(screen, ChatScreen) and screen.BINDINGS:
            groups.insert(0, (getattr(screen, "HELP_NAME", type(screen).__name__), list(screen.BINDINGS)))
        return groups

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_rows(self, self.binding_groups(self.screen))))

    def action_models(self) -> None:
        """The model menu: every model and quant sized for this machine; switch or compare."""
        from localchat.tui.screens.models import ModelMenuScreen

        if not isinstance(self.screen, ModelMenuScreen):
            self.prepare_load()
            self.push_screen(ModelMenuScreen())

    def action_compare_quants(self) -> None:
        """The model menu narrowed to the loaded model's quants: Enter compares the last reply."""
        from localchat.tui.screens.models import ModelMenuScreen

        if not isinstance(self.screen, ModelMenuScreen):
            self.prepare_load()
            self.push_screen(ModelMenuScreen(compare_only=True))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = next((s for s in self.screen_stack if isinstance(s, ChatScreen)), None)
        for where, bindings in self.binding_groups()[:2]:
            target = self if where == "App" else chat
            if target is None:
                continue
            for binding in bindings:
                if binding.description and binding.action not in ("quit",):
                    yield SystemCommand(
                        binding.description,
                        f"key: {self.get_key_display(binding)}",
                        partial(self.run_action, binding.action, target),
                    )

