"""How the TUI names a model and says what went wrong, in one line each. No widgets and no app
here, so any widget or screen may use them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchat.errors import LocalChatError

if TYPE_CHECKING:
    from localchat.engine.target import LoadTarget
    from localchat.engine.types import ModelInfo
    from localchat.errors import EngineCrashed


def error_text(error: BaseException | None) -> str:
    """A ``LocalChatError`` as it reads; anything else with its type, which says more than the
    text of, say, a ``KeyError``."""
    if isinstance(error, LocalChatError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def crash_words(crash: EngineCrashed) -> str:
    """``The model process ended (killed by SIGKILL …; llama.cpp's last line: …).``"""
    said = f"; llama.cpp's last line: {crash.last_log}" if crash.last_log else ""
    return f"The model process ended ({crash.reason}{said})."


def model_label(target: LoadTarget) -> str:
    """What the status bar says while a model loads: a file's name without ``.gguf``, or
    ``MODEL on HOST``."""
    from localchat.engine.target import target_label

    return target_label(target)


def model_name(info: ModelInfo) -> str:
    """The loaded model's name for people (the same rule as the CLI's)."""
    from localchat.recommend.names import model_display_name

    return model_display_name(info.path, info.name)


def model_where(info: ModelInfo) -> str:
    """What follows the model's name in the header: its quant, or the server it runs on."""
    return f"on {info.host}" if info.host else info.quant
