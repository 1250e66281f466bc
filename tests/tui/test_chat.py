"""The chat screen on the scripted engine: what the user sees, and what the store keeps."""

from __future__ import annotations

import pytest

from localchat.tui.messages import ReplyProgress
from localchat.tui.widgets.message import MessageView
from tests.tui.conftest import (
    SIZE,
    ask,
    make_app,
    notices,
    open_store,
    ready,
    reply_done,
    send,
    streaming_reply,
    wait_until,
)
from tests.tui.scripted import DEFAULT_REPLY, ScriptedEngine

pytestmark = pytest.mark.anyio


def label_text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_reply_streams_in_and_is_stored() -> None:
    progress: list[ReplyProgress] = []
    scripted = ScriptedEngine(delay_s=0.012)  # ~0.4 s: several checkpoints of 0.1 s
    app = make_app(scripted)
    async with app.run_test(size=SIZE, message_hook=lambda m: isinstance(m, ReplyProgress)
                            and progress.append(m)) as pilot:
        screen = await ready(pilot)
        reply = await ask(pilot, "Write a greeting function")
        assert reply.content == DEFAULT_REPLY
        assert len(progress) >= 2 and all(DEFAULT_REPLY.startswith(p.text) for p in progress)
        assert "gen 42.5 t/s" in label_text(screen, "#status-speed")
        assert "TTFT" in label_text(screen, "#status-speed")
        conversation = app.store.get(screen.conversation_id)
        assert [(m.role, m.content, m.status) for m in conversation.messages] == [
            ("user", "Write a greeting function", "complete"),
            ("assistant", DEFAULT_REPLY, "complete"),
        ]
        assert conversation.messages[1].stats["gen_tps"] == 42.5
        assert screen.query_one("#status-spark").data == [42.5]


async def test_text_is_stored_before_it_is_shown() -> None:
    engine = ScriptedEngine(["x" * 400], piece_chars=2, delay_s=0.003)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "go")
        view = await wait_until(pilot, lambda: streaming_reply(screen), what="the reply to start")
        checks = 0
        while screen.generating:
            shown = view.content
            stored = app.store.get(screen.conversation_id).messages[-1].content
            assert stored.startswith(shown), "text on screen that the store does not have"
            checks += shown != ""
            await pilot.pause(0.01)
        assert checks > 0


async def test_escape_stops_the_reply_and_keeps_the_partial_text() -> None:
    engine = ScriptedEngine(infinite=True, delay_s=0.005)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "count forever")
        view = await wait_until(pilot, lambda: (v := streaming_reply(screen)) and "word20 " in v.content
                                and v, what="some streamed words")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.generating, what="the reply to stop")
        assert view.status == "stopped" and "stopped" in label_text(view, ".role")
        stored = app.store.get(screen.conversation_id).messages[-1]
        assert stored.status == "stopped"
        assert stored.content == view.content and stored.content.startswith("word1 word2 ")
        assert "stopped" in label_text(screen, "#status-speed")


async def test_regenerate_replaces_the_last_reply() -> None:
    engine = ScriptedEngine(["first answer", "second answer"])
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "question")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(engine.calls) == 2 and not screen.generating)
        assert [v.content for v in screen.message_views()] == ["question", "second answer"]
        stored = app.store.get(screen.conversation_id).messages
        assert [m.content for m in stored] == ["question", "second answer"]
        assert engine.calls[1] == engine.calls[0]  # the same prompt was sent again


async def test_edit_last_message_and_resend() -> None:
    engine = ScriptedEngine(["reply to typo", "reply to fix"])
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "helo wrld")
        await pilot.press("ctrl+l")
        prompt = screen.query_one("#prompt")
        assert prompt.text == "helo wrld"
        prompt.text = "hello world"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(engine.calls) == 2 and not screen.generating)
        stored = app.store.get(screen.conversation_id).messages
        assert [m.content for m in stored] == ["hello world", "reply to fix"]
        assert engine.calls[1][-1].content == "hello world"
        assert [v.content for v in screen.message_views()] == ["hello world", "reply to fix"]


async def test_newline_key_and_multiline_paste_stay_in_the_prompt(scripted: ScriptedEngine) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one("#prompt")
        prompt.focus()
        await pilot.press("a", "ctrl+j", "b")
        assert prompt.text == "a\nb"
        prompt.insert("\nline 3\nline 4")  # what a bracketed paste does
        await pilot.press("enter")
        reply = await reply_done(pilot)
        assert screen.message_views("user")[0].content == "a\nb\nline 3\nline 4"
        assert reply.content == DEFAULT_REPLY and prompt.text == ""


async def test_copy_reply_and_code_block(scripted: ScriptedEngine) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await ask(pilot, "code please")
        await pilot.press("ctrl+o")
        assert app.clipboard == DEFAULT_REPLY
        await pilot.press("ctrl+g")
        assert app.clipboard == 'def greet(name: str) -> str:\n    return f"Hello, {name}!"'
        await wait_until(pilot, lambda: "Copied the last reply" in notices(app)
                         and "Copied a code block (2 lines)" in notices(app), what="the notices")


async def test_dropped_turns_are_shown_in_the_chat() -> None:
    app = make_app(ScriptedEngine(["ok"], dropped_messages=2))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "long history")
        notice = await wait_until(pilot, lambda: screen.query(".context-notice"))
        assert "2 oldest messages were left out" in str(notice.first().render())


async def test_message_sent_while_the_model_loads_is_answered_when_ready() -> None:
    import threading

    gate = threading.Event()
    engine = ScriptedEngine(["loaded answer"])

    def slow_loader(path, settings):
        gate.wait(10)
        return engine

    app = make_app(engine)
    app.engine_loader = slow_loader
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.is_mounted and screen.query("#prompt"))
        await wait_until(pilot, lambda: "loading" in label_text(screen, "#status-model"))
        await send(pilot, "early question")
        assert screen.message_views("user")[0].content == "early question"
        gate.set()
        reply = await reply_done(pilot)
        assert reply.content == "loaded answer"


async def test_no_model_configured_shows_what_to_do() -> None:
    from localchat.errors import HubUnreachableError
    from localchat.options.sources import Sources
    from localchat.recommend import hypothetical_profile

    def offline() -> None:
        raise HubUnreachableError("offline (test)")

    app = make_app(model_path=None)
    app.sources = Sources(probe=lambda: hypothetical_profile(8), local_models=list, check_online=offline)
    async with app.run_test(size=SIZE) as pilot:
        todo = await wait_until(pilot, lambda: app.screen.query("#setup-todo")
                                and str(app.screen.query_one("#setup-todo").render()))
        assert "localchat --model" in todo and "localchat pull starter" in todo


async def test_help_and_palette_list_every_chat_action(scripted: ScriptedEngine) -> None:
    from localchat.tui.screens.chat import ChatScreen

    app = make_app(scripted)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        described = [b.description for b in ChatScreen.BINDINGS]
        palette = [c.title for c in app.get_system_commands(screen)]
        assert set(described) <= set(palette)
        await pilot.press("f1")
        table = await wait_until(pilot, lambda: app.screen.query("DataTable") and
                                 app.screen.query_one("DataTable"))
        actions = [table.get_row_at(i)[2] for i in range(table.row_count)]
        assert set(described) <= set(actions) and "Send" in actions and "Help" in actions
        await pilot.press("escape")
        [chats] = [c for c in app.get_system_commands(screen) if c.title == "Chats"]
        await chats.callback()
        assert not screen.query_one("#sidebar").has_class("hidden")


async def test_quitting_during_a_reply_stores_it_as_stopped() -> None:
    engine = ScriptedEngine(infinite=True, delay_s=0.005)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "never ending")
        await wait_until(pilot, lambda: (v := streaming_reply(screen)) and v.content)
        conversation_id = screen.conversation_id
        await pilot.press("ctrl+q")
    reply = open_store().get(conversation_id).messages[-1]
    assert reply.status == "stopped" and reply.content.startswith("word1 ")
    assert engine.closed


async def test_theme_choice_is_remembered(scripted: ScriptedEngine) -> None:
    from localchat.config import load_config

    app = make_app(scripted)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.theme = "nord"
        await wait_until(pilot, lambda: load_config().ui.theme == "nord", what="the saved theme")


async def test_config_and_store_notices_are_shown(scripted: ScriptedEngine) -> None:
    from localchat.config import Config

    app = make_app(scripted, config=Config(notice="config file was unreadable; moved it aside"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: "moved it aside" in notices(app), what="the notice")


async def test_message_view_role_line() -> None:
    from textual.app import App, ComposeResult

    class Views(App[None]):
        def compose(self) -> ComposeResult:
            yield MessageView("assistant", "x", message_id=2, status="stopped", model="M")
            yield MessageView("user", "x", message_id=1)

    app = Views()
    async with app.run_test(size=SIZE):
        roles = [label_text(view, ".role") for view in app.query(MessageView)]
    assert roles == ["Assistant · M  [stopped]", "You"]


def test_importing_the_tui_does_not_import_llama_cpp() -> None:
    import subprocess
    import sys

    code = ("import sys, localchat.tui, localchat.tui.app; "
            "print('llama_cpp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_model_that_fails_to_load_is_reported(scripted: ScriptedEngine) -> None:
    from localchat.errors import ModelFileError

    def broken(path, settings):
        raise ModelFileError("model file is truncated (98 MB expected, 5 MB on disk)",
                             "run `localchat pull` again")

    app = make_app(scripted)
    app.engine_loader = broken
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: "Could not load the model: model file is truncated"
                         in notices(app), what="the notice")
        await wait_until(pilot, lambda: "did not load" in label_text(screen, "#status-speed"))


def test_missing_model_file_is_one_clear_error(capsys) -> None:
    from localchat.cli import main

    assert main(["--model", "/nowhere/model.gguf"]) == 2
    err = capsys.readouterr().err
    assert "model file /nowhere/model.gguf does not exist" in err and "Traceback" not in err


class _OverflowEngine(ScriptedEngine):
    """The engine's answer to a message too long for the context window."""

    def chat(self, messages, sampling=None, cancel=None):
        from localchat.errors import ContextOverflowError

        self.calls.append(list(messages))
        raise ContextOverflowError("the message is 3000 tokens, the context holds 2048",
                                   "shorten it, or load the model with a longer context")
        yield  # a generator, like the real engine


async def test_a_reply_that_fails_says_why_and_keeps_the_question() -> None:
    app = make_app(_OverflowEngine())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await send(pilot, "a very long paste")
        await wait_until(pilot, lambda: "The reply failed: the message is 3000 tokens" in notices(app),
                         what="the notice")
        await wait_until(pilot, lambda: not screen.generating)
        assert [v.role for v in screen.message_views()] == ["user"]
        stored = app.store.get(screen.conversation_id).messages
        assert [(m.role, m.content) for m in stored] == [("user", "a very long paste")]
        assert "Ctrl+R tries again" in label_text(screen, "#status-speed")
