"""Write, then clear: a message, an edit, a title or settings that cannot be stored stay where
the user typed them, with one line saying why; a chat deleted in another window never crashes
the one still showing it."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from localchat.history import ConversationStore
from tests.tui.conftest import SIZE, ask, make_app, notices, ready, reply_done, send, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another connection holds the write lock (as another program would) until the block ends."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def prompt_text(app) -> str:
    return app.screen.query_one("#prompt").text


def stored_user_messages(app, conversation_id: int) -> list[str]:
    return [m.content for m in app.store.get(conversation_id).messages if m.role == "user"]


def quick_store() -> ConversationStore:
    return ConversationStore(timeout_s=0.3)  # a lock "longer than the timeout" in a test's time


async def test_a_message_that_cannot_be_saved_stays_in_the_prompt(scripted: ScriptedEngine) -> None:
    app = make_app(scripted, store=quick_store())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "first question")
        with locked(app.store.path):
            await send(pilot, "my important message")
            await wait_until(pilot, lambda: "Not sent" in notices(app), what="the notice")
            assert "locked by another program" in notices(app)
            assert prompt_text(app) == "my important message"
            assert [v.content for v in screen.message_views("user")] == ["first question"]
        assert stored_user_messages(app, screen.conversation_id) == ["first question"]
        await pilot.press("enter")  # the lock is gone: Enter sends what is still there
        await reply_done(pilot, 2)
        assert prompt_text(app) == ""
        assert stored_user_messages(app, screen.conversation_id) == ["first question",
                                                                     "my important message"]


async def test_a_first_message_that_cannot_be_saved_starts_no_chat(scripted: ScriptedEngine) -> None:
    app = make_app(scripted, store=quick_store())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        with locked(app.store.path):
            await send(pilot, "hello there")
            await wait_until(pilot, lambda: "Not sent" in notices(app), what="the notice")
        assert prompt_text(app) == "hello there" and app.store.list() == []
        assert screen.conversation_id is None and screen.chat_title == "New chat"


async def test_an_edit_that_cannot_be_saved_keeps_the_text_and_the_old_messages(
        scripted: ScriptedEngine) -> None:
    app = make_app(scripted, store=quick_store())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "original")
        await pilot.press("ctrl+l")
        prompt = app.screen.query_one("#prompt")
        prompt.text = "edited"
        with locked(app.store.path):
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Not sent" in notices(app), what="the notice")
        assert prompt_text(app) == "edited"
        assert [(m.role, m.content) for m in app.store.get(screen.conversation_id).messages][0] == \
            ("user", "original")
        assert len(screen.message_views()) == 2  # nothing removed from the screen either
        await pilot.press("enter")
        await reply_done(pilot, 1)
        assert stored_user_messages(app, screen.conversation_id) == ["edited"]


async def test_a_title_that_cannot_be_saved_comes_back_in_the_dialog(scripted: ScriptedEngine) -> None:
    app = make_app(scripted, store=quick_store())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "first chat")
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.query("#answer"))
        app.screen.query_one("#answer").value = "My title"
        with locked(app.store.path):
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Could not rename it" in notices(app))
            answer = await wait_until(pilot, lambda: app.screen.query("#answer"))
            assert answer.first().value == "My title"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.store.get(screen.conversation_id).title == "My title")


async def test_a_reply_that_cannot_be_saved_ends_and_the_chat_goes_on() -> None:
    engine = ScriptedEngine(infinite=True, delay_s=0.01)
    app = make_app(engine, store=quick_store())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "tell me everything")
        await wait_until(pilot, lambda: screen.message_views("assistant")
                         and len(screen.message_views("assistant")[-1].content) > 20)
        with locked(app.store.path):
            await wait_until(pilot, lambda: not screen.generating, what="the reply to end")
            await wait_until(pilot, lambda: "The reply failed" in notices(app))
        assert "locked by another program" in notices(app)
        engine.infinite = False
        await ask(pilot, "and now?")  # the chat goes on


async def test_a_chat_deleted_in_another_window_does_not_crash_the_sender(
        scripted: ScriptedEngine) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "my first chat")
        other_window = ConversationStore()
        other_window.delete(screen.conversation_id)
        await send(pilot, "still here?")
        await wait_until(pilot, lambda: "deleted in another window" in notices(app))
        await reply_done(pilot, 1)
        [summary] = app.store.list()  # the message started a new chat
        assert stored_user_messages(app, summary.id) == ["still here?"]
        assert [v.content for v in screen.message_views("user")] == ["still here?"]
        assert prompt_text(app) == ""


@pytest.mark.parametrize("keys", [["ctrl+r"], ["f2", "enter"], ["f8", "#yes"], ["f3", "ctrl+s"],
                                  ["f5"], ["ctrl+l", "enter"]])
async def test_every_action_on_a_chat_deleted_elsewhere_is_answered_not_crashed(
        scripted: ScriptedEngine, keys: list[str]) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "soon gone")
        ConversationStore().delete(screen.conversation_id)
        for key in keys:
            if key.startswith("#"):
                await wait_until(pilot, lambda key=key: app.screen.query(key))
                await pilot.click(key)
            else:
                await pilot.press(key)
            await pilot.pause(0.1)
        await wait_until(pilot, lambda: "deleted in another window" in notices(app),
                         what="the notice")
        await wait_until(pilot, lambda: app.screen is screen and not screen.generating)
        await pilot.press("escape")
        await send(pilot, "typed afterwards")
        await wait_until(pilot, lambda: app.store.list() and not screen.generating)
        [summary] = app.store.list()
        assert stored_user_messages(app, summary.id)[-1] == "typed afterwards"
        assert app.is_running
