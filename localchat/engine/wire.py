"""What the app and the engine host process say to each other (``process.py`` and ``host.py``).

Each message is a tuple whose first item names it, sent with ``multiprocessing.connection``'s
framing (a length, then a pickle) over two one-way pipes, one per direction; the host's own
stdout and stderr stay free for what llama.cpp prints itself (an assert before an abort).
Both ends are this package, run by the same user: pickling the engine's dataclasses is safe here.

app → host                               host → app
  (LOAD, path, LoadSettings)               (LOADED, ModelInfo) | (ERROR, None, ErrorRecord)
  (CHAT, id, [Message], Sampling)          (TEXT, id, str, tokens)... then (STATS, id,
                                           ReplyStats) or (ERROR, id, ErrorRecord); a TEXT
                                           holds the text of one or more generated tokens
                                           (host.PieceBatcher), ``tokens`` says how many
  (COUNT, id, [Message])                   (COUNT, id, int) | (ERROR, id, ErrorRecord)
  (CANCEL, id)                             the reply ends with finish_reason "cancelled"
  (CLOSE,)                                 the host unloads the model and exits
                                           (LOG, line) at any time: llama.cpp's log
"""

from __future__ import annotations

from dataclasses import dataclass

from localchat.errors import LocalChatError

LOAD, LOADED, CHAT, TEXT, STATS = "load", "loaded", "chat", "text", "stats"
COUNT, CANCEL, CLOSE, ERROR, LOG = "count", "cancel", "close", "error", "log"


@dataclass(frozen=True)
class ErrorRecord:
    """An exception raised in the host, as plain data: a ``LocalChatError`` subclass comes back
    as the same class with the same message and hint; anything else as a ``RuntimeError``."""

    module: str
    name: str
    message: str
    hint: str | None = None


def error_record(exc: BaseException) -> ErrorRecord:
    if isinstance(exc, LocalChatError):
        return ErrorRecord(type(exc).__module__, type(exc).__qualname__, exc.message, exc.hint)
    return ErrorRecord(type(exc).__module__, type(exc).__qualname__, str(exc))


def rebuild_error(record: ErrorRecord) -> Exception:
    """The exception ``record`` describes, raised again on this side. Only ``localchat.errors``
    is searched for the class: importing the module an exception came from could import
    llama_cpp into the app."""
    from localchat import errors

    cls = getattr(errors, record.name, None) if record.module == errors.__name__ else None
    if isinstance(cls, type) and issubclass(cls, LocalChatError):
        return cls(record.message, record.hint)
    return RuntimeError(f"{record.name} in the engine process: {record.message}")
