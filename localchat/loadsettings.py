"""How a model is loaded, in one place: the context length's default and limits, the KV cache
types, ``LoadSettings`` and ``LoadOverrides``, and the parsers for what a user types.

The CLI (``--ctx``), the model menu (its context field), the config file (``[model] ctx``) and the
engine all use these; the recommender plans within them. ``config.ModelChoice.load_settings``
turns the configured model into ``LoadSettings``; ``LoadOverrides`` carries what the user asked
for on the command line (``None``: not asked), so a default never passes for a request.

Imports nothing but ``errors``: every layer may use it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, get_args

from localchat.errors import LocalChatError

KvType = Literal["f16", "q8_0", "q4_0"]
KV_TYPES: tuple[str, ...] = get_args(KvType)

DEFAULT_CTX = 8192
# The smallest context anything loads or plans: llama.cpp pads the KV cache to a multiple of 256
# cells anyway (llama_kv_cache: GGML_PAD(n_ctx, 256)), so a smaller one saves no memory and leaves
# a chat template, a system prompt and the reply no room.
MIN_CTX = 256
MAX_CTX = 1 << 24  # the longest trained contexts are 10M tokens (Llama 4 Scout)


@dataclass(frozen=True)
class LoadSettings:
    """Everything that shapes a loaded model, explicit (never llama-cpp-python's defaults)."""

    n_ctx: int = DEFAULT_CTX
    n_gpu_layers: int = 0  # -1: all
    n_threads: int | None = None  # generation threads; None: physical cores
    n_threads_batch: int | None = None  # prompt threads; None: logical cores
    flash_attn: bool = False
    kv_type: KvType = "f16"
    n_batch: int = 512
    n_ubatch: int = 512
    # None: the engine decides (no mmap when llama.cpp repacks weights on the CPU, which would
    # otherwise keep the mapped file and the repacked copy both resident)
    use_mmap: bool | None = None
    # llama.cpp RPC workers ("host:port", rpcpool.py) that take layers beside this machine;
    # with workers, n_gpu_layers 0 means all (0 would leave them idle)
    rpc_workers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadOverrides:
    """What the user asked for (``--ctx``, ``--gpu-layers`` …); ``None`` where they did not."""

    n_ctx: int | None = None
    n_gpu_layers: int | None = None
    n_threads: int | None = None
    kv_type: KvType | None = None
    flash_attn: bool | None = None

    def apply(self, base: LoadSettings) -> LoadSettings:
        asked = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return dataclasses.replace(base, **{k: v for k, v in asked.items() if v is not None})


def kv_type(text: str) -> KvType:
    """A KV cache type from the config or the user; a clear error for anything else."""
    raw = text.strip().lower()
    for known in get_args(KvType):
        if raw == known:
            return known  # type: ignore[no-any-return]
    raise LocalChatError(f"KV cache type {text.strip()!r} is unknown", "use " + ", ".join(KV_TYPES))


def ctx_problem(value: int) -> LocalChatError | None:
    """Why ``value`` is not a context length anything here loads; None when it is fine."""
    if value < MIN_CTX:
        return LocalChatError(f"context length {value} is too small",
                              f"use {MIN_CTX} tokens or more, e.g. {DEFAULT_CTX}")
    if value > MAX_CTX:
        return LocalChatError(f"context length {value} is too large",
                              f"use at most {MAX_CTX} tokens, e.g. {DEFAULT_CTX}")
    return None


def parse_ctx(text: str) -> int:
    """A context length typed by the user: ``8192``, ``8k`` or ``8K``."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    scale = 1024 if raw.endswith("k") else 1
    try:
        value = int(raw.removesuffix("k")) * scale
    except ValueError:
        raise LocalChatError(f"context length {text.strip()!r} is not a number",
                             f"type tokens such as {DEFAULT_CTX} or 8k") from None
    problem = ctx_problem(value)
    if problem:
        raise problem
    return value


def parse_gpu_layers(text: str) -> int | None:
    """GPU layers typed by the user: ``auto`` (or empty) → None, ``all`` → -1, else a count ≥ 0."""
    raw = text.strip().lower()
    if raw in ("", "auto"):
        return None
    if raw in ("all", "-1"):
        return -1
    try:
        value = int(raw)
    except ValueError:
        raise LocalChatError(f"GPU layers {text.strip()!r} is not a number",
                             "type auto (the most that fit), all, or a count such as 20") from None
    if value < 0:
        raise LocalChatError(f"GPU layers {value} is negative", "type auto, all, or 0 and up")
    return value
