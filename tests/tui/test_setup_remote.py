"""The first-run setup lists the configured endpoints' models beside the local recommendation:
choosing one opens the chat on it (the real ``python -m llama_cpp.server`` on 127.0.0.1), and the
next start opens it again. An endpoint that does not answer is one line above the table; the
local options are there all the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from localchat import paths
from localchat.config import ChatDefaults, Config, load_config
from localchat.download.store import LocalModel
from localchat.endpoints import Endpoint
from localchat.engine.remote import RemoteEngine
from localchat.engine.target import LoadTarget, RemoteModel
from localchat.loadsettings import LoadSettings
from localchat.options.sources import Sources
from localchat.recommend import hypothetical_profile
from localchat.tui import build_app
from localchat.tui.app import LocalChatApp
from localchat.tui.modelhost import real_engine_loader
from localchat.tui.screens.chat import ChatScreen
from localchat.tui.screens.setup import SetupScreen
from tests.conftest import REPO
from tests.remote.llamaserver import ALIAS, KEY, KEY_ENV
from tests.served import free_port
from tests.tui.conftest import SIZE, ask, open_store, ready, wait_until
from tests.tui.scripted import ScriptedEngine
from tests.tui.test_setup import planned, smol_catalog, table_rows, text

pytestmark = pytest.mark.anyio


def first_run(config: Config, smollm2_path: Path, local: ScriptedEngine) -> LocalChatApp:
    """A first start (no model configured) with SmolLM2 on disk and ``config``'s endpoints: a
    file loads the scripted engine, a server's model the app's real loader."""

    def load(target: LoadTarget, settings: LoadSettings):
        return real_engine_loader(target, settings) if isinstance(target, RemoteModel) else local

    on_disk = [LocalModel("SmolLM2-135M-Instruct", REPO, "Q4_1", smollm2_path.stat().st_size,
                          smollm2_path, "hf-cache", None)]
    sources = Sources(probe=lambda: hypothetical_profile(4), catalog=smol_catalog,
                      local_models=lambda: on_disk, check_online=lambda: None)
    return LocalChatApp(None, config=config, store=open_store(), sources=sources, engine_loader=load)


@pytest.mark.slow
async def test_setup_offers_a_servers_models_and_chats_with_the_one_chosen(
        llama_server, smollm2_path, fake_home, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text(  # the server set up before the first start
        f'[chat]\ntemperature = 0.0\nmax_tokens = 12\n\n[[endpoints]]\nname = "box"\n'
        f'base_url = "{llama_server.url}"\napi_key_env = "{KEY_ENV}"\n', encoding="utf-8")
    box = Endpoint("box", llama_server.url, KEY_ENV)
    assert load_config().endpoints == (box,)
    local = ScriptedEngine(["local answer"])
    app = first_run(load_config(), smollm2_path, local)
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        rows = table_rows(screen)
        assert rows[0]["Model"] == "★ SmolLM2-135M-Instruct" and rows[0]["On disk"] == "yes"
        at = next(i for i, r in enumerate(screen.plan.rows) if r.remote)
        assert at == 1  # right after the recommendation (it has no alternatives here)
        assert rows[at] == {"Model": ALIAS, "Quant": "-", "Context": "-", "Runs on": "on box",
                            "Memory": "server", "tok/s": "-", "Same word": "-", "On disk": "server",
                            "Size": "-"}
        assert screen.query_one("#setup-remote").has_class("hidden")  # every server answered
        await pilot.press("down")
        detail = text(screen, "#setup-detail")
        assert detail.startswith(f"{ALIAS} runs on box ({llama_server.url}): it takes that machine's memory")
        assert "Enter chats with it." in detail
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat to open")
        chat = await ready(pilot)
        assert isinstance(app.engine, RemoteEngine) and app.model_path == RemoteModel(box, ALIAS)
        assert not any(isinstance(s, SetupScreen) for s in app.screen_stack)
        reply = await ask(pilot, "Write a poem about the sea.")
        assert reply.content.strip() and reply.content != "local answer"
        assert "gen ~" in str(chat.query_one("#status-speed").render())  # from the server: counted
        await wait_until(pilot, lambda: load_config().model.endpoint == "box",
                         what="the choice saved for the next start")
    saved = load_config().model
    assert (saved.endpoint, saved.endpoint_model, saved.path) == ("box", ALIAS, "")
    assert not local.calls  # the local model was never asked
    assert load_config().endpoints == (box,)  # the user's [[endpoints]] kept as written
    again = build_app(None)  # the next `localchat`: the chat on the server's model
    try:
        assert again.start_model == RemoteModel(box, ALIAS)
    finally:
        again.store.close()


async def test_a_server_that_does_not_answer_is_one_line_and_the_local_options_stay(
        smollm2_path, fake_home) -> None:
    gone = Endpoint("gone", f"http://127.0.0.1:{free_port()}")
    local = ScriptedEngine(["local answer"])
    app = first_run(Config(endpoints=(gone,), chat=ChatDefaults(temperature=0.0, max_tokens=12)),
                    smollm2_path, local)
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        assert not any(r.remote for r in screen.plan.rows)
        assert [r["Model"] for r in table_rows(screen)] == ["★ SmolLM2-135M-Instruct"]
        problem = screen.query_one("#setup-remote")
        line = text(screen, "#setup-remote")
        assert not problem.has_class("hidden") and "cannot reach gone" in line and "\n" not in line
        await wait_until(pilot, lambda: problem.region.height == 1, what="the line laid out")
        assert problem.region.y < screen.query_one("#setup-table").region.y  # above the table
        await pilot.press("enter")  # the local recommendation is used as ever
        await ready(pilot)
        assert app.engine is local and app.model_path == str(smollm2_path)
        assert (await ask(pilot, "Hi")).content == "local answer"


@pytest.mark.slow
def test_setup_screen_with_a_server_snapshot(snap_compare, llama_server, monkeypatch) -> None:
    """test_snapshots.py's setup screen (16 GiB RAM, an 8 GiB CUDA GPU, four catalog models),
    with the real server configured: its model is the row after the recommendation's."""
    from localchat.recommend import Catalog, load_catalog
    from tests.tui.conftest import make_app

    monkeypatch.setenv(KEY_ENV, KEY)
    names = ("Llama-3.2-3B-Instruct", "Llama-3.1-8B-Instruct", "Qwen3-8B", "Qwen3-14B")
    catalog = Catalog(tuple(load_catalog().get(name) for name in names))
    app = make_app(model_path=None, config=Config(endpoints=(Endpoint("box", llama_server.url, KEY_ENV),)))
    app.sources = Sources(probe=lambda: hypothetical_profile(16, 8, "cuda", ram_bandwidth_gbps=50,
                                                             gpu_bandwidth_gbps=360),
                          catalog=lambda: catalog, local_models=list, check_online=lambda: None)

    async def run_before(pilot) -> None:
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "plan", None) is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
