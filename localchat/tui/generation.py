"""The body of the generate worker, kept apart from the screen so it reads as one loop.

Write first, then show: every batch of text goes to the store (``update_reply``) before the
message that displays it is posted, so nothing seen on screen can be lost by a crash. The store
keeps the reply as "partial" until ``finish_reply``; a ``kill -9`` leaves it partial.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from localchat.engine.types import ChatEngine, Message, ReplyStats, Sampling, TextChunk
from localchat.tui.messages import ReplyFinished, ReplyProgress

# Checkpoint batches, each one store write (a committed, fsynced UPDATE: ~0.36 ms, measured in
# tests/history) followed by one screen update. Ten a second reads as smooth streaming, costs
# the generation thread well under 1% in fsyncs, and keeps the Markdown renderer off the CPU the
# model needs (benchmarks/tui_speed.py holds the TUI to 0.97 of the bare engine's tokens/s).
CHECKPOINT_INTERVAL_S = 0.1


class ReplyStore(Protocol):
    def update_reply(self, message_id: Any, content: str) -> None: ...

    def finish_reply(
        self, message_id: Any, content: str, status: str, stats: dict[str, Any] | None = None
    ) -> None: ...


def stats_record(stats: ReplyStats) -> dict[str, Any]:
    """What the store keeps of a reply's stats (everything but the text, which it has)."""
    record = dataclasses.asdict(stats)
    record.pop("text", None)
    return record


def stream_reply(
    engine: ChatEngine,
    store: ReplyStore,
    reply_id: Any,
    messages: Sequence[Message],
    sampling: Sampling,
    cancel: threading.Event,
    post: Callable[[Any], Any],
    interval_s: float | None = None,
) -> None:
    """Run one reply to its end; always leaves the stored reply finished (or raises after
    storing what there was as stopped)."""
    interval_s = CHECKPOINT_INTERVAL_S if interval_s is None else interval_s
    parts: list[str] = []
    pieces = 0
    t_first = 0.0
    last_checkpoint = time.perf_counter()
    stats: ReplyStats | None = None

    def checkpoint() -> None:
        nonlocal last_checkpoint
        text = "".join(parts)
        store.update_reply(reply_id, text)  # written first...
        elapsed = time.perf_counter() - t_first if t_first else 0.0
        live_tps = (pieces - 1) / elapsed if pieces > 1 and elapsed > 0 else 0.0
        post(ReplyProgress(reply_id, text, pieces, live_tps))  # ...then shown
        last_checkpoint = time.perf_counter()

    finished = False
    try:
        for event in engine.chat(messages, sampling, cancel):
            if isinstance(event, TextChunk):
                if not t_first:
                    t_first = time.perf_counter()
                pieces += 1
                parts.append(event.text)
                if time.perf_counter() - last_checkpoint >= interval_s:
                    checkpoint()
            elif isinstance(event, ReplyStats):
                stats = event
        text = "".join(parts)
        stopped = cancel.is_set() or (stats is not None and stats.finish_reason == "cancelled")
        status = "stopped" if stopped else "complete"
        store.finish_reply(reply_id, text, status, stats_record(stats) if stats else None)
        finished = True
        post(ReplyFinished(reply_id, text, status, stats))
    finally:
        if not finished:
            # an engine error mid-reply: keep what was shown, marked stopped; the error itself
            # reaches the screen's Worker.StateChanged handler
            text = "".join(parts)
            store.finish_reply(reply_id, text, "stopped", None)
            post(ReplyFinished(reply_id, text, "stopped", None))
