"""The token loop on llama.cpp's low-level API: a prompt into the KV cache, then one
``llama_decode`` of a one-token batch and one ``llama_sampler_sample`` per token.

llama-cpp-python's ``Llama.generate`` does the same work with Python around every token (it
trims the cache, refills a batch in a Python loop and wraps each call); here the per-token work
is two C calls and a little bookkeeping. The ``Llama`` object stays the owner of the model and
context, and its ``input_ids``/``n_tokens`` stay the record of what the cache holds, so the
prefix match of the next turn (engine/cache.py) reads them as before.
"""

from __future__ import annotations

import ctypes
from collections.abc import Generator, Sequence
from typing import Any

from localchat.engine.cache import common_prefix
from localchat.errors import LocalChatError

PIECE_BYTES = 256  # longer than any token's text in the vocabularies llama.cpp ships


class TokenLoop:
    """Decoding and sampling for one loaded ``llama_cpp.Llama``; ``close`` frees its batch."""

    def __init__(self, llm: Any, n_swa: int = 0) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._llm = llm
        self._ctx = llm._ctx.ctx
        self._vocab = llm._model.vocab
        self._n_swa = n_swa
        self._piece_buf = ctypes.create_string_buffer(PIECE_BYTES)
        # a token's text, or None for a token that ends generation; the vocabulary is fixed, so
        # each token is asked of llama.cpp once
        self._out: dict[int, bytes | None] = {}
        self._batch: Any = llama_cpp.llama_batch_init(1, 0, 1)
        self._batch.n_tokens = 1
        self._batch.seq_id[0][0] = 0
        self._batch.n_seq_id[0] = 1
        self._batch.logits[0] = True

    def close(self) -> None:
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None

    # ----------------------------------------------------------------- tokens and text
    def piece(self, token: int, special: bool = False) -> bytes:
        """The bytes of one token; ``special``: control tokens as their text (``<|im_end|>``)."""
        n = self._lib.llama_token_to_piece(self._vocab, token, self._piece_buf, PIECE_BYTES, 0,
                                           special)
        return self._piece_buf.raw[:n] if n > 0 else b""

    def output(self, token: int) -> bytes | None:
        """What a generated token adds to the reply: its bytes, or None when it ends the reply."""
        try:
            return self._out[token]
        except KeyError:
            out = None if self._lib.llama_vocab_is_eog(self._vocab, token) else self.piece(token)
            self._out[token] = out
            return out

    def cached(self) -> list[int]:
        """The tokens the KV cache holds, in order."""
        return self._llm.input_ids[: self._llm.n_tokens].tolist()  # type: ignore[no-any-return]

    # ----------------------------------------------------------------- prompt
    def load_prompt(self, tokens: Sequence[int]) -> None:
        """Make the cache hold ``tokens``: keep the longest prefix it already holds, evaluate
        the rest (at least the last token, whose logits the first sample reads)."""
        llm = self._llm
        keep = max(min(common_prefix(self.cached(), tokens), len(tokens) - 1), 0)
        if keep < llm.n_tokens and not self._can_roll_back(keep):
            keep = 0
        memory = self._lib.llama_get_memory(self._ctx)
        if not self._lib.llama_memory_seq_rm(memory, 0, keep, -1):
            keep = 0  # this cache cannot drop part of a sequence: start over
            self._lib.llama_memory_clear(memory, True)
        llm.n_tokens = keep
        try:
            llm.eval(list(tokens[keep:]))
        except RuntimeError as exc:  # llama_decode's status
            raise decode_error(str(exc)) from exc

    def _can_roll_back(self, n_past: int) -> bool:
        """With a window-sized SWA cache, positions older than the window are gone, so rolling
        the cache back to a shorter prefix would attend to missing tokens: then start over
        (llama.cpp's server applies the same rule: pos_min > n_past - n_swa)."""
        if not self._n_swa:
            return True
        memory = self._lib.llama_get_memory(self._ctx)
        return bool(self._lib.llama_memory_seq_pos_min(memory, 0) <= max(0, n_past - self._n_swa))

    # ----------------------------------------------------------------- generation
    def sample(self, sampler: Any) -> Generator[int, None, None]:
        """Tokens drawn by ``sampler`` (a llama.cpp chain) after ``load_prompt``. Each token is
        decoded into the cache when the next one is asked for, so a caller that stops after a
        token leaves it out of the cache (as ``Llama.generate`` did)."""
        lib, ctx, llm, batch = self._lib, self._ctx, self._llm, self._batch
        decode, draw = lib.llama_decode, lib.llama_sampler_sample
        token_slot, pos_slot, input_ids = batch.token, batch.pos, llm.input_ids
        while True:
            token = draw(sampler, ctx, -1)
            yield token
            n = llm.n_tokens
            token_slot[0] = token
            pos_slot[0] = n
            status = decode(ctx, batch)
            if status != 0:
                raise decode_error(f"llama_decode returned {status}")
            input_ids[n] = token
            llm.n_tokens = n + 1


def decode_error(detail: str) -> LocalChatError:
    return LocalChatError(f"llama.cpp could not evaluate the next tokens ({detail})",
                          "start a new conversation, or reload the model with a larger --ctx; "
                          "LOCALCHAT_DEBUG=1 shows llama.cpp's log")
