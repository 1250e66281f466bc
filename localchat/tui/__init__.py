"""The chat TUI (Textual). Importing this package never imports llama_cpp: the engine is
loaded in a worker thread once the first screen is up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localchat.config import Config
    from localchat.engine.target import LoadTarget
    from localchat.loadsettings import LoadOverrides
    from localchat.tui.app import LocalChatApp


def run_tui(model: str | None, overrides: LoadOverrides | None = None, endpoint: str | None = None,
            rpc: tuple[str, ...] | None = None) -> int:
    """Open the chat on ``model`` (or the configured model); returns the exit status."""
    app = build_app(model, overrides, endpoint, rpc)
    try:
        app.run()
    finally:
        app.store.close()
    return app.return_code or 0


def build_app(model: str | None, overrides: LoadOverrides | None = None,
              endpoint: str | None = None, rpc: tuple[str, ...] | None = None) -> LocalChatApp:
    """The app for ``localchat [--model PATH] [--ctx N]``: on ``model`` (default settings), else
    on the configured model (its saved settings), else (none configured, or its file is gone) on
    the first-run setup, which says why; ``overrides`` (``--ctx``) on top of each.
    ``localchat --endpoint NAME|URL [--model MODEL]``: on that server's model (``model`` is then
    its name there; without it, the first one the server lists). ``rpc`` (``--rpc``): the llama.cpp
    RPC workers every local model loads over, instead of the config's ``[rpc] workers``."""
    from pathlib import Path

    from localchat import paths
    from localchat.config import load_config
    from localchat.errors import ModelFileError
    from localchat.history import ConversationStore
    from localchat.loadsettings import LoadOverrides, LoadSettings
    from localchat.tui.app import LocalChatApp

    config = load_config()
    if rpc is not None:
        import dataclasses

        config = dataclasses.replace(config, rpc_workers=rpc)
    path: LoadTarget = ""
    setup_reason = ""
    if endpoint is not None or (not model and config.model.endpoint):
        path, setup_reason = _remote_start(config, endpoint, model)
    elif model:
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
    settings = overrides.apply(LoadSettings()) if model and endpoint is None else (
        config.model.load_settings(overrides))
    store = ConversationStore()
    return LocalChatApp(path or None, config=config, store=store, load_settings=settings,
                        overrides=overrides, setup_reason=setup_reason)


def _remote_start(config: Config, endpoint: str | None, model: str | None) -> tuple[LoadTarget, str]:
    """The server model the chat opens on, and why the setup opens instead ("" when it does not):
    ``--endpoint`` (its first model when no ``--model`` names one: the server is asked now, so an
    unreachable one is a one-line error before the chat opens), else the remembered one."""
    from localchat import paths
    from localchat.config import find_endpoint
    from localchat.engine.target import RemoteModel
    from localchat.errors import ConfigError

    if endpoint is not None:
        chosen = find_endpoint(config, endpoint)
        if model:
            return RemoteModel(chosen, model), ""
        from localchat.engine.endpoint import first_model

        return first_model(chosen), ""
    try:
        chosen = find_endpoint(config, config.model.endpoint)
    except ConfigError:
        return "", (f"The configured model runs on the endpoint {config.model.endpoint!r}, which is no "
                    f"longer in {paths.config_file()}: choose a model below.")
    return RemoteModel(chosen, config.model.endpoint_model), ""
