"""What a terminal shows while a reply streams, from the bytes the app writes: at every step,
the same as after every widget is drawn again from scratch. A streaming update repaints only the
lines that changed (widgets/streaming.py); a changed line left out of that repaint would stay
stale on the terminal (and in the widget's own line cache, so the app's screenshot shares the
mistake: a terminal emulator fed the app's output is the judge)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyte
import pytest
from textual._compositor import CompositorUpdate
from textual.screen import Screen

from localchat.engine.types import TextChunk
from localchat.tui import generation
from localchat.tui.widgets.message import MessageView
from tests.tui.conftest import SIZE, make_app, ready, send, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

# words that wrap onto new lines as they come, paragraphs, and Markdown that changes earlier
# text when it closes (**bold**)
STORY = ("The dragon painted the cliffs of the valley with ochre and soot, and the villagers "
         "came every morning to see what had changed overnight. **Some of them brought "
         "brushes** made from the tails of foxes.\n\nHe held them carefully between two claws, "
         "and painted the sky at dusk in a blue that nobody had seen before. ") * 2


class GatedEngine(ScriptedEngine):
    """Sends its next piece when the test says so."""

    def __init__(self, text: str, piece_chars: int) -> None:
        super().__init__([text], piece_chars=piece_chars)
        self.go = threading.Semaphore(0)

    def chat(self, messages, sampling=None, cancel=None) -> Iterator:  # type: ignore[override]
        for event in super().chat(messages, sampling, cancel):
            if isinstance(event, TextChunk):
                self.go.acquire(timeout=30)
            yield event


def terminal_of(app) -> pyte.Screen:
    """A VT100 screen fed every frame the app would write to its terminal."""
    terminal = pyte.Screen(*SIZE)
    stream = pyte.Stream(terminal)
    shown = app._display

    def display(screen: Screen, renderable) -> None:
        if isinstance(renderable, CompositorUpdate) and not app._batch_count:
            stream.feed(renderable.render_segments(app.console))
        shown(screen, renderable)

    app._display = display
    return terminal


def screen_text(terminal: pyte.Screen) -> list[str]:
    return list(terminal.display)


async def test_the_terminal_shows_what_the_screen_holds_at_every_step_of_a_reply(monkeypatch):
    monkeypatch.setattr(generation, "SHOW_MIN_INTERVAL_S", 0.0)  # every piece is an update
    monkeypatch.setattr(generation, "UI_CPU_SHARE", 1.0)
    monkeypatch.setattr(generation, "UI_CPU_SHARE_SPARE_CORE", 1.0)
    piece = 9
    engine = GatedEngine(STORY, piece_chars=piece)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        terminal = terminal_of(app)
        await ready(pilot)
        await send(pilot, "Tell me a story")
        app.refresh()  # a whole frame to start the terminal from
        for step in range(1, len(STORY) // piece):
            engine.go.release()

            def caught_up(chars: int = step * piece) -> bool:
                views = app.screen.query(MessageView)
                return bool(views) and len(views.last().content) >= chars

            await wait_until(pilot, caught_up, what=f"piece {step}")
            await pilot.pause(0.05)  # its frame drawn (the screen updates at 60 a second)
            shown = screen_text(terminal)
            for widget in app.screen.walk_children():
                widget.refresh()  # every line of every widget drawn again
            await pilot.pause(0.05)
            assert screen_text(terminal) == shown, f"piece {step}: stale lines on the terminal"
        engine.go.release(10_000)
