"""One error type for everything the user can fix.

The core raises these; the CLI prints ``str(error)`` as one line on stderr and exits 2, the TUI
shows it as a notification. ``LOCALCHAT_DEBUG=1`` makes the CLI re-raise for a traceback.
"""

from __future__ import annotations


class LocalChatError(Exception):
    """An error the user can act on: ``message`` says what happened, ``hint`` what to do."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}: {self.hint}"
        return self.message


class ModelFileError(LocalChatError):
    """A model file is missing, not GGUF, truncated, or cannot be loaded by this llama.cpp."""


class InsufficientMemoryError(LocalChatError):
    """llama.cpp could not allocate what a model or its context needs."""


class ContextOverflowError(LocalChatError):
    """A single message does not fit in the context window even after dropping old turns."""


class ConfigError(LocalChatError):
    """The config file cannot be read or holds a bad value."""


class DownloadError(LocalChatError):
    """A download failed: network, auth, disk space, or verification."""


class HubUnreachableError(DownloadError):
    """The Hugging Face Hub (or HF_ENDPOINT) cannot be reached, or HF_HUB_OFFLINE is set."""


class NotFoundError(LocalChatError):
    """A model, quant level, repository or conversation that does not exist."""


class StoreError(LocalChatError):
    """The conversation database cannot be opened or written."""


class EngineCrashed(LocalChatError):
    """The process running the model ended on its own (killed, aborted by llama.cpp, out of
    memory). ``reason`` says how (``"killed by SIGKILL"``), ``last_log`` is the last line
    llama.cpp (or the process) wrote before it ended, "" when there was none; ``lost_workers``
    the llama.cpp RPC workers (host:port) that stopped accepting connections, when a pool's
    worker went away."""

    def __init__(self, message: str, hint: str | None = None, *, reason: str = "",
                 last_log: str = "", lost_workers: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.reason = reason
        self.last_log = last_log
        self.lost_workers = lost_workers


class EndpointError(LocalChatError):
    """A server with an OpenAI-compatible API (``[[endpoints]]``, ``--endpoint``) refused or failed
    a request; its text never holds the API key."""


class EndpointUnreachableError(EndpointError):
    """The server cannot be reached: connection refused, a name that does not resolve, no answer."""


class EndpointAuthError(EndpointError):
    """The server refused the API key (HTTP 401 or 403), or wants one and none was sent."""


class EndpointModelNotFoundError(EndpointError, NotFoundError):
    """The server does not serve the model asked for (HTTP 404, or not in its ``/v1/models``)."""


class EndpointClosedError(EndpointError):
    """The server ended a reply before it was finished (closed the connection, stopped sending,
    or sent an error mid-stream); the text so far is kept as a stopped reply."""
