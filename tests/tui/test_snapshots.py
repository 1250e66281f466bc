"""Snapshots of every screen on the scripted engine, 100x30, the cursor blink frozen.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before keeping them."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.conftest import SIZE, ask, make_app, ready, wait_until
from tests.tui.scripted import ScriptedEngine


async def _chat_with_reply(pilot: Pilot) -> None:
    screen = await ready(pilot)
    screen.query_one("#prompt").cursor_blink = False
    await ask(pilot, "Write a greeting function in Python")
    await pilot.pause()


def test_chat_screen(snap_compare) -> None:
    assert snap_compare(make_app(ScriptedEngine()), terminal_size=SIZE, run_before=_chat_with_reply)


def test_sidebar(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _chat_with_reply(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()

    assert snap_compare(make_app(ScriptedEngine()), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(make_app(ScriptedEngine()), terminal_size=SIZE, run_before=run_before)


def test_settings(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f3")
        # blink off only once it has focus: before, TextArea keeps the cursor hidden (a race)
        prompt = await wait_until(pilot, lambda: pilot.app.screen.query("#system-prompt")
                                  and pilot.app.screen.query_one("#system-prompt").has_focus
                                  and pilot.app.screen.query_one("#system-prompt"), what="F3's prompt")
        prompt.cursor_blink = False

    assert snap_compare(make_app(ScriptedEngine()), terminal_size=SIZE, run_before=run_before)


def test_setup_screen(snap_compare) -> None:
    """The first-run setup on a fixed machine (16 GiB RAM, an 8 GiB CUDA GPU), online, with four
    catalog models and none on disk: the probe, the recommendation and the choices."""
    from localchat.options.sources import Sources
    from localchat.recommend import Catalog, hypothetical_profile, load_catalog

    names = ("Llama-3.2-3B-Instruct", "Llama-3.1-8B-Instruct", "Qwen3-8B", "Qwen3-14B")
    catalog = Catalog(tuple(load_catalog().get(name) for name in names))
    app = make_app(model_path=None)
    app.sources = Sources(probe=lambda: hypothetical_profile(16, 8, "cuda", ram_bandwidth_gbps=50,
                                                             gpu_bandwidth_gbps=360),
                          catalog=lambda: catalog, local_models=list, check_online=lambda: None)

    async def run_before(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "plan", None) is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_stopped_reply_and_dropped_turns(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = await ready(pilot)
        screen.query_one("#prompt").cursor_blink = False
        await ask(pilot, "Count slowly")
        await pilot.pause()

    engine = ScriptedEngine(["one two three four five six seven"], dropped_messages=2,
                            finish="cancelled")
    assert snap_compare(make_app(engine), terminal_size=SIZE, run_before=run_before)


def test_thinking_section_and_a_cut_off_reply(snap_compare) -> None:
    """A reply that thought (its section collapsed, with the time and tokens it took), then a
    reply cut off at max tokens with its note."""
    async def run_before(pilot: Pilot) -> None:
        screen = await ready(pilot)
        screen.query_one("#prompt").cursor_blink = False
        await ask(pilot, "Say hello")
        await ask(pilot, "Tell me a story")
        await pilot.pause()

    engine = ScriptedEngine(["<think>\nThe user greets me; greet back briefly.</think>\n\nHello! **How** can "
                             "I help?", "Once upon a time the Red Dragon did not"],
                            finish=["stop", "length"])
    assert snap_compare(make_app(engine), terminal_size=SIZE, run_before=run_before)


def test_settings_with_the_thinking_switch(snap_compare) -> None:
    """F3 on a model whose template can turn thinking off (Qwen3): the switch is offered."""
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f3")
        # blink off only once it has focus: before, TextArea keeps the cursor hidden (a race)
        prompt = await wait_until(pilot, lambda: pilot.app.screen.query("#system-prompt")
                                  and pilot.app.screen.query_one("#system-prompt").has_focus
                                  and pilot.app.screen.query_one("#system-prompt"), what="F3's prompt")
        prompt.cursor_blink = False

    assert snap_compare(make_app(ScriptedEngine(thinking="switchable")), terminal_size=SIZE,
                        run_before=run_before)
