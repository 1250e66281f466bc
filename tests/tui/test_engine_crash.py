"""The model's process dies mid-reply (kill -9): the chat keeps the partial reply as stopped, says
the model process ended and why, and Ctrl+R loads the model again and regenerates."""

from __future__ import annotations

import os
import signal

import pytest

from localchat.engine.process import EngineProcess
from tests.tui.conftest import (
    SIZE,
    SLOW_S,
    ready,
    real_app,
    story_cut_short,
    streaming_reply,
    wait_until,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_killed_engine_process_is_an_event_not_the_end(smollm2_path) -> None:
    app = real_app(str(smollm2_path), max_tokens=900)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        engine = app.engine
        assert isinstance(engine, EngineProcess)  # the TUI's loader runs the model apart
        note = await story_cut_short(pilot, lambda: os.kill(engine.pid, signal.SIGKILL))
        assert "killed by SIGKILL" in note and "Ctrl+R" in note
        assert "model process ended" in str(screen.query_one("#status-speed").render())

        # the app goes on: the sidebar lists the chat
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: "hidden" not in screen.query_one("#sidebar").classes,
                         what="the sidebar")
        # Ctrl+R loads the model again (a new process) and the next reply streams
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.engine, EngineProcess) and app.engine is not engine,
                         what="the model to load again", timeout_s=SLOW_S)
        await wait_until(pilot, lambda: (v := streaming_reply(screen)) and len(v.content) > 40,
                         what="the new reply to stream", timeout_s=SLOW_S)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.generating, what="the new reply to stop", timeout_s=SLOW_S)
        replies = app.store.get(screen.conversation_id).messages
        assert [m.role for m in replies] == ["user", "assistant"]  # regenerated in its place
        assert replies[-1].stats["finish_reason"] == "cancelled"
