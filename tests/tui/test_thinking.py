"""Replies that think (a ``<think>`` block, as Qwen3 writes it) and replies cut off at max
tokens, on the scripted engine: the thinking section, and Continue extending a reply in place."""

from __future__ import annotations

import json

import pytest

from localchat.engine.types import Message
from tests.tui.conftest import SIZE, ask, make_app, ready, send, streaming_reply, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

PLAN = "The user greets me. " * 12
THINKING_REPLY = f"<think>\n{PLAN}</think>\n\nHello! **How** can I help?"


def section_title(view) -> str:
    return str(view.thinking_section.title)


async def test_thinking_streams_in_its_section_then_collapses_when_the_answer_starts() -> None:
    engine = ScriptedEngine([THINKING_REPLY, "Fine, thanks."], delay_s=0.02)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Hi")
        view = await wait_until(pilot, lambda: streaming_reply(screen), what="the reply to start")
        # while the model thinks: the section is open, its text grows, the title counts tokens
        await wait_until(pilot, lambda: view.thinking_section.display
                         and section_title(view).startswith("Thinking… "), what="thinking to show")
        assert not view.thinking_section.collapsed
        assert view.shown_answer == ""
        # the answer starts: the section closes, the answer streams below it
        await wait_until(pilot, lambda: "Hello" in view.shown_answer, what="the answer to start")
        assert view.thinking_section.collapsed
        assert section_title(view).startswith("Thought")
        await wait_until(pilot, lambda: not screen.generating, what="the reply to end")
        assert view.body.source == "Hello! **How** can I help?"
        assert section_title(view) == "Thought for 2.5 s · 60 tokens"  # the reply's own stats
        shown = str(view.thinking_section.query_one(".thinking-text").render())
        assert "The user greets me." in shown

        # stored whole, and sent back as stored: the engine drops the thinking itself
        stored = app.store.get(screen.conversation_id).messages
        assert stored[-1].content == THINKING_REPLY
        await ask(pilot, "How are you?")
        assert engine.calls[1][-2] == Message("assistant", THINKING_REPLY)

        # opened again later: collapsed, with its title
        await screen.open_conversation(screen.conversation_id)
        again = screen.message_views("assistant")[0]
        assert again.thinking_section.display and again.thinking_section.collapsed
        assert section_title(again) == "Thought for 2.5 s · 60 tokens"
        assert not screen.message_views("assistant")[1].thinking_section.display


async def test_exports_keep_the_thinking_marked_as_thinking() -> None:
    app = make_app(ScriptedEngine([THINKING_REPLY]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "Hi")
        markdown = app.store.export_markdown(screen.conversation_id)
        assert "<details><summary>Thinking</summary>" in markdown
        assert "<think>" not in markdown
        assert markdown.index("The user greets me.") < markdown.index("Hello! **How**")
        reply = json.loads(app.store.export_json(screen.conversation_id))["messages"][-1]
        assert reply["content"] == "Hello! **How** can I help?"
        assert reply["thinking"].startswith("The user greets me.")


async def test_a_cut_off_reply_is_marked_and_continue_extends_it_in_place() -> None:
    engine = ScriptedEngine(["Once upon a time the Red Dragon did not", " sleep. The end."],
                            finish=["length", "stop"])
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = await ask(pilot, "Tell me a story")
        note = view.query_one(".cut-note")
        assert note.display and "Ctrl+E" in str(note.render())
        assert "[cut off]" in str(view.query_one(".role").render())
        stored = app.store.get(screen.conversation_id).messages[-1]
        assert (stored.status, stored.stats["finish_reason"]) == ("cut", "length")

        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: not screen.generating and view.status == "complete",
                         what="the continued reply to end")
        # the engine saw the conversation ending with the partial reply (it continues it)
        assert engine.calls[1][-1] == Message("assistant", "Once upon a time the Red Dragon did not")
        whole = "Once upon a time the Red Dragon did not sleep. The end."
        assert screen.message_views("assistant") == [view]
        assert view.content == whole and view.body.source == whole
        assert not view.query_one(".cut-note").display
        messages = app.store.get(screen.conversation_id).messages
        assert [(m.role, m.content, m.status) for m in messages] == [
            ("user", "Tell me a story", "complete"), ("assistant", whole, "complete")]


async def test_continue_needs_a_cut_off_reply() -> None:
    app = make_app(ScriptedEngine(["All done."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "Hi")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert len(app.store.get(screen.conversation_id).messages) == 2
        assert not screen.generating
        # typing, Ctrl+E is still the prompt's "end of line"
        prompt = screen.query_one("#prompt")
        prompt.text = "abc"
        prompt.move_cursor((0, 0))
        await pilot.press("ctrl+e")
        assert prompt.cursor_location == (0, 3)


async def test_a_reply_cut_off_while_thinking_continues_into_its_answer() -> None:
    engine = ScriptedEngine(["<think>\nFirst I plan", ", then I check.</think>\n\nDone."],
                            finish=["length", "stop"])
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = await ask(pilot, "Think hard")
        assert view.thinking_section.display and section_title(view) == "Thinking (cut off)"
        assert view.body.source == "" and view.query_one(".cut-note").display
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: not screen.generating and view.status == "complete",
                         what="the continued reply to end")
        assert view.content == "<think>\nFirst I plan, then I check.</think>\n\nDone."
        assert view.body.source == "Done." and view.thinking_section.collapsed
        shown = str(view.thinking_section.query_one(".thinking-text").render())
        assert shown == "First I plan, then I check."
