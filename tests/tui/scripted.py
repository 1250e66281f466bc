"""A deterministic engine for TUI tests and snapshots: it replies with scripted text in fixed
pieces, implementing the ``ChatEngine`` protocol (no model, no timing in the output)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

from localchat.engine.thinking import ThinkingSplitter
from localchat.engine.types import (
    Message,
    ModelInfo,
    ReplyEvent,
    ReplyStats,
    Sampling,
    TextChunk,
)
from localchat.loadsettings import LoadSettings

DEFAULT_REPLY = (
    "Here is a tiny Python function:\n\n"
    "```python\ndef greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n```\n\n"
    "Call it with **any** name."
)


class ScriptedEngine:
    """Replies with ``replies`` in turn (the last one repeats). ``infinite=True`` streams
    until cancelled; ``delay_s`` paces the pieces (for the Esc test)."""

    def __init__(
        self,
        replies: Sequence[str] = (DEFAULT_REPLY,),
        *,
        n_ctx: int = 2048,
        piece_chars: int = 4,
        delay_s: float = 0.0,
        infinite: bool = False,
        dropped_messages: int = 0,
        finish: str | Sequence[str] = "stop",
        name: str = "Scripted-1B",
        quant: str = "Q4_K_M",
        gen_tps: float = 42.5,
        thinking: str = "none",
    ) -> None:
        self.replies = list(replies)
        self.n_ctx = n_ctx
        self.piece_chars = piece_chars
        self.delay_s = delay_s
        self.infinite = infinite
        self.dropped_messages = dropped_messages
        # "cancelled" plays a reply stopped by the user, for snapshots; "length" one cut off at
        # max tokens (a later call on a conversation ending with that reply continues it); a
        # sequence gives each turn its own
        self.finish = finish
        self.name = name
        self.quant = quant
        self.gen_tps = gen_tps
        self.thinking = thinking  # ModelInfo.thinking: "switchable" offers F3's thinking switch
        self.calls: list[list[Message]] = []
        self.samplings: list[Sampling | None] = []
        self.closed = False
        self.started = threading.Event()

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            path=f"/models/{self.name}-{self.quant}.gguf", name=self.name, architecture="llama",
            quant=self.quant, size_bytes=700_000_000, n_ctx=self.n_ctx, n_ctx_train=8192,
            n_layers=16, n_gpu_layers=0, kv_type="f16", flash_attn=False, n_threads=2,
            n_threads_batch=2, thinking=self.thinking,
        )

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m.content) // 4 + 4 for m in messages)

    def _pieces(self, turn: int) -> Iterator[str]:
        if self.infinite:
            n = 0
            while True:
                n += 1
                yield f"word{n} "
        text = self.replies[min(turn, len(self.replies) - 1)]
        for i in range(0, len(text), self.piece_chars):
            yield text[i : i + self.piece_chars]

    def chat(
        self,
        messages: Sequence[Message],
        sampling: Sampling | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[ReplyEvent]:
        turn = len(self.calls)
        self.calls.append(list(messages))
        self.samplings.append(sampling)
        self.started.set()
        parts: list[str] = []
        finish = self.finish if isinstance(self.finish, str) else self.finish[min(turn, len(self.finish) - 1)]
        splitter, thinking_pieces = ThinkingSplitter(), 0
        for piece in self._pieces(turn):
            if any(kind == "thinking" for kind, _ in splitter.feed(piece)):
                thinking_pieces += 1
            if self.delay_s:
                time.sleep(self.delay_s)
            parts.append(piece)
            yield TextChunk(piece)
            if cancel is not None and cancel.is_set():
                finish = "cancelled"
                break
        prompt = self.count_tokens(messages)
        yield ReplyStats(
            prompt_tokens=prompt, prompt_eval_tokens=prompt, completion_tokens=len(parts),
            ttft_s=0.05, prompt_tps=1200.0, gen_tps=self.gen_tps, total_s=1.0,
            finish_reason=finish,  # type: ignore[arg-type]
            ctx_used=prompt + len(parts), n_ctx=self.n_ctx,
            dropped_messages=self.dropped_messages, text="".join(parts),
            # a fixed time, so snapshots are stable
            thinking_tokens=thinking_pieces, thinking_s=2.5 if thinking_pieces else 0.0,
        )

    def close(self) -> None:
        self.closed = True


def scripted_loader(engine: ScriptedEngine):
    def load(path: str, settings: LoadSettings) -> ScriptedEngine:
        return engine

    return load
