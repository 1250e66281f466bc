"""The real engine: llama.cpp through llama-cpp-python.

Every load setting is explicit (llama-cpp-python would otherwise give n_ctx=512 and its own
thread guess). Replies stream token by token with the GGUF's own chat template; the KV cache is
kept between turns, so turn N evaluates only the tokens after the longest common prefix with what
is already in the cache (the prompt keeps the cache's own tokens for text they already spell,
engine/cache.py). Tokens are drawn by llama.cpp's own sampler chain in a loop of two C calls per
token (engine/sampler.py, engine/tokenloop.py); llama-cpp-python's ``Llama`` only loads the
model, tokenizes and evaluates prompts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from localchat.engine import logcapture
from localchat.engine.cache import reuse_cached_tokens
from localchat.engine.fit import fit_messages
from localchat.engine.loading import FileStamp, check_unchanged, choose_mmap, load_error
from localchat.engine.sampler import SamplerChain
from localchat.engine.text import Utf8Stream, fallback_template
from localchat.engine.thinking import (
    OPEN,
    ThinkingSplitter,
    answer_only,
    prompt_opens_thinking,
    template_thinking,
)
from localchat.engine.tokenloop import Stopped, TokenLoop
from localchat.engine.types import (
    FinishReason,
    Message,
    ModelInfo,
    ReplyEvent,
    ReplyStats,
    Sampling,
    TextChunk,
)
from localchat.errors import LocalChatError
from localchat.gguffile import check_complete
from localchat.ggufmeta import quant_label_from_filename
from localchat.loadsettings import LoadSettings, ctx_problem


def default_generation_threads() -> int:
    """Physical cores: decode is memory-bound and hyperthreads only contend (llama.cpp's own
    default). ``localchat bench --threads`` measures it on a given machine."""
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def default_batch_threads() -> int:
    """Logical cores: prompt processing is compute-bound and gains from every thread."""
    return os.cpu_count() or 1


class LlamaEngine:
    """A loaded GGUF model. One reply at a time; ``chat`` is a generator of reply events."""

    def __init__(self, path: str | Path, settings: LoadSettings | None = None) -> None:
        settings = settings or LoadSettings()
        self._path = Path(path).expanduser()
        header = check_complete(self._path)  # missing / not GGUF / truncated: ModelFileError
        problem = ctx_problem(settings.n_ctx)
        if problem:
            raise problem
        import llama_cpp

        self._stamp = FileStamp.of(self._path)
        from localchat.engine.rpc import add_workers, local_gpu

        gpu_offload = local_gpu()
        n_gpu_layers = settings.n_gpu_layers
        if settings.rpc_workers:
            add_workers(settings.rpc_workers)  # unreachable, or no RPC in this build: one line
            # the workers are GPU-type devices to llama.cpp: with none of the layers they idle
            n_gpu_layers = n_gpu_layers or -1
            gpu_offload = True
            settings = dataclasses.replace(settings, n_gpu_layers=n_gpu_layers)
        use_mmap = choose_mmap(header, settings, gpu_offload)

        logcapture.install()
        # quantized V cache needs flash attention in llama.cpp; turn it on rather than fail
        flash_attn = settings.flash_attn or settings.kv_type != "f16"
        kv_ggml = {
            "f16": llama_cpp.GGML_TYPE_F16,
            "q8_0": llama_cpp.GGML_TYPE_Q8_0,
            "q4_0": llama_cpp.GGML_TYPE_Q4_0,
        }
        if settings.kv_type not in kv_ggml:
            raise LocalChatError(f"unknown KV cache type {settings.kv_type!r}", "use f16, q8_0 or q4_0")
        n_threads = settings.n_threads or default_generation_threads()
        n_threads_batch = settings.n_threads_batch or default_batch_threads()
        logcapture.clear()
        self._llama: llama_cpp.Llama | None = None
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(self._path),
                n_ctx=settings.n_ctx,
                n_batch=settings.n_batch,
                n_ubatch=settings.n_ubatch,
                n_gpu_layers=n_gpu_layers,
                n_threads=n_threads,
                n_threads_batch=n_threads_batch,
                flash_attn=flash_attn,
                type_k=kv_ggml[settings.kv_type],
                type_v=kv_ggml[settings.kv_type],
                use_mmap=use_mmap,
                # window-sized cache on sliding-window layers (gemma2/3): llama.cpp's default
                # (swa_full=true) sizes them to the whole context, 5x the memory for gemma-3
                swa_full=False,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            on_gpu = gpu_offload and n_gpu_layers != 0
            raise load_error(self._path, header, settings, flash_attn, on_gpu, exc) from exc
        buffers = logcapture.parse_buffers(logcapture.buffer_lines())
        self._n_ctx = self._llm.n_ctx()
        template = header.chat_template or fallback_template(header.architecture)
        self._formatter = self._make_formatter(template)
        self._thinking = template_thinking(template)
        self._busy = threading.Lock()
        swa = header.arch_value("attention.sliding_window")
        self._loop = TokenLoop(self._llm, int(swa) if isinstance(swa, int) and swa > 0 else 0)
        self._info = ModelInfo(
            path=str(self._path),
            name=header.name or self._path.stem,
            architecture=header.architecture,
            quant=header.quant or quant_label_from_filename(self._path.name),
            size_bytes=self._path.stat().st_size,
            n_ctx=self._n_ctx,
            n_ctx_train=int(header.arch_value("context_length", 0) or 0),
            n_layers=int(header.arch_value("block_count", 0) or 0),
            n_gpu_layers=n_gpu_layers,
            kv_type=settings.kv_type,
            flash_attn=flash_attn,
            n_threads=n_threads,
            n_threads_batch=n_threads_batch,
            use_mmap=use_mmap,
            allocated_weights_bytes=buffers.weights_bytes,
            allocated_kv_bytes=buffers.kv_bytes,
            allocated_compute_bytes=buffers.compute_bytes,
            thinking=self._thinking,
            rpc_workers=settings.rpc_workers,
        )

    # ----------------------------------------------------------------- loading helpers
    def _make_formatter(self, template: str) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        eos = llm._model.token_get_text(eos_id) if eos_id != -1 else ""
        bos = llm._model.token_get_text(bos_id) if bos_id != -1 else ""
        return Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)

    # ----------------------------------------------------------------- public API
    @property
    def _llm(self) -> Any:  # llama_cpp.Llama, once loaded and until close()
        if self._llama is None:
            raise LocalChatError("the model was unloaded", "load a model first")
        return self._llama

    @property
    def info(self) -> ModelInfo:
        return self._info

    def render_prompt(self, messages: Sequence[Message], enable_thinking: bool | None = None) -> str:
        """The prompt text the chat template makes of ``messages``, generation prompt included.
        Earlier replies go back without their thinking (engine/thinking.py). A conversation that
        ends with an assistant message continues it: the generation prompt, then that message's
        text with its turn left open (a reply cut off at max tokens, extended in place)."""
        extra = {"enable_thinking": enable_thinking} if enable_thinking is not None else {}
        cont = messages[-1].content if messages and messages[-1].role == "assistant" else None
        history = messages[:-1] if cont is not None else messages
        try:
            prompt = str(self._formatter(
                messages=[{"role": m.role,
                           "content": answer_only(m.content) if m.role == "assistant" else m.content}
                          for m in history],
                **extra,
            ).prompt)
        except ValueError as exc:  # the template's raise_exception, e.g. roles must alternate
            raise LocalChatError(f"the model's chat template rejected the conversation: {exc}") from exc
        if cont is None:
            return prompt
        if prompt_opens_thinking(prompt) and cont.startswith(OPEN):
            cont = cont[len(OPEN):].lstrip("\n")  # the template wrote the tag already
        return prompt + cont

    def tokenize(self, text: bytes) -> list[int]:
        # the template renders BOS itself where the model wants one (as llama-cpp-python does)
        return list(self._llm.tokenize(text, add_bos=False, special=True))

    def tokenize_messages(self, messages: Sequence[Message],
                          enable_thinking: bool | None = None) -> list[int]:
        """The prompt tokens for ``messages`` with the generation prompt appended."""
        return self.tokenize(self.render_prompt(messages, enable_thinking).encode("utf-8"))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenize_messages(messages))

    def token_piece(self, token: int, special: bool = False) -> bytes:
        """The bytes of one token; ``special``: control tokens as their text (``<|im_end|>``)."""
        return self._loop.piece(token, special)

    def _prompt_tokens(self, messages: Sequence[Message], tokens: list[int],
                       enable_thinking: bool | None) -> list[int]:
        """``tokens`` with the KV cache's own tokens standing for the text they already spell
        (the previous reply as generated, not as it tokenizes back): see engine/cache.py."""
        cached = self._loop.cached()
        prompt = self.render_prompt(messages, enable_thinking).encode("utf-8")
        return reuse_cached_tokens(cached, tokens, prompt, lambda t: self.token_piece(t, special=True),
                                   self.tokenize)

    def chat(
        self,
        messages: Sequence[Message],
        sampling: Sampling | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[ReplyEvent]:
        if not self._busy.acquire(blocking=False):
            raise LocalChatError("a reply is already being generated", "stop it first (Esc)")
        try:
            yield from self._generate(messages, sampling or Sampling(), cancel)
        finally:
            self._busy.release()

    def interrupt(self) -> None:
        """Stop the reply under way at once, part way through the decode in progress (a token,
        or the prompt), rather than after it; call it after setting the reply's cancel event
        (which alone stops it at the next token). Safe from any thread."""
        loop = getattr(self, "_loop", None)
        if loop is not None:
            loop.stop()

    def close(self) -> None:
        llama = getattr(self, "_llama", None)
        if llama is not None:
            self._loop.close()
            self._llama = None
            llama.close()

    # ----------------------------------------------------------------- generation
    def _generate(
        self, messages: Sequence[Message], sampling: Sampling, cancel: threading.Event | None
    ) -> Iterator[ReplyEvent]:
        import llama_cpp

        t_start = time.perf_counter()
        self._loop.go()  # a stop meant for an earlier reply is not this one's
        if cancel is not None and cancel.is_set():
            self._loop.stop()  # stopped before it began: not even the prompt is evaluated
        if self._info.use_mmap:  # a mapped file that changed would fault (SIGBUS) mid-reply
            check_unchanged(self._path, self._stamp)
        switch = sampling.enable_thinking if self._thinking == "switchable" else None
        fitted = fit_messages(messages, lambda ms: self.tokenize_messages(ms, switch), self._n_ctx,
                              sampling.max_tokens)
        prompt_tokens = self._prompt_tokens(fitted.messages, fitted.tokens, switch)
        llm, loop, n_ctx = self._llm, self._loop, self._n_ctx
        max_new = sampling.max_tokens or n_ctx
        stream = Utf8Stream()
        parts: list[str] = []
        splitter = ThinkingSplitter()
        thinking_tokens, t_thought = 0, 0.0
        continuing = bool(messages) and messages[-1].role == "assistant"
        if continuing:
            splitter.feed(messages[-1].content)  # the reply so far: thinking or answering
        elif self._thinking != "none" and prompt_opens_thinking(self.render_prompt(messages[-1:], switch)):
            parts.append(OPEN + "\n")  # the template opened the block: say so in the reply
            splitter.feed(parts[-1])
            yield TextChunk(parts[-1], tokens=0)
        ctx = llm._ctx.ctx
        llama_cpp.llama_perf_context_reset(ctx)
        with contextlib.suppress(Stopped):  # then ``sample`` draws nothing: cancelled, empty
            loop.load_prompt(prompt_tokens)
        completion = unsent = 0  # unsent: tokens whose text has not gone out yet
        finish: FinishReason = "stop"
        saw_eog = False
        t_first = t_last = 0.0
        clock, output, feed = time.perf_counter, loop.output, stream.feed
        track_thinking = self._thinking != "none"
        with SamplerChain(sampling, llm.n_vocab()) as chain:
            chain.accept(prompt_tokens)
            tokens = loop.sample(chain.pointer)
            try:
                for token in tokens:
                    t_last = clock()
                    if not t_first:
                        t_first = t_last
                    piece = output(token)
                    if piece is None:  # end of generation (EOS, end of turn)
                        saw_eog = True
                        break
                    completion += 1
                    unsent += 1
                    text = feed(piece)
                    if splitter.thinking:
                        thinking_tokens += 1
                        t_thought = t_last
                    if text:
                        parts.append(text)
                        yield TextChunk(text, unsent)
                        unsent = 0
                        if track_thinking:
                            splitter.feed(text)
                    if cancel is not None and cancel.is_set():
                        finish = "cancelled"
                        break
                    if completion >= max_new:
                        finish = "length"
                        break
                    if llm.n_tokens + 1 >= n_ctx:
                        finish = "context"
                        break
                else:  # the tokens ran out: ``interrupt`` stopped a decode part way
                    finish = "cancelled"
            finally:
                tokens.close()
        tail = stream.flush()
        if tail:
            parts.append(tail)
            yield TextChunk(tail, unsent)
        t_end = time.perf_counter()
        # llama.cpp's own counter of decoded tokens, minus the generated tokens fed back, is the
        # number of prompt tokens it evaluated now: the proof that the KV cache was reused
        perf = llama_cpp.llama_perf_context(ctx)
        generated_evaluated = completion if saw_eog else max(completion - 1, 0)
        prompt_eval = max(perf.n_p_eval + perf.n_eval - generated_evaluated, 0)
        prompt_s = (t_first or t_end) - t_start
        gen_s = t_last - t_first
        yield ReplyStats(
            prompt_tokens=len(prompt_tokens),
            prompt_eval_tokens=prompt_eval,
            completion_tokens=completion,
            ttft_s=prompt_s,
            prompt_tps=prompt_eval / prompt_s if prompt_s > 0 else 0.0,
            gen_tps=(completion - 1) / gen_s if completion > 1 and gen_s > 0 else 0.0,
            total_s=t_end - t_start,
            finish_reason=finish,
            ctx_used=llm.n_tokens,
            n_ctx=n_ctx,
            dropped_messages=fitted.dropped_messages,
            text="".join(parts),
            thinking_tokens=thinking_tokens,
            thinking_s=max(t_thought - t_start, 0.0) if thinking_tokens else 0.0,
        )
