"""The model menu (F4) over a pool (``localchat --rpc``): the app asks two real ``localchat
worker`` processes for their memory before its model loads over them, and the menu sizes every
row for the pool, as ``localchat recommend --rpc`` does, while the model holds the workers (a
worker serves one client at a time: asking again then would wait on it). On a fixed small
machine, a model too big for it alone fits across the pool."""

from __future__ import annotations

import dataclasses
import time

import pytest

from localchat.engine.process import EngineProcess
from localchat.recommend import budget_for
from tests.rpc.conftest import rpc_build, workers  # noqa: F401  (fixtures)
from tests.served import free_port
from tests.tui.conftest import SIZE, notices, ready, wait_until
from tests.tui.test_model_menu import fixed_sources, open_menu, real_menu_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_the_menu_sizes_for_the_pool_the_model_runs_on(smollm2_path, workers) -> None:  # noqa: F811
    first, second = workers
    app = real_menu_app(smollm2_path, [smollm2_path])
    app.sources = fixed_sources([smollm2_path], ram_gib=2)
    app.config = dataclasses.replace(app.config, rpc_workers=(first.endpoint, second.endpoint))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert isinstance(app.engine, EngineProcess)
        assert app.engine.info.rpc_workers == (first.endpoint, second.endpoint)
        started = time.monotonic()
        menu = await open_menu(pilot)
        assert time.monotonic() - started < 10  # the workers were not asked again (15 s limit)
        rows = {(r.model, r.quant): r for r in menu.rows}
        big = rows[("Qwen3-8B", "Q4_K_M")]
        assert big.fits and big.candidate.where() == "workers", big
        machine = str(menu.query_one("#menu-machine").render())
        assert "2 RPC workers" in machine
    pooled = app.hardware_profile()
    assert [w.endpoint for w in pooled.rpc_workers] == [first.endpoint, second.endpoint]
    assert all(w.free_bytes > 0 for w in pooled.rpc_workers)
    alone = budget_for(dataclasses.replace(pooled, rpc_workers=()))
    assert alone.ram_bytes < 5 * 2**30  # the model (about 5 GB) fits only across the pool


async def test_a_worker_that_cannot_say_leaves_the_menu_on_this_machine_and_says_so(smollm2_path) -> None:
    nobody = f"127.0.0.1:{free_port()}"  # no worker listens there
    app = real_menu_app(smollm2_path, [smollm2_path])
    app.sources = fixed_sources([smollm2_path], ram_gib=2)
    app.config = dataclasses.replace(app.config, rpc_workers=(nobody,))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "sizes for this machine alone" in notices(app),
                         what="the warning", timeout_s=60)
        assert nobody in notices(app).replace("\n", " ")
        menu = await open_menu(pilot)
        assert "RPC" not in str(menu.query_one("#menu-machine").render())
