"""The chat engine: the only package that imports llama_cpp (lazily, in ``llama.py``)."""

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
    "Message",
    "ModelInfo",
    "ReplyEvent",
    "ReplyStats",
    "Sampling",
    "TextChunk",
]


def load_engine(path: str, settings: LoadSettings | None = None) -> ChatEngine:
    """Load a GGUF into the real llama.cpp engine (imports llama_cpp on first call)."""
    from localchat.engine.llama import LlamaEngine

    return LlamaEngine(path, settings or LoadSettings())
