"""Engine data types and the ``ChatEngine`` protocol. Imports nothing heavy.

The TUI depends on this module only, so snapshot tests can drive it with a scripted engine;
``localchat.engine.llama.LlamaEngine`` is the real implementation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "context"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    max_tokens: int | None = 1024  # None: until the context is full; thinking counts too
    seed: int | None = None
    # the template's thinking switch (Qwen3's enable_thinking); None: the model's default
    enable_thinking: bool | None = None


@dataclass(frozen=True)
class ModelInfo:
    path: str  # the GGUF file; for a model on a server, its name there
    name: str
    architecture: str
    quant: str
    size_bytes: int
    n_ctx: int
    n_ctx_train: int
    n_layers: int
    n_gpu_layers: int
    kv_type: str
    flash_attn: bool
    n_threads: int
    n_threads_batch: int
    use_mmap: bool = True  # how the weights were loaded: mapped from the file, or read into RAM
    # what llama.cpp actually allocated at load (for calibration), bytes; 0 when unknown
    allocated_weights_bytes: int = 0
    allocated_kv_bytes: int = 0
    allocated_compute_bytes: int = 0
    # "switchable" (the template has a thinking switch), "always" (it thinks, no switch), "none"
    thinking: str = "none"
    # where it runs: "" on this machine, else the server's endpoint name ("home", "10.0.0.5:8080");
    # its size, layers and threads are then 0 (the server's business) and n_ctx 0 when unknown
    host: str = ""
    # llama.cpp RPC workers that hold some of its layers (host:port); () when all is here
    rpc_workers: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextChunk:
    """A piece of reply text; always whole characters (never half a UTF-8 sequence)."""

    text: str
    # the generated tokens this text came from: 1 mostly; more where a character took several
    # tokens or the engine process sent several tokens' text at once; 0 for text the engine
    # adds itself (the ``<think>`` a template opened)
    tokens: int = 1


@dataclass(frozen=True)
class ReplyStats:
    """Sent once, last, for every reply (finished, stopped or cancelled)."""

    prompt_tokens: int  # tokens of the whole prompt in context
    prompt_eval_tokens: int  # of those, how many llama.cpp evaluated now (the rest: KV cache)
    completion_tokens: int
    ttft_s: float
    prompt_tps: float
    gen_tps: float
    total_s: float
    finish_reason: FinishReason
    ctx_used: int  # tokens in the context after the reply
    n_ctx: int
    dropped_messages: int = 0  # oldest turns left out to fit the context (never the system)
    text: str = ""  # the whole reply text, a thinking block included (engine/thinking.py)
    thinking_tokens: int = 0  # of completion_tokens, those spent thinking
    thinking_s: float = 0.0  # time spent thinking
    # the token counts are the client's count of text pieces, not the engine's (a server that
    # sent no usage): the speeds are approximate
    approximate: bool = False


ReplyEvent = TextChunk | ReplyStats


@runtime_checkable
class ChatEngine(Protocol):
    """A loaded model that streams chat replies."""

    @property
    def info(self) -> ModelInfo: ...

    def chat(
        self,
        messages: Sequence[Message],
        sampling: Sampling | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[ReplyEvent]:
        """Stream TextChunk events, then exactly one ReplyStats. Setting ``cancel`` stops the
        reply after the current token; the text so far is kept and finish_reason="cancelled".
        Messages that end with an assistant message continue it (its text is not repeated)."""
        ...

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the conversation takes in the context with the chat template applied."""
        ...

    def close(self) -> None: ...
