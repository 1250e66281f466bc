"""The chat's sampling follows the loaded model's recommended values where the user set none
(the config's [chat] and F3 win), and a system-prompt preset chosen in F3 is what the engine
receives as the system message."""

from __future__ import annotations

import pytest

from localchat.config import ChatDefaults, Config, load_config
from localchat.engine.types import Message, Sampling
from localchat.presets import find_preset
from tests.tui.conftest import SIZE, ask, make_app, ready, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

QWEN3_THINKING = dict(temperature=0.6, top_p=0.95, top_k=20, min_p=0.0)
QWEN3_NO_THINKING = dict(temperature=0.7, top_p=0.8, top_k=20, min_p=0.0)


def qwen3() -> ScriptedEngine:
    """A scripted engine that presents itself as Qwen3-0.6B (file Qwen3-0.6B-Q4_K_M.gguf) with
    Qwen3's thinking switch."""
    return ScriptedEngine(name="Qwen3-0.6B", thinking="switchable")


async def open_settings(pilot) -> None:
    await pilot.press("f3")
    await wait_until(pilot, lambda: pilot.app.screen.query("#top-k"), what="the settings")


async def save_settings(pilot, screen, *, key: str = "ctrl+s") -> None:
    await pilot.press(key)
    await wait_until(pilot, lambda: pilot.app.screen is screen, what="the chat")


async def regenerate(pilot, screen, engine: ScriptedEngine, calls: int) -> None:
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: len(engine.calls) == calls and not screen.generating,
                     what=f"reply {calls}")


async def test_a_qwen3_model_samples_with_qwen3s_values_for_thinking_on_and_off() -> None:
    engine = qwen3()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        assert engine.samplings[0] == Sampling(**QWEN3_THINKING, max_tokens=1024)
        await open_settings(pilot)
        assert app.screen.query_one("#temperature").value == "0.6"  # what the reply uses
        assert app.screen.query_one("#sampling-source").render().plain == (
            "Values you did not set: Qwen 3's recommendation with thinking")
        app.screen.query_one("#thinking").value = "off"
        await save_settings(pilot, screen)
        await regenerate(pilot, screen, engine, 2)
        assert engine.samplings[1] == Sampling(**QWEN3_NO_THINKING, max_tokens=1024,
                                               enable_thinking=False)


async def test_the_configs_temperature_wins_over_the_recommendation() -> None:
    from localchat import paths

    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    # 0.7 is localchat's default too: set in the file, it is the user's choice all the same
    paths.config_file().write_text("[chat]\ntemperature = 0.7\n", encoding="utf-8")
    engine = qwen3()
    app = make_app(engine, config=load_config())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hi")
        assert engine.samplings[0] == Sampling(**{**QWEN3_THINKING, "temperature": 0.7},
                                               max_tokens=1024)


async def test_a_config_built_with_other_values_than_the_defaults_is_the_users_too() -> None:
    engine = qwen3()
    app = make_app(engine, config=Config(chat=ChatDefaults(temperature=0.0, top_k=5)))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hi")
        assert engine.samplings[0] == Sampling(**{**QWEN3_THINKING, "temperature": 0.0,
                                                  "top_k": 5}, max_tokens=1024)


async def test_a_value_changed_in_f3_wins_and_a_cleared_one_goes_back_to_the_recommendation() -> None:
    engine = qwen3()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        await open_settings(pilot)
        app.screen.query_one("#temperature").value = "1.2"
        await save_settings(pilot, screen)
        await regenerate(pilot, screen, engine, 2)
        assert engine.samplings[1] == Sampling(**{**QWEN3_THINKING, "temperature": 1.2},
                                               max_tokens=1024)
        stored = app.store.get(screen.conversation_id).settings
        assert stored.temperature == 1.2 and stored.user_set == {"temperature"}
        await open_settings(pilot)
        assert app.screen.query_one("#temperature").value == "1.2"
        app.screen.query_one("#temperature").value = ""
        await save_settings(pilot, screen)
        await regenerate(pilot, screen, engine, 3)
        assert engine.samplings[2] == Sampling(**QWEN3_THINKING, max_tokens=1024)


async def test_a_model_without_a_recommendation_keeps_localchats_defaults() -> None:
    engine = ScriptedEngine()  # Scripted-1B: no family
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "hi")
        assert engine.samplings[0] == Sampling(max_tokens=1024)
        await open_settings(pilot)
        assert app.screen.query_one("#sampling-source").render().plain == (
            "Values you did not set: localchat's defaults")


async def test_a_preset_chosen_in_f3_is_the_system_message_the_engine_gets() -> None:
    engine = ScriptedEngine()
    app = make_app(engine)
    coder = find_preset("Coder").prompt
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        assert engine.calls[0][0] == Message("system", "You are a helpful assistant.")
        await open_settings(pilot)
        presets = app.screen.query_one("#preset")
        presets.value = [p.name for p in app.screen.presets].index("Coder")
        await wait_until(pilot, lambda: app.screen.query_one("#system-prompt").text == coder,
                         what="the preset's prompt in the form")
        await save_settings(pilot, screen)
        await regenerate(pilot, screen, engine, 2)
        assert engine.calls[1][0] == Message("system", coder)
        stored = app.store.get(screen.conversation_id).settings
        assert (stored.preset, stored.system_prompt) == ("Coder", coder)
        # typed text that is no preset's makes the choice Custom
        await open_settings(pilot)
        assert app.screen.query_one("#preset").value == presets.value
        app.screen.query_one("#system-prompt").text = "Answer in French."
        await wait_until(pilot, lambda: app.screen.query_one("#preset").value == -1,
                         what="Custom")
        await save_settings(pilot, screen)
        stored = app.store.get(screen.conversation_id).settings
        assert (stored.preset, stored.system_prompt) == ("", "Answer in French.")


async def test_the_users_own_presets_are_offered_and_save_as_default_keeps_the_preset() -> None:
    from localchat import paths
    from localchat.presets import Preset

    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text('[[chat.presets]]\nname = "Pirate"\nprompt = "Arr."\n',
                                   encoding="utf-8")
    engine = ScriptedEngine()
    app = make_app(engine, config=load_config())
    assert app.config.presets == (Preset("Pirate", "Arr."),)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "hi")
        await open_settings(pilot)
        names = [p.name for p in app.screen.presets]
        assert names[-1] == "Pirate"
        app.screen.query_one("#preset").value = names.index("Pirate")
        await wait_until(pilot, lambda: app.screen.query_one("#system-prompt").text == "Arr.")
        await pilot.click("#save-default")
        await wait_until(pilot, lambda: app.screen is screen)
        config = load_config()
        assert (config.chat.preset, config.chat.system_prompt) == ("Pirate", "Arr.")
        assert config.presets == (Preset("Pirate", "Arr."),)  # the user's presets are kept
        await regenerate(pilot, screen, engine, 2)
        assert engine.calls[1][0] == Message("system", "Arr.")
