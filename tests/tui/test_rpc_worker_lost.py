"""A model pooled over two real RPC workers on 127.0.0.1 (``localchat --rpc``): one worker is
killed mid-reply; the chat keeps the partial reply as stopped and says which worker was lost."""

from __future__ import annotations

import dataclasses

import pytest

from localchat.engine.process import EngineProcess
from tests.rpc.conftest import rpc_build, workers  # noqa: F401  (fixtures)
from tests.tui.conftest import SIZE, notices, ready, real_app, send, streaming_reply, wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

STORY = "Write a very long story about a dragon and a knight."
SLOW_S = 90.0


async def test_a_lost_worker_is_named_and_the_partial_reply_kept(smollm2_path, workers) -> None:  # noqa: F811
    first, second = workers
    app = real_app(str(smollm2_path), max_tokens=900)
    app.config = dataclasses.replace(app.config, rpc_workers=(first.endpoint, second.endpoint))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        assert isinstance(app.engine, EngineProcess)
        assert app.engine.info.rpc_workers == (first.endpoint, second.endpoint)
        await send(pilot, STORY)
        await wait_until(pilot, lambda: (v := streaming_reply(screen)) and len(v.content) > 40,
                         what="the story to start", timeout_s=SLOW_S)
        second.kill()
        await wait_until(pilot, lambda: not screen.generating, what="the reply to end", timeout_s=SLOW_S)
        reply = screen.message_views("assistant")[-1]
        stored = app.store.get(screen.conversation_id).messages
        assert reply.status == "stopped" and len(reply.content) > 40
        assert stored[-1].status == "stopped" and stored[-1].content == reply.content
        note = await wait_until(pilot, lambda: "model process ended" in notices(app) and notices(app),
                                what="the notification")
        assert f"lost the RPC worker {second.endpoint}" in note.replace("\n", " ")
        assert first.endpoint not in note
