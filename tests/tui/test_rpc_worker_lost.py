"""A model pooled over two real RPC workers on 127.0.0.1 (``localchat --rpc``): one worker is
killed mid-reply; the chat keeps the partial reply as stopped and says which worker was lost."""

from __future__ import annotations

import dataclasses

import pytest

from localchat.engine.process import EngineProcess
from tests.rpc.conftest import rpc_build, workers  # noqa: F401  (fixtures)
from tests.tui.conftest import SIZE, ready, real_app, story_cut_short

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_lost_worker_is_named_and_the_partial_reply_kept(smollm2_path, workers) -> None:  # noqa: F811
    first, second = workers
    app = real_app(str(smollm2_path), max_tokens=900)
    app.config = dataclasses.replace(app.config, rpc_workers=(first.endpoint, second.endpoint))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        assert isinstance(app.engine, EngineProcess)
        assert app.engine.info.rpc_workers == (first.endpoint, second.endpoint)
        note = await story_cut_short(pilot, second.kill)
        assert f"lost the RPC worker {second.endpoint}" in note.replace("\n", " ")
        assert first.endpoint not in note
