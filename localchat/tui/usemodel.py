"""The one way a chosen model gets used: download it if needed, load it through ``ModelHost``
with the settings it was sized for, and remember it once it has loaded.

The first-run setup, the model menu and compare quants all go through here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from localchat.engine.target import LoadTarget, RemoteModel
from localchat.errors import LocalChatError
from localchat.loadsettings import LoadSettings
from localchat.options.option import LocalFile, ModelOption
from localchat.tui.modelhost import ModelHost
from localchat.units import fmt_bytes


def fetch(host: ModelHost, option: ModelOption, then: Callable[[Path], None],
          otherwise: Callable[[], None] | None = None) -> None:
    """Call ``then(path)`` with the option's file, downloading it first (``PullScreen``) when it
    is not on disk; ``otherwise()`` when the download was cancelled or failed (the dialog has
    said why)."""
    source = option.source
    if isinstance(source, LocalFile):
        then(Path(source.path))
        return
    if isinstance(source, RemoteModel):
        raise LocalChatError(f"{source.spec} runs on a server: there is no file to download")
    from localchat.tui.screens.pull import PullScreen

    def pulled(path: Path | None) -> None:
        if path is not None:
            then(path)
        elif otherwise is not None:
            otherwise()

    title = f"Downloading {option.label} ({fmt_bytes(option.candidate.file_bytes)})"
    host.push_screen(PullScreen(source, title=title), pulled)


def use_model(host: ModelHost, option: ModelOption, *,
              loading: Callable[[LoadTarget, LoadSettings], None] | None = None,
              not_downloaded: Callable[[], None] | None = None) -> None:
    """Download ``option`` if needed, then switch the app to it with the settings it was sized
    for (threads and batch as now); the config remembers it once it has loaded. ``loading`` is
    called as the load starts (with what is loading), ``not_downloaded`` when the download did
    not finish. A model on a server has nothing to download: the chat switches to it at once."""
    if option.remote:
        settings = host.load_settings  # the server's own; kept for the next local model
        choice = option.choice("", settings, host.config.model)
        host.switch_model(option.remote, settings, remember=choice)
        if loading is not None:
            loading(option.remote, settings)
        return
    settings = option.load_settings(host.load_settings)

    def load(path: Path) -> None:
        host.switch_model(str(path), settings, remember=option.choice(path, settings))
        if loading is not None:
            loading(str(path), settings)

    fetch(host, option, load, not_downloaded)


def is_loaded_as(host: ModelHost, option: ModelOption) -> bool:
    """The option is the loaded model, loaded with the settings it is sized for now (a server
    model: it is the loaded one)."""
    if option.remote:
        return option.loaded
    wanted, current = option.load_settings(host.load_settings), host.load_settings
    return option.loaded and (wanted.n_ctx, wanted.n_gpu_layers, wanted.kv_type) == (
        current.n_ctx, current.n_gpu_layers, current.kv_type)
