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
    to a model on a server (``RemoteModel``; ``settings`` are then the server's business). A
    model pooled over llama.cpp RPC workers loads in an engine process of its own: a lost worker
    aborts the process it runs in (engine/rpc.py)."""
    if isinstance(target, RemoteModel):
        from localchat.engine.remote import RemoteEngine

        return RemoteEngine(target)
    if settings is not None and settings.rpc_workers:
        from localchat.engine.process import EngineProcess

        return EngineProcess(target, settings)
    from localchat.engine.llama import LlamaEngine

    return LlamaEngine(target, settings or LoadSettings())
