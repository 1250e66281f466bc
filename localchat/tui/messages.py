"""Messages the worker threads post (never widget calls from a thread).

Model messages: the load worker posts ``ModelLoaded`` to the app, which forwards a copy to every
screen in the stack; ``ModelLoading`` and ``ModelLoadFailed`` reach the screens the same way.
Reply messages go from the generate worker to the chat screen. ``ReplyProgress`` carries the
whole text so far, so a backlog of them collapses into the newest (``can_replace``) without
losing text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from localchat.engine.target import LoadTarget
    from localchat.engine.types import ChatEngine, ReplyStats
    from localchat.loadsettings import LoadSettings


class ModelLoading(Message, bubble=False):
    """A model started loading (``app.switch_model``); the previous one is being unloaded."""

    def __init__(self, path: LoadTarget) -> None:
        super().__init__()
        self.path = path


class ModelLoaded(Message, bubble=False):
    """The load worker finished: ``engine`` is ready for chat (and is ``app.engine``)."""

    def __init__(self, engine: ChatEngine, path: LoadTarget, settings: LoadSettings) -> None:
        super().__init__()
        self.engine = engine
        self.path = path
        self.settings = settings


class ModelLoadFailed(Message, bubble=False):
    """The model at ``path`` did not load; ``error`` says why (no model is loaded now)."""

    def __init__(self, path: LoadTarget, error: BaseException) -> None:
        super().__init__()
        self.path = path
        self.error = error


class ReplyProgress(Message, bubble=False):
    """The reply text so far, already written to the store (write first, then show)."""

    def __init__(self, reply_id: int, text: str, tokens: int, live_tps: float) -> None:
        super().__init__()
        self.reply_id = reply_id
        self.text = text
        self.tokens = tokens  # generated tokens so far (the engine's count)
        self.live_tps = live_tps

    def can_replace(self, message: Message) -> bool:
        # a newer progress message of the same reply holds all of this one's text
        return isinstance(message, ReplyProgress) and message.reply_id == self.reply_id


class ReplyFinished(Message, bubble=False):
    """The reply ended (finished or stopped) and is stored with its final status."""

    def __init__(self, reply_id: int, text: str, status: str, stats: ReplyStats | None) -> None:
        super().__init__()
        self.reply_id = reply_id
        self.text = text
        self.status = status  # "complete" | "cut" (max tokens, full context) | "stopped" |
        # "failed" (no text; not stored)
        self.stats = stats
