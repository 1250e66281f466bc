"""The chat on the real SmolLM2 model through llama.cpp (short replies keep these quick)."""

from __future__ import annotations

import json
import os
import re

import pytest

from localchat.download.inuse import holders
from tests.tui.conftest import (
    SIZE,
    ask,
    notices,
    open_store,
    ready,
    real_app,
    send,
    streaming_reply,
    wait_until,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_real_reply_streams_in_with_tokens_per_second(smollm2_path) -> None:
    app = real_app(str(smollm2_path), max_tokens=24)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        # app.engine is set before the screen has handled ModelLoaded: wait for the status bar
        # named as the catalog names it, not by its GGUF header ("Smollm2 135M 8k Lc100K Mix1 Ep2")
        await wait_until(pilot, lambda: "SmolLM2-135M-Instruct · Q4_1 · GPU layers 0/30" in str(
            screen.query_one("#status-model").render()), what="the status bar to name the model")
        reply = await ask(pilot, "What is the capital of France?")
        assert reply.content.strip()
        speed = str(screen.query_one("#status-speed").render())
        assert "gen " in speed and " t/s" in speed and "TTFT" in speed
        assert "/1024" in str(screen.query_one("#status-ctx").render())
        stored = app.store.get(screen.conversation_id).messages
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[1].status == "complete" and stored[1].content == reply.content
        assert stored[1].stats["gen_tps"] > 0
        # the load taught the recommender what llama.cpp really allocated for this model
        await wait_until(pilot, lambda: any(key.endswith(":Q4_1") and row["weights"] > 0
                                            for key, row in app.sources.calibration.load().models.items()),
                         what="the load's calibration to be recorded")


async def test_real_escape_stops_a_long_reply_and_keeps_it(smollm2_path) -> None:
    app = real_app(str(smollm2_path), max_tokens=900)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Write a very long story about a dragon and a knight.")
        await wait_until(pilot, lambda: (v := streaming_reply(screen)) and len(v.content) > 40,
                         what="the story to start")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.generating, what="the reply to stop")
        reply = screen.message_views("assistant")[-1]
        stored = app.store.get(screen.conversation_id).messages[-1]
        assert reply.status == "stopped" and stored.status == "stopped"
        assert stored.content == reply.content and len(stored.content) > 40
        assert stored.stats["finish_reason"] == "cancelled"
        assert stored.stats["completion_tokens"] < 900


async def test_real_chat_is_there_after_reopening_and_search_and_export_find_it(
    smollm2_path, tmp_path, monkeypatch
) -> None:
    app = real_app(str(smollm2_path), max_tokens=24)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        reply = (await ask(pilot, "Tell me about pelicans.")).content
    app.store.close()
    monkeypatch.chdir(tmp_path)
    again = real_app(str(smollm2_path), store=open_store())
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        assert [v.content for v in screen.message_views()] == ["Tell me about pelicans.", reply]
        assert "pelicans" in str(screen.query_one("#chat-title").render())
        word = max(re.findall(r"[A-Za-z]{4,}", reply), key=len)  # a word only the reply has
        await pilot.press("ctrl+f", *word)
        options = screen.query_one("#conversations")
        await wait_until(pilot, lambda: options.option_count >= 1, what=f"a search hit for {word}")
        assert options.get_option_at_index(0).id.startswith(f"{screen.conversation_id}:")
        await pilot.press("f5", "f6")
        exported = await wait_until(pilot, lambda: len(list(tmp_path.glob("localchat-*"))) == 2
                                    and sorted(tmp_path.glob("localchat-*")))
        assert [p.suffix for p in exported] == [".json", ".md"]
        markdown = exported[1].read_text()
        assert "Tell me about pelicans." in markdown and reply.strip() in markdown
        assert json.loads(exported[0].read_text())["messages"][1]["content"] == reply
        await wait_until(pilot, lambda: str(exported[0]) in notices(again), what="the export notice")


async def test_real_switch_to_another_quant_mid_conversation(smollm2_path, smollm2_q8_path) -> None:
    app = real_app(str(smollm2_path), max_tokens=12)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "Name a colour.")
        app.switch_model(str(smollm2_q8_path))
        await wait_until(pilot, lambda: app.engine is not None and app.engine.info.quant == "Q8_0",
                         what="the Q8_0 model")
        assert holders(smollm2_path) == [] and holders(smollm2_q8_path) == [os.getpid()]
        await ask(pilot, "Name another one.")
        assert "Q8_0" in str(screen.query_one("#status-model").render())
        stored = app.store.get(screen.conversation_id).messages
        assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "complete")] * 2
        assert stored[3].content.strip()
    assert holders(smollm2_q8_path) == []


async def test_real_cut_off_reply_continues_in_place(smollm2_path) -> None:
    """max tokens 16: the story is cut off and says so; Ctrl+E grows the same reply (one stored
    message, one view), the model picking up where it stopped with its KV cache reused."""
    app = real_app(str(smollm2_path), max_tokens=16)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        reply = await ask(pilot, "Write a long story about a lighthouse keeper.")
        assert reply.status == "cut" and reply.query_one(".cut-note").display
        first = reply.content
        stored = app.store.get(screen.conversation_id).messages
        assert (stored[-1].status, stored[-1].stats["finish_reason"]) == ("cut", "length")

        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: not screen.generating and reply.content != first,
                         what="the continued reply to end")
        assert screen.message_views("assistant") == [reply]
        assert reply.content.startswith(first) and len(reply.content) > len(first)
        stored = app.store.get(screen.conversation_id).messages
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[-1].content == reply.content
        assert stored[-1].stats["prompt_eval_tokens"] <= 4  # the partial reply came from the cache
