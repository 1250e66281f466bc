"""The generate worker's loop on its own: write first, then show; checkpoints; pacing."""

from __future__ import annotations

import threading
import time

import pytest

from localchat.engine.types import Message, Sampling, TextChunk
from localchat.tui import generation
from localchat.tui.generation import UiPacer, stream_reply
from localchat.tui.messages import ReplyFinished, ReplyProgress
from tests.tui.scripted import ScriptedEngine


class RecordingStore:
    """Records store writes and posted messages in one timeline."""

    def __init__(self) -> None:
        self.timeline: list[tuple[str, str]] = []

    def update_reply(self, message_id, content: str) -> None:
        self.timeline.append(("write", content))

    def finish_reply(self, message_id, content: str, status: str, stats=None) -> None:
        self.timeline.append((f"finish:{status}", content))

    def delete_messages_from(self, message_id) -> None:
        self.timeline.append(("delete", ""))

    def post(self, message) -> None:
        if isinstance(message, ReplyProgress):
            self.timeline.append(("show", message.text))
        elif isinstance(message, ReplyFinished):
            self.timeline.append((f"shown:{message.status}", message.text))


def run(engine: ScriptedEngine, cancel: threading.Event | None = None) -> RecordingStore:
    store = RecordingStore()
    stream_reply(engine, store, 1, [Message("user", "hi")], Sampling(), cancel or threading.Event(),
                 store.post, ui_thread_id=None)  # no UI thread to pace by: a fixed pace
    return store


def test_every_text_shown_was_written_first(monkeypatch) -> None:
    monkeypatch.setattr(generation, "SHOW_MIN_INTERVAL_S", 0.02)
    store = run(ScriptedEngine(["abcdefgh" * 20], piece_chars=2, delay_s=0.002))
    shows = [i for i, (kind, _) in enumerate(store.timeline) if kind == "show"]
    assert len(shows) >= 3
    for i in shows:
        assert store.timeline[i - 1] == ("write", store.timeline[i][1])
    assert store.timeline[-2:] == [("finish:complete", "abcdefgh" * 20),
                                   ("shown:complete", "abcdefgh" * 20)]


def test_checkpoints_continue_while_the_screen_is_held_back(monkeypatch) -> None:
    monkeypatch.setattr(generation, "SHOW_MIN_INTERVAL_S", 60.0)  # one update, the first
    monkeypatch.setattr(generation, "CHECKPOINT_MAX_INTERVAL_S", 0.05)
    store = run(ScriptedEngine(["x" * 100], piece_chars=1, delay_s=0.004))
    kinds = [kind for kind, _ in store.timeline]
    assert kinds.count("show") == 1 and kinds.count("write") >= 4


def test_a_stopped_reply_is_finished_as_stopped() -> None:
    cancel = threading.Event()
    cancel.set()
    store = run(ScriptedEngine(infinite=True), cancel)
    assert store.timeline[-1] == ("shown:stopped", "word1 ")


def test_pacer_holds_updates_back_while_the_ui_thread_is_busy() -> None:
    pacer = UiPacer(threading.get_ident(), share=0.1, min_interval_s=0.0)
    now = time.perf_counter()
    assert pacer.may_show(now)
    pacer.shown(now)
    busy_until = time.thread_time() + 0.05  # the UI thread works for 50 ms of CPU
    while time.thread_time() < busy_until:
        pass
    assert not pacer.may_show(now + 0.1)  # 50 ms is more than 10% of 0.1 s
    assert pacer.may_show(now + 1.0)  # and less than 10% of 1 s


def test_a_one_off_cost_holds_the_text_still_for_at_most_a_second() -> None:
    pacer = UiPacer(threading.get_ident(), share=0.04, min_interval_s=0.0, max_interval_s=1.0)
    now = time.perf_counter()
    pacer.shown(now)
    busy_until = time.thread_time() + 0.1  # a first render: 100 ms of CPU, 2.5 s at 4%
    while time.thread_time() < busy_until:
        pass
    assert not pacer.may_show(now + 0.9)
    assert pacer.may_show(now + 1.0)


def test_a_backlog_of_progress_collapses_into_the_newest() -> None:
    older, newer = ReplyProgress(7, "Hel", 3, 0.0), ReplyProgress(7, "Hello", 5, 9.0)
    assert older.can_replace(newer)  # the newer one holds all of the older one's text
    assert not older.can_replace(ReplyProgress(8, "Other", 1, 0.0))
    assert not older.can_replace(ReplyFinished(7, "Hello!", "complete", None))


class BatchedEngine(ScriptedEngine):
    """Sends each piece as the engine process sends a fast reply: several tokens' text at once."""

    def chat(self, messages, sampling, cancel=None):
        for event in super().chat(messages, sampling, cancel):
            if isinstance(event, TextChunk):
                event = TextChunk(event.text, tokens=3)
            yield event


def test_progress_counts_the_engines_tokens_not_the_messages(monkeypatch) -> None:
    monkeypatch.setattr(generation, "SHOW_MIN_INTERVAL_S", 0.0)  # every batch shown
    shown: list[tuple[float, ReplyProgress]] = []

    def post(message) -> None:
        if isinstance(message, ReplyProgress):
            shown.append((time.perf_counter(), message))

    engine = BatchedEngine(["abcdefgh" * 10], piece_chars=4, delay_s=0.005)  # 20 batches
    stream_reply(engine, RecordingStore(), 1, [Message("user", "hi")], Sampling(),
                 threading.Event(), post, ui_thread_id=None)
    assert [p.tokens for _, p in shown] == [3 * (i + 1) for i in range(20)]
    # the live speed: the 57 tokens after the first batch over the time they took
    seconds = shown[-1][0] - shown[0][0]
    assert shown[-1][1].live_tps == pytest.approx(57 / seconds, rel=0.2)
