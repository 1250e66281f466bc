"""The chat TUI (Textual). Importing this package never imports llama_cpp: the engine is
loaded in a worker thread once the first screen is up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localchat.loadsettings import LoadOverrides
    from localchat.tui.app import LocalChatApp


def run_tui(model: str | None, overrides: LoadOverrides | None = None) -> int:
    """Open the chat on ``model`` (or the configured model); returns the exit status."""
    app = build_app(model, overrides)
    try:
        app.run()
    finally:
        app.store.close()
    return app.return_code or 0


def build_app(model: str | None, overrides: LoadOverrides | None = None) -> LocalChatApp:
    """The app for ``localchat [--model PATH] [--ctx N]``: on ``model`` (default settings), else
    on the configured model (its saved settings), else (none configured, or its file is gone) on
    the first-run setup, which says why; ``overrides`` (``--ctx``) on top of each."""
    from pathlib import Path

    from localchat import paths
    from localchat.config import load_config
    from localchat.errors import ModelFileError
    from localchat.history import ConversationStore
    from localchat.loadsettings import LoadOverrides, LoadSettings
    from localchat.tui.app import LocalChatApp

    config = load_config()
    path, setup_reason = "", ""
    if model:
        path = str(Path(model).expanduser())
        if not Path(path).is_file():
            raise ModelFileError(f"model file {path} does not exist",
                                 "check the path, or run `localchat pull starter`")
    elif config.model.path:
        path = str(Path(config.model.path).expanduser())
        if not Path(path).is_file():  # deleted (`localchat rm`, by hand): choose another
            setup_reason = (f"The configured model {path} is no longer on disk: choose one below "
                            f"(the choice replaces [model] path in {paths.config_file()}).")
            path = ""
    overrides = overrides or LoadOverrides()
    settings = overrides.apply(LoadSettings()) if model else config.model.load_settings(overrides)
    store = ConversationStore()
    return LocalChatApp(path or None, config=config, store=store, load_settings=settings,
                        overrides=overrides, setup_reason=setup_reason)
