"""A streamed reply looks the same as the reply rendered whole, however its text arrives, and
costs the screen no more per update at its end than at its start."""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Markdown

from localchat.tui import generation
from localchat.tui.messages import ReplyFinished
from localchat.tui.widgets.plain import PlainStatic
from localchat.tui.widgets.streaming import GrowingText, MessageMarkdown, StreamingMarkdown
from tests.tui.conftest import SIZE, make_app, ready, send
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

STORY = "\n\n".join([
    "Once upon a time, in the land of **Eldrador**, there was a dragon named *Eryndorax*, "
    "whose scales shone like the sun and whose tail could change its colour at will.",
    "He loved to paint: with `ochre`, with soot, and with the [blue](https://example.org) of "
    "the sky at dusk, on every cliff of the valley.",
    "Short one.",
    "The villagers came to watch him work, and some of them brought him brushes made from the "
    "tails of foxes, which he held very carefully between two claws " * 3,
])

MIXED = """# The painter

A dragon *learns* to paint.

- ochre
- soot, ground fine
  and mixed with oil
- blue

1. sketch
2. colour

```python
def paint(wall: str) -> str:
    return wall.upper()
```

> A quote, with **bold** in it.

---

| colour | from |
|--------|------|
| ochre  | clay |

Setext title
============

Last words."""

PIECES = [1, 3, 17, 10_000]


class Page(App[None]):
    """One widget on a page styled as the chat styles a message's Markdown."""

    CSS = """
    Markdown { margin: 0; padding: 0; }
    Markdown > .last-block { margin-bottom: 0; }
    """

    def __init__(self, widget: Markdown | GrowingText | PlainStatic) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


Cell = tuple[str, str]


def cell(char: str, style) -> Cell:  # type: ignore[no-untyped-def]
    if char == " " and style is not None:  # a blank shows its background, and lines through it
        return char, f"{style.bgcolor} {style.underline} {style.reverse} {style.strike}"
    return char, str(style)


def screen(app: App[None]) -> list[list[Cell]]:
    """What the screen shows, cell by cell."""
    return [[cell(char, seg.style) for seg in strip for char in seg.text]
            for strip in app.screen._compositor.render_strips()]


class NoReserve(StreamingMarkdown):
    RESERVE_LINES = 0  # the blank lines kept below a growing paragraph would differ


async def whole(text: str, size: tuple[int, int]) -> list[list[Cell]]:
    app = Page(MessageMarkdown(text))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return screen(app)


async def streamed(text: str, piece: int, size: tuple[int, int],
                   each_step: list | None = None) -> list[list[Cell]]:
    stream = NoReserve()
    app = Page(stream)
    async with app.run_test(size=size) as pilot:
        for i in range(0, len(text), piece):
            await stream.append(text[i:i + piece])
            if each_step is not None:
                await pilot.pause()
                each_step.append((text[:i + piece], screen(app)))
        await pilot.pause()
        return screen(app)


@pytest.mark.parametrize("piece", PIECES)
@pytest.mark.parametrize("text", [STORY, MIXED], ids=["story", "mixed"])
async def test_a_streamed_reply_ends_as_the_whole_render(text: str, piece: int) -> None:
    size = (60, 60)
    assert await streamed(text, piece, size) == await whole(text, size)


async def test_each_step_of_a_story_looks_like_its_text_so_far() -> None:
    size = (50, 40)
    steps: list = []
    await streamed(STORY, 23, size, steps)
    for text, shown in steps[::3]:
        assert shown == await whole(text, size), text[-40:]


async def test_paragraphs_stream_into_one_widget() -> None:
    stream = StreamingMarkdown()
    app = Page(stream)
    async with app.run_test(size=(80, 40)) as pilot:
        for i in range(0, len(STORY), 5):
            await stream.append(STORY[i:i + 5])
        await pilot.pause()
        assert len(stream.blocks) == 1  # four paragraphs, no new widget for any but the first
        assert stream.blocks[0].styles.height.value >= stream.blocks[0].lines  # and blank lines below


async def test_a_paragraph_that_turns_into_a_heading_leaves_no_gap() -> None:
    size = (40, 10)
    text = "Intro.\n\nTitle\n=====\n\nBody."
    for piece in (1, 2, 5):
        assert await streamed(text, piece, size) == await whole(text, size)


async def test_a_long_run_of_paragraphs_is_closed_and_a_new_one_started() -> None:
    stream = NoReserve()
    app = Page(stream)
    text = "\n\n".join(f"Paragraph {n} " + "word " * 30 for n in range(40))
    async with app.run_test(size=(60, 30)) as pilot:
        for i in range(0, len(text), 40):
            await stream.append(text[i:i + 40])
        await pilot.pause()
        runs = stream.blocks
        assert 2 <= len(runs) <= 40 * 3 // StreamingMarkdown.RUN_LINES + 2
        assert all(run.lines <= StreamingMarkdown.RUN_LINES + 8 for run in runs)
        assert stream.source == text
    # and it still ends as the whole render
    assert await streamed(text, 97, (60, 200)) == await whole(text, (60, 200))


class SmallPieces(GrowingText):
    RESERVE_LINES = 0
    PIECE_LINES = 3


async def test_thinking_streams_in_pieces_that_look_like_one_text() -> None:
    text = "\n".join(f"Step {n}: " + "consider the options " * (n % 4 + 1) for n in range(12))
    growing = SmallPieces()
    app = Page(growing)
    async with app.run_test(size=(40, 60)) as pilot:
        for i in range(0, len(text), 11):
            await growing.append(text[i:i + 11])
        await pilot.pause()
        assert len(growing.children) > 3 and growing.text == text
        streamed_screen = screen(app)
        await growing.reset(text)
        await pilot.pause()
        assert len(growing.children) == 1 and screen(app) == streamed_screen
    whole_app = Page(PlainStatic(text))
    async with whole_app.run_test(size=(40, 60)) as pilot:
        await pilot.pause()
        assert screen(whole_app) == streamed_screen


async def test_screen_updates_a_second_do_not_fall_as_a_reply_grows(monkeypatch) -> None:
    """A 2,000-token reply at a steady pace, screen updates paced by what they cost the UI
    thread (as in use, with a larger share so that the test is short). The pacer spaces updates
    by the UI CPU the last one took, so updates a second hold up as the reply grows exactly when
    that cost does: the median UI CPU between updates over the last fifth of them is not much
    more than over the second fifth (the first holds the reply's first render, a one-off): a cost
    that doubles as the reply grows fails it. (The UI thread's own CPU clock, not updates a
    second by the wall clock: a busy CI machine stretches the wall clock's windows unevenly, and
    failed the wall-clock version of this test. tui_speed.py measures updates a second in the
    first and last fifth of real replies.)"""
    monkeypatch.setattr(generation, "UI_CPU_SHARE", 0.3)
    monkeypatch.setattr(generation, "UI_CPU_SHARE_SPARE_CORE", 0.3)
    monkeypatch.setattr(generation, "SHOW_MIN_INTERVAL_S", 0.0)
    tokens = 2000
    story = (STORY + "\n\n") * 10
    engine = ScriptedEngine([story[: tokens * 4]], piece_chars=4, delay_s=1 / 300)
    costs: list[float] = []  # the UI thread's CPU seconds since the update before, at each update
    shown = generation.UiPacer.shown

    def counted(pacer: generation.UiPacer, now: float) -> None:
        costs.append(pacer.spent())
        shown(pacer, now)

    monkeypatch.setattr(generation.UiPacer, "shown", counted)
    finished = asyncio.Event()

    def watch(message: Any) -> None:
        if isinstance(message, ReplyFinished):
            finished.set()

    app = make_app(engine)
    async with app.run_test(size=SIZE, message_hook=watch) as pilot:
        await ready(pilot)
        await send(pilot, "Tell me a story")
        # an event, not polling: the Pilot's polling would cost the UI thread, and so the pacing
        await asyncio.wait_for(finished.wait(), timeout=120)

    fifth = len(costs) // 5
    assert fifth >= 5, costs
    early, late = statistics.median(costs[fifth:2 * fifth]), statistics.median(costs[-fifth:])
    # about 5-7 ms each here, late/early 0.8-1.6 from run to run
    assert late <= 2 * early + 0.002, (early, late)
