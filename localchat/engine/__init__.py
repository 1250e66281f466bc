"""The chat engine: the only package that imports llama_cpp (lazily, in ``llama.py``). A model
on another machine is a ``RemoteEngine`` (``remote.py``) behind the same ``ChatEngine``."""

from localchat.engine.target import LoadTarget, RemoteModel
from localchat.engine.types import (
    ChatEngine,
    Message,
    ModelInfo,
    ReplyEvent,
    ReplyStats,
    Sampling,
    TextChunk,
)
from localchat.loadsettings import LoadSettings

__all__ = [
    "ChatEngine",
    "LoadSettings",
    "LoadTarget",
    "Message",
    "ModelInfo",
    "RemoteModel",
    "ReplyEvent",
    "ReplyStats",
    "Sampling",
    "TextChunk",
]


def load_engine(target: LoadTarget, settings: LoadSettings | None = None) -> ChatEngine:
    """Load a GGUF into the real llama.cpp engine (imports llama_cpp on first call), or connect
    to a model on a server (``RemoteModel``; ``settings`` are then the server's business)."""
    if isinstance(target, RemoteModel):
        from localchat.engine.remote import RemoteEngine

        return RemoteEngine(target)
    from localchat.engine.llama import LlamaEngine

    return LlamaEngine(target, settings or LoadSettings())
