"""The app's model host: switch_model mid-conversation, a failed load, the in-use mark."""

from __future__ import annotations

import os

import pytest

from localchat.download.inuse import holders
from localchat.errors import ModelFileError
from localchat.loadsettings import LoadSettings
from localchat.tui.messages import ModelLoaded, ModelLoadFailed
from tests.tui.conftest import (
    SIZE,
    ask,
    make_app,
    notices,
    ready,
    reply_done,
    send,
    streaming_reply,
    wait_until,
)
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

SMALL = "/models/small-Q4_K_M.gguf"
BIG = "/models/big-Q8_0.gguf"


def two_model_app(small: ScriptedEngine, big: ScriptedEngine | None):
    def load(path: str, settings: LoadSettings) -> ScriptedEngine:
        if path == BIG and big is None:
            raise ModelFileError(f"model file {BIG} is truncated", "run `localchat pull` again")
        return {SMALL: small, BIG: big}[path]

    app = make_app(small, model_path=SMALL)
    app.engine_loader = load
    return app


async def test_switching_model_mid_conversation_continues_the_chat() -> None:
    small = ScriptedEngine(["small answer"], name="Small", quant="Q4_K_M")
    big = ScriptedEngine(["big answer"], name="Big", quant="Q8_0")
    seen: list[ModelLoaded] = []
    app = two_model_app(small, big)
    async with app.run_test(size=SIZE, message_hook=lambda m: isinstance(m, ModelLoaded)
                            and seen.append(m)) as pilot:
        screen = await ready(pilot)
        assert holders(SMALL) == [os.getpid()]  # `localchat rm` refuses to delete it now
        await ask(pilot, "first question")
        app.switch_model(BIG, LoadSettings(n_ctx=4096))
        await wait_until(pilot, lambda: app.engine is big, what="the new model")
        await wait_until(pilot, lambda: "Big · Q8_0" in str(screen.query_one("#status-model").render()))
        assert small.closed and holders(SMALL) == [] and holders(BIG) == [os.getpid()]
        assert app.load_settings.n_ctx == 4096
        # the load worker's message to the app, and the app's copy to the chat screen
        assert len([m for m in seen if m.path == BIG]) >= 2
        await ask(pilot, "second question")
        assert [v.content for v in screen.message_views()] == [
            "first question", "small answer", "second question", "big answer"]
        assert [m.content for m in big.calls[0][1:]] == ["first question", "small answer",
                                                         "second question"]
        stored = app.store.get(screen.conversation_id).messages
        assert [m.model for m in stored if m.role == "assistant"] == ["Small", "Big"]
    assert big.closed and holders(BIG) == []


async def test_switching_during_a_reply_stops_and_keeps_it_first() -> None:
    small = ScriptedEngine(infinite=True, delay_s=0.005, name="Small")
    big = ScriptedEngine(["big answer"], name="Big")
    app = two_model_app(small, big)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "count forever")
        await wait_until(pilot, lambda: (v := streaming_reply(screen)) and "word5 " in v.content)
        app.switch_model(BIG)
        await wait_until(pilot, lambda: app.engine is big and not screen.generating)
        reply = app.store.get(screen.conversation_id).messages[-1]
        assert reply.status == "stopped" and reply.content.startswith("word1 word2 ")
        assert small.closed


async def test_a_failed_switch_is_reported_and_the_message_is_kept() -> None:
    small = ScriptedEngine(["small answer"], name="Small")
    failed: list[ModelLoadFailed] = []
    app = two_model_app(small, None)
    async with app.run_test(size=SIZE, notifications=True,
                            message_hook=lambda m: isinstance(m, ModelLoadFailed) and failed.append(m)
                            ) as pilot:
        screen = await ready(pilot)
        app.switch_model(BIG)
        await wait_until(pilot, lambda: failed, what="ModelLoadFailed")
        assert failed[0].path == BIG and "truncated" in str(failed[0].error)
        await wait_until(pilot, lambda: "did not load" in str(screen.query_one("#status-speed").render()))
        assert app.engine is None and not app.loading and holders(SMALL) == []
        await send(pilot, "anyone there?")
        await wait_until(pilot, lambda: "No model is loaded" in notices(app), what="the notice")
        stored = app.store.get(screen.conversation_id).messages
        assert [(m.role, m.content) for m in stored] == [("user", "anyone there?")]
        assert "Could not load the model: model file /models/big-Q8_0.gguf is truncated" in notices(app)
        # loading a model that works answers the kept message with Ctrl+R
        app.switch_model(SMALL)
        await wait_until(pilot, lambda: app.engine is small)
        await pilot.press("ctrl+r")
        reply = await reply_done(pilot)
        assert reply.content == "small answer"


async def test_a_setup_screen_can_load_a_model_and_open_the_chat() -> None:
    """The first-run flow's seam: from the setup screen, switch_model then open_chat; the chat
    replaces the setup screen and answers."""
    from localchat.options.sources import Sources
    from localchat.recommend import Catalog, hypothetical_profile
    from localchat.tui.screens.chat import ChatScreen
    from localchat.tui.screens.setup import SetupScreen

    small = ScriptedEngine(["hello there"], name="Small")
    app = two_model_app(small, None)
    app.start_model = None
    app.sources = Sources(probe=lambda: hypothetical_profile(8), catalog=Catalog,
                          local_models=list, check_online=lambda: None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.switch_model(SMALL)
        chat = app.open_chat()
        await wait_until(pilot, lambda: app.screen is chat and chat.engine is small)
        assert not any(isinstance(s, SetupScreen) for s in app.screen_stack)
        assert isinstance(app.screen, ChatScreen)
        assert (await ask(pilot, "hi")).content == "hello there"
