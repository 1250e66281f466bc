"""llama.cpp's own sampler chain, built from ``Sampling``: every token is chosen in C.

The chain is llama.cpp's default order (common/sampling.cpp): repeat penalty, top-k, top-p,
min-p, temperature, then a draw from what is left; temperature 0 picks the likeliest token.
A chain is made per reply, so a fixed seed gives the same reply again; no seed draws one at
random (``LLAMA_DEFAULT_SEED``). Samplers that would change nothing (repeat penalty 1.0) are
left out rather than run for every token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localchat.engine.types import Sampling

# how many recent tokens the repeat penalty looks at (llama.cpp's and llama-cpp-python's default)
PENALTY_LAST_N = 64


class SamplerChain:
    """A llama.cpp sampler chain for one reply; ``close`` frees it."""

    def __init__(self, sampling: Sampling, n_vocab: int) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.pointer: Any = llama_cpp.llama_sampler_chain_init(
            llama_cpp.llama_sampler_chain_default_params())
        self.penalized = sampling.repeat_penalty != 1.0
        add = self._add
        if self.penalized:
            add(llama_cpp.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N,
                                                       sampling.repeat_penalty, 0.0, 0.0))
        if sampling.temperature <= 0.0:
            add(llama_cpp.llama_sampler_init_greedy())
            return
        add(llama_cpp.llama_sampler_init_top_k(sampling.top_k))
        add(llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
        add(llama_cpp.llama_sampler_init_min_p(sampling.min_p, 1))
        add(llama_cpp.llama_sampler_init_temp(sampling.temperature))
        seed = llama_cpp.LLAMA_DEFAULT_SEED if sampling.seed is None else sampling.seed & 0xFFFFFFFF
        add(llama_cpp.llama_sampler_init_dist(seed))

    def _add(self, sampler: Any) -> None:
        self._lib.llama_sampler_chain_add(self.pointer, sampler)  # the chain owns it now

    def accept(self, tokens: Sequence[int]) -> None:
        """Tell the repeat penalty what came before the reply (the prompt's last tokens)."""
        if self.penalized:
            for token in tokens[-PENALTY_LAST_N:]:
                self._lib.llama_sampler_accept(self.pointer, token)

    def close(self) -> None:
        if self.pointer is not None:
            self._lib.llama_sampler_free(self.pointer)
            self.pointer = None

    def __enter__(self) -> SamplerChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
