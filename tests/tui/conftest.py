"""TUI test helpers: an app on the scripted engine (or the real one), a store in the test's
own home, and ``wait_until`` to poll for what the user would see (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from localchat.config import ChatDefaults, Config
from localchat.loadsettings import LoadSettings
from localchat.tui.app import LocalChatApp
from tests.tui.scripted import ScriptedEngine, scripted_loader

SIZE = (100, 30)


async def wait_until(pilot: Pilot, predicate: Callable[[], Any], timeout_s: float = 20.0,
                     what: str = "condition") -> Any:
    """Let the app run until ``predicate()`` is truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def open_store() -> Any:
    from localchat.history import ConversationStore

    return ConversationStore()


def make_app(engine: Any = None, *, model_path: str | None = "/models/scripted-1B-Q4_K_M.gguf",
             config: Config | None = None, store: Any = None) -> LocalChatApp:
    engine = engine if engine is not None else ScriptedEngine()
    return LocalChatApp(model_path, config=config or Config(), store=store or open_store(),
                        engine_loader=scripted_loader(engine))


def real_app(model_path: str, *, max_tokens: int = 24, store: Any = None) -> LocalChatApp:
    """The app on the real llama.cpp engine, replies kept short so tests stay quick."""
    config = Config(chat=ChatDefaults(temperature=0.0, max_tokens=max_tokens))
    return LocalChatApp(model_path, config=config, store=store or open_store(),
                        load_settings=LoadSettings(n_ctx=1024))


async def ready(pilot: Pilot) -> Any:
    """Wait until the chat screen has its model; returns the screen."""
    # mounted too: a model that loads quickly can be there before the chat screen is composed
    screen = await wait_until(pilot, lambda: getattr(pilot.app.screen, "engine", None)
                              and pilot.app.screen.is_mounted and pilot.app.screen,
                              what="the model to load")
    return screen


def notices(app: Any) -> str:
    """The notifications on screen, as the user reads them. Toasts are drawn only when the app
    runs with ``run_test(notifications=True)``, and appear a moment after ``notify``: poll."""
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


def streaming_reply(screen: Any) -> Any:
    """The reply the chat screen is writing now (new, or continued in place), else None."""
    views = screen.message_views()
    last = views[-1] if views else None
    if (screen.generating and last is not None and last.role == "assistant"
            and last.status in ("streaming", "partial")):
        return last
    return None


LONG_STORY = "Write a very long story about a dragon and a knight."
SLOW_S = 90.0  # a busy 2-core machine can take seconds per token


async def story_cut_short(pilot: Pilot, end: Callable[[], Any]) -> str:
    """Ask the real model for a long story, ``end()`` its model process once the story has
    started, and check the chat kept the reply so far as stopped, shown and stored alike.
    Returns the notification that says the model process ended."""
    app, screen = pilot.app, pilot.app.screen
    await send(pilot, LONG_STORY)
    await wait_until(pilot, lambda: (v := streaming_reply(screen)) and len(v.content) > 40,
                     what="the story to start", timeout_s=SLOW_S)
    end()
    await wait_until(pilot, lambda: not screen.generating, what="the reply to end", timeout_s=SLOW_S)
    reply = screen.message_views("assistant")[-1]
    stored = app.store.get(screen.conversation_id).messages
    assert reply.status == "stopped" and len(reply.content) > 40
    assert stored[-1].status == "stopped" and stored[-1].content == reply.content
    note: str = await wait_until(pilot, lambda: "model process ended" in notices(app) and notices(app),
                                 what="the notification")
    return note


async def send(pilot: Pilot, text: str) -> None:
    prompt = pilot.app.screen.query_one("#prompt")
    prompt.focus()
    prompt.text = text
    await pilot.press("enter")


async def ask(pilot: Pilot, text: str) -> Any:
    """Send ``text`` and wait for its reply to end; returns the reply's view. (Its own reply,
    not a count of replies: a long chat keeps only its last messages on screen.)"""
    screen = pilot.app.screen
    before = screen.message_views("assistant")
    last_id = before[-1].message_id if before else None
    await send(pilot, text)

    def done() -> Any:
        replies = screen.message_views("assistant")
        return (replies and replies[-1].message_id != last_id and not screen.generating
                and replies[-1])

    return await wait_until(pilot, done, what=f"the reply to {text!r}")


async def reply_done(pilot: Pilot, count: int = 1) -> Any:
    """Wait until ``count`` replies are on screen and none is streaming; returns the last."""
    screen = pilot.app.screen

    def done() -> Any:
        replies = screen.message_views("assistant")
        return len(replies) >= count and not screen.generating and replies[-1]

    return await wait_until(pilot, done, what=f"reply {count} to finish")


@pytest.fixture(autouse=True)
def unpaced_screen_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Pilot's polling runs on the UI thread, so the update pacer would count it as UI
    cost and hold the stream back; here updates go out as often as ``SHOW_MIN_INTERVAL_S``
    allows. The pacer has its own test (test_generation.py) and the benchmark measures it."""
    from localchat.tui import generation

    monkeypatch.setattr(generation, "UI_CPU_SHARE", 1.0)
    monkeypatch.setattr(generation, "UI_CPU_SHARE_SPARE_CORE", 1.0)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run through anyio's pytest plugin (``pytestmark = pytest.mark.anyio``)."""
    return "asyncio"


@pytest.fixture
def scripted() -> ScriptedEngine:
    return ScriptedEngine()
