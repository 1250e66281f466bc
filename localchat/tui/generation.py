"""The body of the generate worker, kept apart from the screen so it reads as one loop.

Write first, then show: the text goes to the store (``update_reply``) before the message that
displays it is posted, so nothing seen on screen can be lost by a crash. The store keeps the
reply as "partial" until ``finish_reply``; a ``kill -9`` leaves it partial, with the text of the
last checkpoint (at most ``CHECKPOINT_MAX_INTERVAL_S`` behind the model).

Screen updates are paced by what they cost. Each one repaints the growing reply on the UI thread
(about 10 ms of CPU on this project's 2-core test machine, whatever the reply's length: see
widgets/streaming.py), and when the model's threads take every core each of those milliseconds
is taken from them: at a fixed ten updates a second of the older, costlier updates the TUI
generated 20% slower than the bare engine. So after an update that cost the UI thread X seconds
of CPU, the next one waits until X is at most a share of the time passed (``ui_cpu_share``) and
at least ``SHOW_MIN_INTERVAL_S``: with a core to spare the text streams at up to 20 updates a
second; on a machine the model fills, at several. A one-off cost (the reply's first render, a
resize, a garbage collection) would hold the text still for a long time at a 4% share (100 ms of
CPU, 2.5 s), so an update never waits more than ``SHOW_MAX_INTERVAL_S``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from localchat.engine.types import ChatEngine, Message, ReplyStats, Sampling
from localchat.tui.messages import ReplyFinished, ReplyProgress

# a checkpoint is one committed, fsynced UPDATE (~0.36 ms, tests/history::test_checkpoint_cost)
CHECKPOINT_MAX_INTERVAL_S = 0.5
SHOW_MIN_INTERVAL_S = 0.05
SHOW_MAX_INTERVAL_S = 1.0
# When the model's threads take every core, each UI millisecond is taken from them: the TUI ran
# at about 1 - 1.1 x (UI share) of the bare engine's tokens/s (benchmarks/tui_speed.py, 2 cores:
# 3% -> 0.94-0.96, 10% -> 0.87). With a core to spare the UI costs the model less (memory
# bandwidth, the engine process's reader), so it may stream more smoothly.
UI_CPU_SHARE = 0.04
UI_CPU_SHARE_SPARE_CORE = 0.25


def ui_cpu_share(model_threads: int) -> float:
    spare_core = (os.cpu_count() or 1) > model_threads
    return UI_CPU_SHARE_SPARE_CORE if spare_core else UI_CPU_SHARE


class ReplyStore(Protocol):
    def update_reply(self, message_id: int, content: str) -> None: ...

    def finish_reply(
        self, message_id: int, content: str, status: str, stats: dict[str, Any] | None = None
    ) -> None: ...

    def delete_messages_from(self, message_id: int) -> None: ...


def stats_record(stats: ReplyStats) -> dict[str, Any]:
    """What the store keeps of a reply's stats (everything but the text, which it has)."""
    record = dataclasses.asdict(stats)
    record.pop("text", None)
    return record


class UiPacer:
    """When the next screen update may go out, from the UI thread's own CPU clock."""

    def __init__(self, ui_thread_id: int | None, share: float | None = None,
                 min_interval_s: float | None = None, max_interval_s: float | None = None) -> None:
        self.share = UI_CPU_SHARE if share is None else share
        self.min_interval_s = SHOW_MIN_INTERVAL_S if min_interval_s is None else min_interval_s
        self.max_interval_s = SHOW_MAX_INTERVAL_S if max_interval_s is None else max_interval_s
        self._clock: int | None = None
        if ui_thread_id is not None:
            try:
                self._clock = time.pthread_getcpuclockid(ui_thread_id)
            except (AttributeError, OSError):  # not on macOS / Windows: a fixed pace
                self._clock = None
        self._shown_at = 0.0
        self._ui_cpu_at = self._ui_cpu()

    def _ui_cpu(self) -> float:
        return time.clock_gettime(self._clock) if self._clock is not None else 0.0

    def spent(self) -> float:
        """The UI thread's CPU seconds since the last update went out (0 where unknown)."""
        return self._ui_cpu() - self._ui_cpu_at

    def may_show(self, now: float) -> bool:
        since = now - self._shown_at
        if since < self.min_interval_s:
            return False
        if since >= self.max_interval_s:
            return True
        return self.spent() <= self.share * since

    def shown(self, now: float) -> None:
        self._shown_at = now
        self._ui_cpu_at = self._ui_cpu()


def stream_reply(
    engine: ChatEngine,
    store: ReplyStore,
    reply_id: int,
    messages: Sequence[Message],
    sampling: Sampling,
    cancel: threading.Event,
    post: Callable[[Any], Any],
    ui_thread_id: int | None = None,
    prefix: str = "",
) -> ReplyStats | None:
    """Run one reply to its end; always leaves the stored reply finished (or raises after
    storing what there was as stopped). Returns the reply's stats (None if the engine sent none).
    ``prefix``: the text the reply already has when it is continued in place (Continue); the
    engine sends only what follows it."""
    pacer = UiPacer(ui_thread_id, share=ui_cpu_share(engine.info.n_threads))
    parts: list[str] = [prefix] if prefix else []
    tokens = first_tokens = 0  # generated tokens so far; with the first text
    t_first = 0.0
    written_at = time.perf_counter()
    stats: ReplyStats | None = None
    finished = False
    try:
        for event in engine.chat(messages, sampling, cancel):
            if isinstance(event, ReplyStats):
                stats = event
                continue
            now = time.perf_counter()
            tokens += event.tokens  # the engine process sends a fast reply's text in batches
            if not t_first:
                t_first, first_tokens = now, tokens
            parts.append(event.text)
            show = pacer.may_show(now)
            if show or now - written_at >= CHECKPOINT_MAX_INTERVAL_S:
                text = "".join(parts)
                store.update_reply(reply_id, text)  # written first...
                written_at = now
                if show:
                    live_tps = (tokens - first_tokens) / (now - t_first) if now > t_first else 0.0
                    post(ReplyProgress(reply_id, text, tokens, live_tps))  # ...then shown
                    pacer.shown(now)
        text = "".join(parts)
        stopped = cancel.is_set() or (stats is not None and stats.finish_reason == "cancelled")
        cut = stats is not None and stats.finish_reason in ("length", "context")
        status = "stopped" if stopped else "cut" if cut else "complete"
        store.finish_reply(reply_id, text, status, stats_record(stats) if stats else None)
        finished = True
        post(ReplyFinished(reply_id, text, status, stats))
        return stats
    finally:
        if not finished:
            # an engine or store error (locked, full, the chat deleted in another window; the
            # error itself reaches the screen's Worker.StateChanged handler): keep what was
            # shown, marked stopped; a reply with no text at all (the message did not fit the
            # context, say) is dropped, so Ctrl+R can try again. The screen hears that the
            # reply ended even when storing that fails too.
            text = "".join(parts)
            try:
                if text:
                    store.finish_reply(reply_id, text, "stopped", None)
                else:
                    store.delete_messages_from(reply_id)
            finally:
                post(ReplyFinished(reply_id, text, "stopped" if text else "failed", None))


class _Discard:
    """A reply store that keeps nothing: compare quants shows its replies, never stores them."""

    def update_reply(self, message_id: int, content: str) -> None:
        pass

    def finish_reply(self, message_id: int, content: str, status: str, stats: Any = None) -> None:
        pass

    def delete_messages_from(self, message_id: int) -> None:
        pass


DISCARD = _Discard()
