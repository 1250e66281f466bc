"""Conversations as wholes on the scripted engine: the sidebar, search, rename, delete, and
each conversation's settings."""

from __future__ import annotations

import pytest

from tests.tui.conftest import SIZE, ask, make_app, notices, ready, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio


async def test_sidebar_new_rename_and_delete_with_confirmation(scripted: ScriptedEngine) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "first chat")
        first_id = screen.conversation_id
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.query("#answer"))
        app.screen.query_one("#answer").value = "Renamed chat"
        await pilot.press("enter")
        assert app.store.get(first_id).title == "Renamed chat"
        await pilot.press("ctrl+n")
        assert screen.conversation_id is None and screen.message_views() == []
        await pilot.press("ctrl+b")
        options = screen.query_one("#conversations")
        await wait_until(pilot, lambda: options.option_count == 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.conversation_id == first_id)
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.screen.query("#yes"))
        await pilot.press("escape")  # cancelled: still there
        assert [c.id for c in app.store.list()] == [first_id]
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.screen.query("#yes"))
        await pilot.click("#yes")
        await wait_until(pilot, lambda: app.store.list() == [])
        assert screen.conversation_id is None


async def test_settings_apply_to_the_conversation(scripted: ScriptedEngine) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#temperature"))
        app.screen.query_one("#system-prompt").text = "Answer like a pirate."
        app.screen.query_one("#temperature").value = "1.5"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        saved = app.store.get(screen.conversation_id).settings
        assert (saved.system_prompt, saved.temperature) == ("Answer like a pirate.", 1.5)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(scripted.calls) == 2 and not screen.generating)
        assert scripted.calls[1][0].content == "Answer like a pirate."


async def test_bad_setting_is_refused_with_a_message(scripted: ScriptedEngine) -> None:
    app = make_app(scripted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#temperature"))
        app.screen.query_one("#temperature").value = "9"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "temperature must be a number from 0 to 2" in notices(app),
                         what="the notice")
        assert app.screen.query("#temperature")  # still open


async def test_a_search_hit_opens_its_conversation() -> None:
    engine = ScriptedEngine(["Pelicans scoop fish.", "Otters hold hands."])
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "birds?")
        pelicans = screen.conversation_id
        await pilot.press("ctrl+n")
        await ask(pilot, "mammals?")
        assert screen.conversation_id != pelicans
        await pilot.press("ctrl+f", *"scoop")
        options = screen.query_one("#conversations")
        await wait_until(pilot, lambda: options.option_count == 1, what="one hit")
        await pilot.press("enter", "enter")  # to the list, then open the hit
        await wait_until(pilot, lambda: screen.conversation_id == pelicans)
        assert [v.content for v in screen.message_views()] == ["birds?", "Pelicans scoop fish."]


async def test_the_context_meter_counts_only_what_fits_the_context() -> None:
    """A long conversation reopened: the meter shows the tokens the next prompt holds (the
    older turns left out), never more than the context (issue 13: `5165/2048`)."""
    engine = ScriptedEngine(n_ctx=256)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        store = app.store
        chat = store.create(title="long")
        for i in range(20):
            store.add_message(chat.id, "user", f"question {i} " * 10)
            store.add_message(chat.id, "assistant", f"answer {i} " * 10)
        history = screen.current_messages(chat.id)
        assert engine.count_tokens(history) > 256, "the conversation must outgrow the context"
        await screen.open_conversation(chat.id)
        def meter() -> str:
            return str(screen.query_one("#status-ctx").render())

        await wait_until(pilot, lambda: "/256" in meter(), what="the context meter")
        used = int(meter().split()[-1].split("/")[0])
        assert 0 < used <= 256


async def test_sampling_and_the_thinking_switch_reach_the_engine() -> None:
    from localchat.engine.types import Sampling

    engine = ScriptedEngine(thinking="switchable")
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        assert engine.samplings[0] == Sampling(temperature=0.7, top_p=0.95, max_tokens=1024)
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#top-k"))
        form = app.screen
        for field, value in (("#top-k", "20"), ("#min-p", "0.1"), ("#repeat-penalty", "1.1"),
                             ("#seed", "42"), ("#max-tokens", "300")):
            form.query_one(field).value = value
        form.query_one("#thinking").value = "off"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(engine.calls) == 2 and not screen.generating)
        expected = Sampling(temperature=0.7, top_p=0.95, top_k=20, min_p=0.1, repeat_penalty=1.1,
                            max_tokens=300, seed=42, enable_thinking=False)
        assert engine.samplings[1] == expected
        # kept with the conversation: opened again, it samples the same
        stored = app.store.get(screen.conversation_id).settings
        assert (stored.top_k, stored.min_p, stored.repeat_penalty, stored.seed, stored.thinking) == (
            20, 0.1, 1.1, 42, False)
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#top-k"))
        assert app.screen.query_one("#seed").value == "42"
        assert app.screen.query_one("#thinking").value == "off"


async def test_no_thinking_switch_for_a_model_without_one_and_a_bad_field_is_named() -> None:
    app = make_app(ScriptedEngine())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#top-k"))
        assert not app.screen.query("#thinking")
        app.screen.query_one("#repeat-penalty").value = "3"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "repeat penalty must be a number from 1 to 2 (1: off)"
                         in notices(app).splitlines(), what="the notice")
        assert app.screen.query("#top-k")  # still open


async def test_save_as_default_writes_the_config_and_new_chats_start_with_it() -> None:
    from localchat import paths
    from localchat.config import load_config

    config_file = paths.config_file()
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("# my settings\n[chat]\ntemperature = 0.5  # calm\n", encoding="utf-8")
    app = make_app(ScriptedEngine())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.screen.query("#top-k"))
        app.screen.query_one("#top-k").value = "25"
        app.screen.query_one("#seed").value = "7"
        await pilot.click("#save-default")
        await wait_until(pilot, lambda: app.screen is screen)
        chat = load_config().chat
        assert (chat.top_k, chat.seed, chat.temperature, chat.thinking) == (25, 7, 0.7, "default")
        text = config_file.read_text(encoding="utf-8")
        assert "# my settings" in text and "min_p" not in text  # only what changed is written
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: screen.conversation_id is None)
        assert (screen.settings.top_k, screen.settings.seed) == (25, 7)
