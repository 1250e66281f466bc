"""Text from users, models and files is data in the TUI (issue 13, items 5 and 6): a title or a
folder with Textual markup in it is shown as typed, never parsed (F3, F5, F8 used to exit with
``MarkupError``), and a stored reply holding escape sequences is shown inertly."""

from __future__ import annotations

import ast
import html
from pathlib import Path

import pytest

from tests.tui.conftest import SIZE, make_app, notices, open_store, ready, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

MARKUP_TITLE = "[/x] what does this closing tag do?"
HOSTILE_REPLY = "Sure.\x1b]52;c;aGFja2Vk\x07 \x1b[2J\x1b]2;PWNED\x07 \x9b2J done"


def stored_chat(title: str, reply: str = "A reply.") -> int:
    store = open_store()
    conversation = store.create(title=title)
    store.add_message(conversation.id, "user", title)
    store.add_message(conversation.id, "assistant", reply, model="Scripted-1B")
    store.close()
    return conversation.id


async def test_markup_in_a_title_is_text_in_settings_and_delete(scripted: ScriptedEngine) -> None:
    conversation_id = stored_chat(MARKUP_TITLE)
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts drawn
        screen = await ready(pilot)
        assert screen.conversation_id == conversation_id
        assert str(screen.query_one("#chat-title").content) == MARKUP_TITLE
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#system-prompt"), what="the settings")
        assert any(MARKUP_TITLE in str(label.content) for label in app.screen.query(".dialog-question"))
        await pilot.press("escape")
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.screen.query("#yes"), what="the delete question")
        assert MARKUP_TITLE in str(app.screen.query_one(".dialog-question").content)
        await pilot.press("y")
        await wait_until(pilot, lambda: MARKUP_TITLE in notices(app),
                         what="the deleted notice")
        assert app.store.list() == []
        assert app.is_running


async def test_export_into_a_folder_with_markup_in_its_name(scripted: ScriptedEngine, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "w[/x]"  # a folder "w[" holding "x]": the path reads as a closing tag
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    stored_chat(MARKUP_TITLE)
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts drawn
        await ready(pilot)
        await pilot.press("f5")
        await wait_until(pilot, lambda: "Exported this chat" in notices(app), what="export")
        [exported] = folder.glob("localchat-*.md")
        assert str(exported) in notices(app)
        assert app.is_running


async def test_a_stored_reply_with_escape_sequences_is_shown_inertly(scripted: ScriptedEngine) -> None:
    stored_chat("title \x1b]2;PWNED\x07 [b]x[/b]", HOSTILE_REPLY)
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts drawn
        screen = await ready(pilot)
        [reply] = screen.message_views("assistant")
        assert reply.content == HOSTILE_REPLY  # the stored text itself is kept
        await pilot.pause()
        shown = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "␛]52;c;aGFja2Vk␇" in shown and "␛[2J" in shown
        assert "title ␛]2;PWNED␇ [b]x[/b]" in shown
        for control in ("\x1b", "\x07", "\x9b"):
            assert control not in shown
        app.notify("a \x1b]2;PWNED\x07 notice [/x]")
        await wait_until(pilot, lambda: "a ␛]2;PWNED␇ notice [/x]" in notices(app).splitlines(),
                         what="the notice, inert")


def test_every_label_and_static_is_a_plain_one() -> None:
    """The mechanism behind the tests above: no TUI module builds textual's Label or Static
    itself (which parse markup and pass control characters); they use widgets/plain.py."""
    root = Path(__file__).resolve().parents[2] / "localchat" / "tui"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "plain.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual.widgets"):
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name in ("Label", "Static")]
    assert offenders == []

