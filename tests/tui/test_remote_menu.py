"""The model menu lists an endpoint's models beside the local ones; choosing one switches the
chat to it mid-conversation, the next reply streams from the real llama_cpp.server, and the config
remembers it. An endpoint that does not answer is one line; the local rows are there all the same."""

from __future__ import annotations

import pytest

from localchat.config import ChatDefaults, Config, load_config
from localchat.endpoints import Endpoint
from localchat.engine.remote import RemoteEngine
from localchat.engine.target import LoadTarget, RemoteModel
from localchat.loadsettings import LoadSettings
from localchat.options.words import menu_details, where_text
from localchat.tui.app import LocalChatApp
from localchat.tui.modelhost import real_engine_loader
from tests.remote.llamaserver import ALIAS, KEY, KEY_ENV
from tests.served import free_port
from tests.tui.conftest import SIZE, ask, open_store, ready, wait_until
from tests.tui.scripted import ScriptedEngine
from tests.tui.test_model_menu import fixed_sources, open_menu, status_model

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def app_with(endpoints: tuple[Endpoint, ...], local: ScriptedEngine, smollm2_path) -> LocalChatApp:
    def load(target: LoadTarget, settings: LoadSettings):
        # a file: the scripted engine; a server's model: the app's real loader
        return real_engine_loader(target, settings) if isinstance(target, RemoteModel) else local

    config = Config(endpoints=endpoints, chat=ChatDefaults(temperature=0.0, max_tokens=12))
    return LocalChatApp(str(smollm2_path), config=config, store=open_store(), engine_loader=load,
                        sources=fixed_sources([smollm2_path]), load_settings=LoadSettings(n_ctx=2048))


async def test_switch_to_a_server_model_mid_conversation(llama_server, smollm2_path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    box = Endpoint("box", llama_server.url, KEY_ENV)
    local = ScriptedEngine(["local answer"])
    app = app_with((box,), local, smollm2_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        await ask(pilot, "first question")
        menu = await open_menu(pilot)
        remote = [r for r in menu.rows if r.remote]
        assert [(r.model, where_text(r)) for r in remote] == [(ALIAS, "on box")]
        assert any(r.loaded and not r.remote for r in menu.rows)  # the local model, beside them
        target = menu.visible_rows().index(remote[0])
        while menu.table.cursor_row < target:
            await pilot.press("down")
        assert "runs on box" in menu_details(menu.highlighted())
        assert "runs on box" in str(menu.query_one("#menu-detail").render())
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.engine, RemoteEngine), what="the server model")
        await wait_until(pilot, lambda: app.screen is chat and "on box" in status_model(app),
                         what="the chat on the server model")
        assert local.closed
        reply = await ask(pilot, "Write a poem about the sea.")
        assert reply.content.strip() and reply.content != "local answer"
        assert [v.content for v in chat.message_views("user")] == ["first question",
                                                                    "Write a poem about the sea."]
        speed = str(chat.query_one("#status-speed").render())
        assert "gen ~" in speed  # llama_cpp.server sends no usage: the pieces were counted
        await wait_until(pilot, lambda: load_config().model.endpoint == "box",
                         what="the choice saved for the next start")
        assert load_config().model.endpoint_model == ALIAS
        menu = await open_menu(pilot)  # now the server's row is the loaded one
        assert [r.model for r in menu.rows if r.loaded] == [ALIAS]


async def test_an_endpoint_that_does_not_answer_is_one_line(smollm2_path) -> None:
    gone = Endpoint("gone", f"http://127.0.0.1:{free_port()}")
    app = app_with((gone,), ScriptedEngine(), smollm2_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)
        assert menu.rows and not any(r.remote for r in menu.rows)
        message = menu.query_one("#menu-message")
        assert "cannot reach gone" in str(message.render()) and message.has_class("error")
