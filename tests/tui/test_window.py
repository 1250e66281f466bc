"""A long chat keeps only its last messages mounted (screens/window.py): it opens on them with a
line saying how many come before; scrolling to the top shows more above
without moving what the user was reading; a search hit in an older message is shown; and as the
chat grows, the oldest are taken off again between replies. The store keeps every message."""

from __future__ import annotations

from typing import Any

import pytest

from localchat.tui.screens.window import SHOWN_MESSAGES, TRIM_SLACK, EarlierMessages
from tests.tui.conftest import SIZE, ask, make_app, open_store, ready, wait_until

pytestmark = pytest.mark.anyio


def long_chat_app(exchanges: int = 30) -> tuple[Any, Any, int, list[int]]:
    """(app, store, the chat's id, its messages' ids): the app opens on a chat of ``exchanges``
    questions and answers."""
    store = open_store()
    conversation = store.create("A long chat")
    ids = []
    for i in range(exchanges):
        ids.append(store.add_message(conversation.id, "user", f"Question {i}").id)
        ids.append(store.add_message(conversation.id, "assistant", f"Answer {i}: " + "words " * 40).id)
    return make_app(store=store), store, conversation.id, ids


def shown_ids(chat) -> list[int]:
    return [v.message_id for v in chat.message_views()]


def earlier_line(chat) -> str:
    return str(chat.query_one(EarlierMessages).render())


async def test_a_long_chat_opens_on_its_last_messages_and_shows_earlier_ones_in_place() -> None:
    app, _, _, ids = long_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        assert shown_ids(chat) == ids[-SHOWN_MESSAGES:]
        assert f"{60 - SHOWN_MESSAGES} earlier messages" in earlier_line(chat)
        log, reading = chat.log_view, chat.message_views()[0]
        log.scroll_home(animate=False)  # the user scrolls up to the top
        await wait_until(pilot, lambda: len(chat.message_views()) == 2 * SHOWN_MESSAGES,
                         what="the earlier messages")
        await pilot.pause()
        assert shown_ids(chat) == ids[-2 * SHOWN_MESSAGES:]
        assert f"{60 - 2 * SHOWN_MESSAGES} earlier messages" in earlier_line(chat)
        # what the user was reading stays where it was, near the top, rather than jumping away
        await wait_until(pilot, lambda: log.region.y <= reading.region.y <= log.region.y + 3,
                         what="the message read to stay in place")
        log.scroll_home(animate=False)  # and up to the top again: the rest
        await wait_until(pilot, lambda: len(chat.message_views()) == 60
                         and not chat.query(EarlierMessages), what="every message")
        assert shown_ids(chat) == ids


async def test_a_search_hit_in_an_old_message_is_shown() -> None:
    app, _, conversation_id, ids = long_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        await chat.conversations.chosen(conversation_id, ids[4])
        await pilot.pause()
        assert shown_ids(chat) == ids[4:]
        hit = chat.message_views()[0]
        await wait_until(pilot, lambda: chat.log_view.region.contains_region(hit.region),
                         what="the hit on screen")
        assert "4 earlier messages" in earlier_line(chat)


async def test_as_the_chat_grows_the_oldest_are_taken_off_between_replies() -> None:
    app, store, conversation_id, _ = long_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        for i in range(TRIM_SLACK // 2):  # up to the slack: nothing taken off
            await ask(pilot, f"More {i}")
        assert len(chat.message_views()) == SHOWN_MESSAGES + TRIM_SLACK
        await ask(pilot, "One more")
        await pilot.pause()
        total = len(store.get(conversation_id).messages)
        assert total == 60 + TRIM_SLACK + 2
        assert len(chat.message_views()) == SHOWN_MESSAGES
        assert f"{total - SHOWN_MESSAGES} earlier messages" in earlier_line(chat)
        assert chat.message_views()[-1].role == "assistant" and chat.log_view.is_vertical_scroll_end
