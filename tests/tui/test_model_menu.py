"""The model menu (F4) and compare quants: switching mid-conversation through the menu, a choice
that does not fit, the settings fields, and two quants' replies side by side. Real SmolLM2 files
(Q4_1 and the Q8_0 llama.cpp's quantizer made) on a fixed hypothetical machine."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from localchat.config import ChatDefaults, Config, load_config
from localchat.download.inuse import holders
from localchat.download.store import LocalModel
from localchat.errors import ModelFileError
from localchat.loadsettings import LoadSettings
from localchat.options.sources import Sources
from localchat.options.words import tps_text
from localchat.recommend import hypothetical_profile, load_catalog
from localchat.recommend.catalog import Catalog
from localchat.tui.app import LocalChatApp
from localchat.tui.screens.compare import CompareScreen
from localchat.tui.screens.dialogs import ConfirmScreen
from localchat.tui.screens.models import ModelMenuScreen
from tests.tui.conftest import SIZE, ask, notices, open_store, ready, wait_until
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.anyio

MENU_MODELS = ("SmolLM2-135M-Instruct", "Llama-3.2-3B-Instruct", "Qwen3-8B")


def fixed_sources(paths: list[Path], *, ram_gib: float = 8, vram_gib: float | None = None) -> Sources:
    catalog = Catalog(tuple(e for e in load_catalog() if e.name in MENU_MODELS))
    profile = hypothetical_profile(ram_gib, vram_gib, "cuda" if vram_gib else "none")

    def local_models() -> list[LocalModel]:
        return [LocalModel(p.stem, "", "", p.stat().st_size, p, "folder", None) for p in paths]

    return Sources(probe=lambda: profile, catalog=lambda: catalog, local_models=local_models,
                   check_online=lambda: None)


def scripted_app(engines: dict[str, ScriptedEngine], start: Path, sources: Sources) -> LocalChatApp:
    def load(path: str, settings: LoadSettings) -> ScriptedEngine:
        return engines[path]

    return LocalChatApp(str(start), config=Config(), store=open_store(), engine_loader=load,
                        sources=sources, load_settings=LoadSettings(n_ctx=4096))


async def open_menu(pilot: Pilot, key: str = "f4") -> ModelMenuScreen:
    await pilot.press(key)
    # the rows shown and the table focused (focus() lands after the call; arrows before it
    # would go elsewhere)
    menu = await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelMenuScreen)
                            and pilot.app.screen.rows and pilot.app.screen.table.has_focus
                            and pilot.app.screen, what="the menu's rows")
    await pilot.pause()
    return menu


async def highlight(pilot: Pilot, menu: ModelMenuScreen, quant: str, model: str = MENU_MODELS[0]) -> None:
    """Move the cursor with the arrow keys to the row of ``model`` ``quant``."""
    target = next(i for i, r in enumerate(menu.visible_rows()) if r.model == model and r.quant == quant)
    for _ in range(len(menu.rows)):
        row = menu.table.cursor_row
        if row == target:
            break
        await pilot.press("down" if row < target else "up")
    assert menu.highlighted().quant == quant


def status_model(app: LocalChatApp) -> str:
    return str(app.screen.query_one("#status-model").render())


# ---------------------------------------------------------------------------------- scripted
async def test_menu_lists_every_quant_with_its_fit_and_the_palette_has_it(smollm2_path,
                                                                          smollm2_q8_path) -> None:
    app = scripted_app({str(smollm2_path): ScriptedEngine()}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path], vram_gib=4))
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        commands = [c.title for c in app.get_system_commands(chat)]
        assert "Models" in commands and "Compare quants" in commands
        menu = await open_menu(pilot)
        rows = {(r.model, r.quant): r for r in menu.rows}
        assert rows[("SmolLM2-135M-Instruct", "Q4_1")].loaded  # the cursor starts on it
        assert menu.highlighted().quant == "Q4_1"
        assert rows[("Qwen3-8B", "Q8_0")].fit == "none"
        assert rows[("Qwen3-8B", "Q4_K_M")].fit == "partial"
        assert rows[("Llama-3.2-3B-Instruct", "Q4_K_M")].fit == "gpu"
        detail = str(menu.query_one("#menu-detail").render())
        assert "picks the same next word as the 16-bit model about 85% of the time" in detail
        assert "Loaded: SmolLM2-135M-Instruct.Q4_1.gguf" in detail
        await pilot.press("f")  # only what fits
        assert all(r.fits for r in menu.visible_rows()) and len(menu.visible_rows()) < len(menu.rows)
        await pilot.press("escape")
        assert app.screen is chat


async def test_settings_fields_resize_rows_and_bad_input_loses_nothing(smollm2_path, smollm2_q8_path) -> None:
    app = scripted_app({str(smollm2_path): ScriptedEngine()}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)

        def q8() -> Any:
            return next(r for r in menu.rows if r.quant == "Q8_0")

        before = q8().needs_bytes
        ctx = menu.query_one("#menu-ctx")
        ctx.value = ""
        ctx.focus()
        await pilot.press(*"32k")
        await wait_until(pilot, lambda: q8().candidate.ctx == 32768, what="rows sized for 32k")
        assert q8().needs_bytes > before
        at_f16 = q8().needs_bytes
        menu.query_one("#menu-kv").value = "q8_0"
        await wait_until(pilot, lambda: q8().candidate.kv_type == "q8_0", what="a q8_0 KV cache")
        assert q8().needs_bytes < at_f16
        await pilot.press("backspace", "backspace", "backspace", *"abc")
        message = str(menu.query_one("#menu-message").render())
        assert "context length 'abc' is not a number" in message
        assert menu.query_one("#menu-message").has_class("error")
        assert q8().candidate.ctx == 32768 and menu.table.row_count == len(menu.rows)  # nothing lost
        ctx.value = "8k"
        await wait_until(pilot, lambda: q8().candidate.ctx == 8192, what="rows sized for 8k")
        assert not menu.query_one("#menu-message").has_class("error")
        menu.query_one("#menu-gpu").value = "lots"
        await pilot.pause()
        assert "GPU layers 'lots' is not a number" in str(menu.query_one("#menu-message").render())


async def test_a_choice_that_does_not_fit_asks_first(smollm2_path, smollm2_q8_path) -> None:
    q4 = ScriptedEngine(["small answer"], name="SmolLM2", quant="Q4_1")
    q8 = ScriptedEngine(["big answer"], name="SmolLM2", quant="Q8_0")
    app = scripted_app({str(smollm2_path): q4, str(smollm2_q8_path): q8}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path], ram_gib=2))  # 1.3 GiB free
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)
        menu.query_one("#menu-ctx").value = "65536"
        await wait_until(pilot, lambda: menu.rows[0].candidate.ctx == 65536)
        await highlight(pilot, menu, "Q8_0")
        assert not menu.highlighted().fits
        await pilot.press("enter")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        question = str(dialog.query_one(".dialog-question").render())
        assert "does not fit" in question and "1.3 GiB is available" in question and "swap" in question
        await pilot.press("escape")  # no: nothing changes
        await pilot.pause()
        assert app.screen is menu and app.engine is q4
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # load anyway
        await wait_until(pilot, lambda: app.engine is q8, what="the Q8_0 model")
        assert app.load_settings.n_ctx == 65536 and q4.closed
        await wait_until(pilot, lambda: load_config().model.path == str(smollm2_q8_path),
                         what="the choice saved for the next start")


async def test_compare_swaps_models_when_both_do_not_fit_together(smollm2_path, smollm2_q8_path) -> None:
    q4 = ScriptedEngine(["small answer"], name="SmolLM2", quant="Q4_1")
    q8 = ScriptedEngine(["big answer"], name="SmolLM2", quant="Q8_0")
    app = scripted_app({str(smollm2_path): q4, str(smollm2_q8_path): q8}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path], ram_gib=1.2))  # 0.77 GiB free
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        await ask(pilot, "first question")
        menu = await open_menu(pilot, "f9")
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("c")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "do not fit in memory together" in str(dialog.query_one(".dialog-question").render())
        await pilot.press("y")
        compare = await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        await wait_until(pilot, lambda: compare.finished, what="both replies")
        assert not compare.side_by_side and app.engine is q8  # swapped in for its reply
        assert [compare.views[s].content for s in (1, 2)] == ["small answer", "big answer"]
        assert q8.calls[0] == q4.calls[1]  # the same conversation, up to the last user message
        assert [m.content for m in q8.calls[0][1:]] == ["first question"]
        assert "42.5 t/s" in str(compare.query_one("#stats-2").render())
        # 3 tokens a side cannot time a difference
        assert "within noise (3 and 3 tokens" in str(compare.query_one("#compare-note").render())
        await pilot.press("escape")  # keep Q4_1: it is loaded back
        await wait_until(pilot, lambda: app.screen is chat and app.engine is q4, what="Q4_1 back")
        assert app.model_path == str(smollm2_path)
        assert [v.content for v in chat.message_views()] == ["first question", "small answer"]


async def test_compare_then_switch_to_the_other_quant(smollm2_path, smollm2_q8_path) -> None:
    # 65 and 74 pieces (a piece a token): both long enough to time
    q4 = ScriptedEngine(["small answer " * 20], name="SmolLM2", quant="Q4_1", gen_tps=100.0)
    q8 = ScriptedEngine(["big answer " * 20], name="SmolLM2", quant="Q8_0", delay_s=0.01,
                        piece_chars=3, gen_tps=62.0)
    app = scripted_app({str(smollm2_path): q4, str(smollm2_q8_path): q8}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path]))
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        await ask(pilot, "first question")
        menu = await open_menu(pilot)
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("c")
        compare = await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        # while Q8_0 answers, `localchat rm` sees it in use, as it sees the chat's model
        await wait_until(pilot, lambda: holders(smollm2_q8_path), what="Q8_0 marked in use")
        await wait_until(pilot, lambda: compare.finished, what="both replies")
        assert compare.side_by_side and app.engine is q4  # Q8_0 answered beside Q4_1
        assert q8.closed and not holders(smollm2_q8_path)  # ...and was closed and let go again
        note = str(compare.query_one("#compare-note").render())
        assert "Q8_0 generated at 0.62× the speed of Q4_1" in note
        await pilot.click("#switch")
        await wait_until(pilot, lambda: app.screen is chat and app.engine is q8, what="Q8_0 loaded")
        await wait_until(pilot, lambda: load_config().model.path == str(smollm2_q8_path),
                         what="the choice saved")
        assert "Q8_0" in status_model(app)


async def test_switching_model_during_a_comparison_stops_it_first(smollm2_path, smollm2_q8_path) -> None:
    q4 = ScriptedEngine(["short"], name="SmolLM2", quant="Q4_1")
    q8 = ScriptedEngine(["big answer"], name="SmolLM2", quant="Q8_0")
    app = scripted_app({str(smollm2_path): q4, str(smollm2_q8_path): q8}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, "first question")
        q4.infinite, q4.delay_s = True, 0.005  # the comparison's first reply runs until stopped
        menu = await open_menu(pilot)
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("c")
        compare = await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        await wait_until(pilot, lambda: len(compare.views[1].content) > 20, what="the first reply")
        app.switch_model(str(smollm2_q8_path))  # e.g. from the menu opened over the comparison
        await wait_until(pilot, lambda: app.engine is q8, what="Q8_0 loaded")
        assert compare.cancel.is_set() and compare.stop_reply().is_set() and q4.closed
        assert compare.views[1].status == "stopped"


async def test_a_model_that_fails_to_load_is_not_remembered(smollm2_path, smollm2_q8_path) -> None:
    q4 = ScriptedEngine(name="SmolLM2", quant="Q4_1")

    def load(path: str, settings: LoadSettings) -> ScriptedEngine:
        if path == str(smollm2_q8_path):
            raise ModelFileError("model file is truncated", "download it again")
        return q4

    app = LocalChatApp(str(smollm2_path), config=Config(), store=open_store(), engine_loader=load,
                       sources=fixed_sources([smollm2_path, smollm2_q8_path]))
    async with app.run_test(notifications=True, size=SIZE) as pilot:
        chat = await ready(pilot)
        menu = await open_menu(pilot)
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is chat and not app.loading, what="the failed load")
        await wait_until(pilot, lambda: not app.workers, what="the app's workers to end")
        await wait_until(pilot, lambda: "model file is truncated" in notices(app), what="the reason")
        assert load_config().model.path == ""  # the next start does not open the broken file


async def test_menu_from_the_no_model_screen_opens_the_chat(smollm2_path) -> None:
    q4 = ScriptedEngine(name="SmolLM2", quant="Q4_1")
    app = LocalChatApp(None, config=Config(), store=open_store(), engine_loader=lambda p, s: q4,
                       sources=fixed_sources([smollm2_path]))
    async with app.run_test(notifications=True, size=SIZE) as pilot:
        menu = await open_menu(pilot)
        assert not any(r.loaded for r in menu.rows)
        await highlight(pilot, menu, "Q4_1")
        await pilot.press("c")  # nothing is loaded to compare with: says so
        await wait_until(pilot, lambda: "No model is loaded" in notices(app), what="the notice")
        await pilot.press("enter")
        chat = await ready(pilot)
        assert app.engine is q4 and chat is app.screen


async def test_a_row_not_on_disk_is_downloaded_then_loaded(smollm2_path, smollm2_q8_path,
                                                           monkeypatch) -> None:
    from tests.download.hubserver import HubServer

    repo = "test-org/SmolLM2-135M-Instruct-GGUF"
    entry = dataclasses.replace(load_catalog().get(MENU_MODELS[0]), repo=repo, quants=("Q8_0",))
    q4 = ScriptedEngine(name="SmolLM2", quant="Q4_1")
    q8 = ScriptedEngine(name="SmolLM2", quant="Q8_0")
    local = fixed_sources([smollm2_path])
    sources = dataclasses.replace(local, catalog=lambda: Catalog((entry,)))

    def load(path: str, settings: LoadSettings) -> ScriptedEngine:
        return q8 if path.endswith("Q8_0.gguf") else q4

    app = LocalChatApp(str(smollm2_path), config=Config(), store=open_store(), engine_loader=load,
                       sources=sources)
    with HubServer() as hub:
        hub.state.add_repo(repo, {"SmolLM2-135M-Instruct-Q8_0.gguf": smollm2_q8_path})
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        async with app.run_test(size=SIZE) as pilot:
            chat = await ready(pilot)
            menu = await open_menu(pilot)
            await highlight(pilot, menu, "Q8_0")
            assert not menu.highlighted().downloaded
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is chat and app.engine is q8, timeout_s=60,
                             what="the downloaded Q8_0 model")
            assert "models--test-org--SmolLM2-135M-Instruct-GGUF" in app.model_path
            assert Path(app.model_path).stat().st_size == smollm2_q8_path.stat().st_size
            await wait_until(pilot, lambda: load_config().model.repo == repo, what="the choice saved")


def test_model_menu_snapshot(snap_compare, smollm2_path, smollm2_q8_path) -> None:
    app = scripted_app({str(smollm2_path): ScriptedEngine()}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path], vram_gib=4))

    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        menu = await open_menu(pilot)
        for field in menu.query("Input"):
            field.cursor_blink = False
        await highlight(pilot, menu, "Q4_K_M", "Llama-3.2-3B-Instruct")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# ---------------------------------------------------------------------------------- real model
def real_menu_app(start: Path, paths: list[Path], max_tokens: int = 16) -> LocalChatApp:
    config = Config(chat=ChatDefaults(temperature=0.0, max_tokens=max_tokens))
    return LocalChatApp(str(start), config=config, store=open_store(),
                        load_settings=LoadSettings(n_ctx=1024), sources=fixed_sources(paths))


@pytest.mark.slow
async def test_real_switch_to_q8_through_the_menu_keeps_the_conversation(smollm2_path,
                                                                         smollm2_q8_path) -> None:
    # 64 tokens: the shortest reply whose speed is kept
    app = real_menu_app(smollm2_path, [smollm2_path, smollm2_q8_path], max_tokens=64)
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        first = (await ask(pilot, "Write a long story about the sea.")).content
        assert "Q4_1" in status_model(app)
        # the reply's speed is kept, and the menu shows it for Q4_1 instead of an estimate
        await wait_until(pilot, lambda: app.sources.calibration.load().speeds,
                         what="the reply's speed recorded")
        gen_tps = app.store.get(chat.conversation_id).messages[1].stats["gen_tps"]
        menu = await open_menu(pilot)
        q4 = next(r for r in menu.rows if r.quant == "Q4_1")
        q8 = next(r for r in menu.rows if r.quant == "Q8_0")
        assert abs(float(tps_text(q4)) - gen_tps) <= 1  # one figure, as measured
        assert "–" in tps_text(q8)  # not run here: an estimated range
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is chat and app.engine is not None
                         and app.engine.info.quant == "Q8_0", what="the Q8_0 model")
        assert "Q8_0" in status_model(app)
        assert app.engine.info.path == str(smollm2_q8_path) and app.load_settings.n_ctx == 1024
        await ask(pilot, "Name another one.")
        stored = app.store.get(chat.conversation_id).messages
        assert [m.role for m in stored] == ["user", "assistant"] * 2 and stored[1].content == first
        assert stored[3].content.strip() and stored[3].stats["gen_tps"] > 0
        await wait_until(pilot, lambda: load_config().model.path, what="the choice saved")
        choice = load_config().model
        assert (choice.path, choice.quant, choice.ctx) == (str(smollm2_q8_path), "Q8_0", 1024)


@pytest.mark.slow
async def test_real_compare_quants_side_by_side(smollm2_path, smollm2_q8_path) -> None:
    app = real_menu_app(smollm2_path, [smollm2_path, smollm2_q8_path])
    async with app.run_test(size=(140, 36)) as pilot:
        chat = await ready(pilot)
        await ask(pilot, "What is the capital of France?")
        menu = await open_menu(pilot, "f9")  # "Compare quants": only the loaded model's quants
        assert {r.model for r in menu.rows} == {"SmolLM2-135M-Instruct"}
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("enter")
        compare = await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        assert compare.side_by_side  # both fit in 8 GiB: Q8_0 loads beside Q4_1
        await wait_until(pilot, lambda: compare.finished, timeout_s=60, what="both replies")
        left, right = (str(compare.query_one(f"#stats-{side}").render()) for side in (1, 2))
        for line in (left, right):
            assert " t/s · " in line and " tokens · memory " in line and "MiB" in line
        assert compare.stats[1].gen_tps > 0 and compare.stats[2].gen_tps > 0
        assert compare.views[1].content.strip() and compare.views[2].content.strip()
        print(f"\ncompare Q4_1: {left}\ncompare Q8_0: {right}")
        assert "Switch to Q8_0" in str(compare.query_one("#switch").render())
        assert app.engine.info.quant == "Q4_1"  # the chat's model was never unloaded
        await pilot.click("#keep")
        await wait_until(pilot, lambda: app.screen is chat)
        assert app.engine.info.quant == "Q4_1"
        assert len(app.store.get(chat.conversation_id).messages) == 2  # the chat is as it was


def test_compare_quants_snapshot(snap_compare, smollm2_path, smollm2_q8_path) -> None:
    q4 = ScriptedEngine(["Paris is the capital of France."], name="SmolLM2", quant="Q4_1")
    q8 = ScriptedEngine(["The capital of France is **Paris**."], name="SmolLM2", quant="Q8_0")
    app = scripted_app({str(smollm2_path): q4, str(smollm2_q8_path): q8}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path]))

    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await ask(pilot, "What is the capital of France?")
        menu = await open_menu(pilot, "f9")
        await highlight(pilot, menu, "Q8_0")
        await pilot.press("enter")
        compare = await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        await wait_until(pilot, lambda: compare.finished, what="both replies")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_a_download_that_stopped_part_way_shows_how_much_is_here(smollm2_path) -> None:
    from dataclasses import replace as replace_sources

    from localchat.download.store import PartialDownload

    repo = load_catalog().get("Qwen3-8B").repo
    stopped = PartialDownload(repo, "Q4_K_M", "Qwen_Qwen3-8B-Q4_K_M.gguf", 1 << 30, 5 << 30, 5 << 30)
    sources = replace_sources(fixed_sources([smollm2_path], vram_gib=4), partials=lambda: [stopped])
    app = scripted_app({str(smollm2_path): ScriptedEngine()}, smollm2_path, sources)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)
        await highlight(pilot, menu, "Q4_K_M", model="Qwen3-8B")
        row = menu.highlighted()
        assert str(menu.table.get_row(row.key)[-1]) == "20% here"
        detail = str(menu.query_one("#menu-detail").render())
        assert ("Partly here: 1.0 GiB of 5.0 GiB from a download that stopped; "
                f"Enter resumes it ({repo}:Q4_K_M)") in detail
        other = next(r for r in menu.rows if r.model == "Qwen3-8B" and r.quant == "Q8_0")
        assert str(menu.table.get_row(other.key)[-1]) == "download"
