"""The chat on the real SmolLM2 model through llama.cpp (short replies keep these quick)."""

from __future__ import annotations

import pytest

from tests.tui.conftest import SIZE, ready, real_app, reply_done, send, wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_real_reply_streams_in_with_tokens_per_second(smollm2_path) -> None:
    app = real_app(str(smollm2_path), max_tokens=24)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert "Q4_1 · GPU layers 0/30" in str(screen.query_one("#status-model").render())
        await send(pilot, "What is the capital of France?")
        reply = await reply_done(pilot)
        assert reply.content.strip()
        speed = str(screen.query_one("#status-speed").render())
        assert "gen " in speed and " t/s" in speed and "TTFT" in speed
        assert "/1024" in str(screen.query_one("#status-ctx").render())
        stored = app.store.get(screen.conversation_id).messages
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[1].status == "complete" and stored[1].content == reply.content
        assert stored[1].stats["gen_tps"] > 0


async def test_real_escape_stops_a_long_reply_and_keeps_it(smollm2_path) -> None:
    app = real_app(str(smollm2_path), max_tokens=900)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Write a very long story about a dragon and a knight.")
        await wait_until(pilot, lambda: screen._reply and len(screen._reply.content) > 40,
                         what="the story to start")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.generating, what="the reply to stop")
        reply = screen.message_views("assistant")[-1]
        stored = app.store.get(screen.conversation_id).messages[-1]
        assert reply.status == "stopped" and stored.status == "stopped"
        assert stored.content == reply.content and len(stored.content) > 40
        assert stored.stats["finish_reason"] == "cancelled"
        assert stored.stats["completion_tokens"] < 900
