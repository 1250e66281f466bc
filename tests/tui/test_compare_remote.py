"""Compare (F9) with models on a server: the loaded SmolLM2 on this machine against the same file
served by a real ``python -m llama_cpp.server`` on 127.0.0.1, the server's model loaded against a
local one, and two servers' models. llama_cpp.server sends no token counts, so its speed is
counted from text pieces: the verdict says it is approximate and claims no difference within
the wider noise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.pilot import Pilot

from localchat.config import ChatDefaults, Config, load_config
from localchat.endpoints import Endpoint
from localchat.engine.remote import RemoteEngine
from localchat.engine.target import LoadTarget, RemoteModel
from localchat.loadsettings import LoadSettings
from localchat.options.compare import SPEED_NOISE_APPROXIMATE
from localchat.options.option import ModelOption
from localchat.tui.app import LocalChatApp
from localchat.tui.screens.compare import CompareScreen
from localchat.tui.screens.models import ModelMenuScreen
from tests.remote.llamaserver import ALIAS, KEY, KEY_ENV
from tests.tui.conftest import ask, open_store, ready, wait_until
from tests.tui.test_model_menu import fixed_sources, open_menu

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WIDE = (140, 36)
STORY = "Write a long story about a dragon and a knight."
APPROXIMATE = "approximate, the server sent no token counts"


def compare_app(start: LoadTarget, endpoints: tuple[Endpoint, ...], smollm2_path: Path) -> LocalChatApp:
    """The app on the real engines (a file in its own process, a server's model over HTTP), with
    replies kept short (too short to time: the verdict says so)."""
    config = Config(endpoints=endpoints, chat=ChatDefaults(temperature=0.0, max_tokens=24))
    return LocalChatApp(start, config=config, store=open_store(), sources=fixed_sources([smollm2_path]),
                        load_settings=LoadSettings(n_ctx=1024))


@pytest.fixture
def box(llama_server, monkeypatch) -> Endpoint:
    monkeypatch.setenv(KEY_ENV, KEY)
    return Endpoint("box", llama_server.url, KEY_ENV)


async def compare_with(pilot: Pilot, pick) -> tuple[list[ModelOption], CompareScreen]:
    """F9, the cursor on the first row ``pick`` accepts, Enter: the menu's rows, and the
    comparison once both sides have answered."""
    menu: ModelMenuScreen = await open_menu(pilot, "f9")
    rows = list(menu.rows)
    target = next(i for i, r in enumerate(menu.visible_rows()) if pick(r))
    while menu.table.cursor_row != target:
        await pilot.press("down" if menu.table.cursor_row < target else "up")
    await pilot.press("enter")
    app = pilot.app
    compare = await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen,
                               what="the comparison")
    await wait_until(pilot, lambda: compare.finished, timeout_s=90, what="both replies")
    return rows, compare


def shown(compare: CompareScreen, selector: str) -> str:
    return str(compare.query_one(selector).render())


def assert_honest_verdict(compare: CompareScreen, approximate: str) -> None:
    """The verdict names the approximate side and states a ratio only outside the wider noise."""
    note = shown(compare, "#compare-note")
    assert f"{approximate}: {APPROXIMATE}" in note or f"and {approximate}: {APPROXIMATE}" in note, note
    said = re.search(r"generated at about ([0-9.]+)×", note)
    if said:
        assert abs(float(said.group(1)) - 1) >= SPEED_NOISE_APPROXIMATE
    else:
        assert "within noise" in note


async def test_the_loaded_local_model_against_a_servers(box, smollm2_path) -> None:
    app = compare_app(str(smollm2_path), (box,), smollm2_path)
    async with app.run_test(size=WIDE) as pilot:
        chat = await ready(pilot)
        await ask(pilot, STORY)
        menu_rows, compare = await compare_with(pilot, lambda r: r.remote)
        # F9 lists the loaded model's quants and the servers' models
        assert {r.model for r in menu_rows if not r.remote} == {"SmolLM2-135M-Instruct"}
        assert compare.side_by_side and compare.names == ("SmolLM2-135M-Instruct Q4_1", f"{ALIAS} on box")
        assert shown(compare, "#compare-title") == f"Compare · SmolLM2-135M-Instruct Q4_1 vs {ALIAS} on box"
        local, remote = shown(compare, "#stats-1"), shown(compare, "#stats-2")
        assert re.fullmatch(r"[0-9.]+ t/s · 24 tokens · memory [0-9.]+ MiB", local), local
        assert re.fullmatch(r"~[0-9.]+ t/s · ~[0-9]+ tokens · on box", remote), remote
        assert compare.stats[2].approximate and not compare.stats[1].approximate
        assert compare.views[1].content.strip() and compare.views[2].content.strip()
        assert_honest_verdict(compare, f"{ALIAS} on box")
        note = shown(compare, "#compare-note")
        assert "takes the server's memory, not this machine's" in note
        print(f"\nlocal: {local}\nserver: {remote}\n{note}")
        assert app.engine.info.quant == "Q4_1"  # the chat's model stayed loaded
        await pilot.click("#switch")
        await wait_until(pilot, lambda: app.screen is chat and isinstance(app.engine, RemoteEngine),
                         what="the chat on the server's model")
        await wait_until(pilot, lambda: load_config().model.endpoint == "box", what="the choice saved")
        assert load_config().model.endpoint_model == ALIAS


async def test_the_loaded_server_model_against_a_local_one(box, smollm2_path) -> None:
    app = compare_app(RemoteModel(box, ALIAS), (box,), smollm2_path)
    async with app.run_test(size=WIDE) as pilot:
        chat = await ready(pilot)
        await ask(pilot, STORY)
        _, compare = await compare_with(pilot, lambda r: r.path == str(smollm2_path))
        assert compare.names == (f"{ALIAS} on box", "SmolLM2-135M-Instruct Q4_1")
        assert shown(compare, "#stats-1").startswith("~") and shown(compare, "#stats-1").endswith("on box")
        assert re.search(r"24 tokens · memory [0-9.]+ MiB$", shown(compare, "#stats-2"))
        assert_honest_verdict(compare, f"{ALIAS} on box")
        assert "SmolLM2-135M-Instruct Q4_1 takes " in shown(compare, "#compare-note")
        await pilot.click("#keep")
        await wait_until(pilot, lambda: app.screen is chat)
        assert isinstance(app.engine, RemoteEngine)  # still the server's model
        assert len(app.store.get(chat.conversation_id).messages) == 2  # the chat is as it was


async def test_two_servers_models(box, smollm2_path) -> None:
    also = Endpoint("also", box.base_url, box.api_key_env)  # the same server under a second name
    app = compare_app(RemoteModel(box, ALIAS), (box, also), smollm2_path)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await ask(pilot, STORY)
        _, compare = await compare_with(pilot, lambda r: r.remote == RemoteModel(also, ALIAS))
        assert compare.names == (f"{ALIAS} on box", f"{ALIAS} on also")
        assert all(shown(compare, f"#stats-{side}").startswith("~") for side in (1, 2))
        note = shown(compare, "#compare-note")
        assert f"({ALIAS} on box and {ALIAS} on also: {APPROXIMATE}" in note
        assert "Both run on servers" in note
        assert_honest_verdict(compare, f"{ALIAS} on also")
