"""The token loop on llama.cpp's low-level API: a prompt into the KV cache, then one
``llama_decode`` of a one-token batch and one ``llama_sampler_sample`` per token.

llama-cpp-python's ``Llama.generate`` does the same work with Python around every token (it
trims the cache, refills a batch in a Python loop and wraps each call); here the per-token work
is two C calls and a little bookkeeping. The ``Llama`` object stays the owner of the model and
context, and its ``input_ids``/``n_tokens`` stay the record of what the cache holds, so the
prefix match of the next turn (engine/cache.py) reads them as before.

``TokenLoop.stop`` ends the decode under way part way (``AbortSignal``): a stop need not wait
for the token being computed, nor for the rest of a long prompt.
"""

from __future__ import annotations

import ctypes
from collections.abc import Generator, Sequence
from typing import Any

from localchat.engine.cache import common_prefix
from localchat.errors import LocalChatError

PIECE_BYTES = 256  # longer than any token's text in the vocabularies llama.cpp ships
DECODE_ABORTED = 2  # llama_decode's status when the abort callback said stop


class Stopped(Exception):
    """A prompt's evaluation was stopped part way (``TokenLoop.stop``)."""


class AbortSignal:
    """A flag llama.cpp reads after every node of a graph (``llama_set_abort_callback``): once
    set, the decode under way stops part way and returns ``DECODE_ABORTED``; llama.cpp drops
    what that batch had put in the KV cache (llama_context::decode).

    llama.cpp calls the callback after each of the graph's hundreds of nodes, every token, from
    its compute thread, so it must not be Python (each call would take the GIL). It is
    libc's ``strlen`` over a two-byte buffer: 0 ("go on") while the first byte is NUL, 1 ("stop")
    once it is set; a size_t of 0 or 1 reads as the C ``bool`` the callback returns (its low
    byte, in the return register, on the x86-64 and AArch64 calling conventions)."""

    def __init__(self, lib: Any, ctx: Any) -> None:
        self._flag = ctypes.create_string_buffer(2)
        self._callback = None
        try:
            strlen = ctypes.CDLL(None).strlen  # the C library already loaded (not on Windows)
        except (OSError, TypeError, AttributeError):
            return  # no callback: a stop takes effect after the token under way, as before
        self._callback = lib.ggml_abort_callback(ctypes.cast(strlen, ctypes.c_void_p).value)
        lib.llama_set_abort_callback(ctx, self._callback, ctypes.cast(self._flag, ctypes.c_void_p))

    def set(self) -> None:
        self._flag[0] = b"\x01"

    def clear(self) -> None:
        self._flag[0] = b"\x00"

    def is_set(self) -> bool:
        return self._flag[0] != b"\x00"


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
        self._abort = AbortSignal(llama_cpp, self._ctx)

    def stop(self) -> None:
        """Stop the decode under way within a graph node (safe from any thread): ``sample``
        ends, ``load_prompt`` raises ``Stopped``. ``go`` clears it for the next reply."""
        self._abort.set()

    def go(self) -> None:
        self._abort.clear()

    @property
    def stopped(self) -> bool:
        return self._abort.is_set()

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
            if self.stopped and str(exc).endswith(f" {DECODE_ABORTED}"):
                # the batches before the stopped one are in the cache, and n_tokens says so
                raise Stopped() from exc
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
        token leaves it out of the cache (as ``Llama.generate`` did); so does ``stop`` during
        that decode, which ends the tokens (the only way they end)."""
        lib, ctx, llm, batch = self._lib, self._ctx, self._llm, self._batch
        decode, draw = lib.llama_decode, lib.llama_sampler_sample
        token_slot, pos_slot, input_ids = batch.token, batch.pos, llm.input_ids
        if self.stopped:  # during the prompt: nothing to draw from
            return
        while True:
            token = draw(sampler, ctx, -1)
            yield token
            n = llm.n_tokens
            token_slot[0] = token
            pos_slot[0] = n
            status = decode(ctx, batch)
            if status == DECODE_ABORTED and self.stopped:
                return
            if status != 0:
                raise decode_error(f"llama_decode returned {status}")
            input_ids[n] = token
            llm.n_tokens = n + 1


def decode_error(detail: str) -> LocalChatError:
    return LocalChatError(f"llama.cpp could not evaluate the next tokens ({detail})",
                          "start a new conversation, or reload the model with a larger --ctx; "
                          "LOCALCHAT_DEBUG=1 shows llama.cpp's log")
