"""The model menu's filter and the Hub behind it: typing filters the rows; Enter on ORG/NAME lists
that repository's GGUF files (sized from a header read over HTTP from the Hub stand-in) and Enter
on a row downloads and switches; Enter on words searches the Hub; what goes wrong is one line."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from localchat.config import ChatDefaults, Config, load_config, save_config
from localchat.loadsettings import LoadSettings
from localchat.options.option import FOUND_ON_HUB
from localchat.options.words import memory_text, menu_status, size_text
from localchat.recommend.catalog import Catalog
from localchat.tui.screens.help import HelpScreen
from localchat.tui.screens.hubhits import HubHitsScreen
from localchat.tui.screens.models import ModelMenuScreen
from tests.download.hubserver import HubServer
from tests.tui.conftest import SIZE, ready, wait_until
from tests.tui.scripted import ScriptedEngine
from tests.tui.test_model_menu import fixed_sources, open_menu, scripted_app

pytestmark = pytest.mark.anyio

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
Q4, Q8 = "smollm2-135m-instruct-q4_1.gguf", "smollm2-135m-instruct-q8_0.gguf"


@pytest.fixture
def smol_hub(hub: HubServer, smollm2_path: Path, smollm2_q8_path: Path, smol_sha: str) -> HubServer:
    """The stand-in serving SmolLM2's real Q4_1 and Q8_0 files under the publisher's repository,
    a second SmolLM2 repository, one without GGUF files, and an unrelated one."""
    hub.state.add_repo(REPO, {Q4: smollm2_path, Q8: smollm2_q8_path}, sha256s={Q4: smol_sha},
                       downloads=900, likes=40)
    other = "SmolLM2-135M-Instruct-Q4_1.gguf"
    hub.state.add_repo("bartowski/SmolLM2-135M-Instruct-GGUF", {other: smollm2_path},
                       sha256s={other: smol_sha}, downloads=1500, likes=3)
    hub.state.add_repo("HuggingFaceTB/SmolLM2-135M-Instruct", {"config.json": smollm2_path},
                       sha256s={"config.json": smol_sha}, downloads=5000)
    hub.state.add_repo("someone/Other-Model-GGUF", {"other-q4_0.gguf": smollm2_path},
                       sha256s={"other-q4_0.gguf": smol_sha})
    return hub


def menu_app(smollm2_path: Path, engines: dict[str, ScriptedEngine] | None = None):
    return scripted_app(engines or {str(smollm2_path): ScriptedEngine()}, smollm2_path,
                        fixed_sources([smollm2_path], vram_gib=4))


def unknown_to_the_catalog(smollm2_path: Path):
    """The menu's sources with a catalog that does not list REPO: every row for it comes from
    the Hub, as for any repository (the real catalog's SmolLM2-135M is REPO, whose rows the
    Hub's then replace quant by quant: tests/options/test_hub.py)."""
    sources = fixed_sources([smollm2_path], vram_gib=4)
    catalog = Catalog(tuple(e for e in sources.catalog() if e.repo != REPO))
    return dataclasses.replace(sources, catalog=lambda: catalog)


def message(menu: ModelMenuScreen) -> str:
    return str(menu.query_one("#menu-message").render())


def shown(menu: ModelMenuScreen) -> list[tuple[str, str]]:
    return [(r.model, r.quant) for r in menu.visible_rows()]


async def type_filter(pilot: Pilot, text: str, *, enter: bool = False) -> None:
    await pilot.press("slash")
    for ch in text:
        await pilot.press(ch if ch != " " else "space")
    if enter:
        await pilot.press("enter")


async def test_typing_filters_the_rows_and_esc_clears_then_closes(smollm2_path: Path) -> None:
    app = menu_app(smollm2_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        menu = await open_menu(pilot)
        every = len(menu.rows)
        await type_filter(pilot, "llama q8")
        assert shown(menu) == [("Llama-3.2-3B-Instruct", "Q8_0")]
        assert menu.table.row_count == 1
        assert message(menu) == f"1 of {every} rows match · Enter: search the Hub for 'llama q8'"
        await pilot.press("escape")  # empties the filter: every row again, the table focused
        assert menu.table.row_count == every and menu.table.has_focus
        assert message(menu) == ""
        await type_filter(pilot, "no such model")
        assert menu.table.row_count == 0 and menu.highlighted() is None
        await pilot.press("escape", "escape")
        assert app.screen is chat
        # F1 in the menu lists the filter's key with the others
        await open_menu(pilot)
        await pilot.press("f1")
        help_table = await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen)
                                      and app.screen.query_one(DataTable), what="the help screen")
        rows = [tuple(map(str, help_table.get_row_at(i))) for i in range(help_table.row_count)]
        assert ("Models", "/", "Find, or look on the Hub") in rows


async def test_org_name_lists_the_repository_then_enter_downloads_and_switches(
        smol_hub: HubServer, smollm2_path: Path, smollm2_q8_path: Path) -> None:
    q4 = ScriptedEngine(name="SmolLM2", quant="Q4_1")
    q8 = ScriptedEngine(name="SmolLM2", quant="Q8_0")

    def load(path: str, settings: LoadSettings) -> ScriptedEngine:
        return q8 if path.endswith("q8_0.gguf") else q4

    app = scripted_app({}, smollm2_path, unknown_to_the_catalog(smollm2_path))
    app.engine_loader = load
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        menu = await open_menu(pilot)
        await type_filter(pilot, REPO)
        assert shown(menu) == [] and message(menu).endswith(f"Enter: look up {REPO} on the Hub")
        await pilot.press("enter")
        await wait_until(pilot, lambda: menu.table.has_focus and menu.highlighted() is not None,
                         timeout_s=30, what="the repository's files")
        hub_rows = [r for r in menu.visible_rows()]
        assert [(r.model, r.quant, menu_status(r)) for r in hub_rows] == [
            ("SmolLM2-135M-Instruct", "Q8_0", "Hub"), ("SmolLM2-135M-Instruct", "Q4_1", "Hub")]
        assert all(r.why == FOUND_ON_HUB and r.repo == REPO for r in hub_rows)
        q4_row, q8_row = hub_rows[1], hub_rows[0]
        assert q4_row.exact and not q8_row.exact  # Q4_1's header was read; Q8_0 scaled from it
        assert q8_row.candidate.file_bytes == smollm2_q8_path.stat().st_size
        assert message(menu) == f"{REPO} on the Hub: 2 quants (~: scaled from Q4_1's header)"
        # only Q4_1's header crossed the wire: a few MB of Range reads, not the files
        lfs = [(p, r) for m, p, r in smol_hub.state.requests if p.startswith("/lfs/")]
        assert lfs and all(p.endswith(Q4) and r for p, r in lfs)
        assert sum(smol_hub.state.bytes_sent.values()) < smollm2_path.stat().st_size / 10
        # the same footprint as the same file on disk: sized from its real header
        on_disk = next(r for r in menu.rows if r.downloaded and r.quant == "Q4_1")
        assert q4_row.candidate.footprint == on_disk.candidate.footprint
        cells = [str(c) for c in menu.table.get_row(q4_row.key)]
        assert cells[1:4] == ["Q4_1", size_text(on_disk), memory_text(on_disk)] and cells[-1] == "Hub"
        assert menu.highlighted().key == q4_row.key  # the cursor on the quant read
        detail = str(menu.query_one("#menu-detail").render())
        assert f"Enter downloads {REPO}:Q4_1" in detail
        await pilot.press("up")
        assert "(estimated: another quant's header, scaled to this file's size)" in str(
            menu.query_one("#menu-detail").render())
        await pilot.press("enter")  # Q8_0: downloaded, then loaded, then remembered
        await wait_until(pilot, lambda: app.screen is chat and app.engine is q8, timeout_s=60,
                         what="the downloaded Q8_0 model")
        assert "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" in app.model_path
        assert smol_hub.state.bytes_sent[Q8] >= smollm2_q8_path.stat().st_size
        await wait_until(pilot, lambda: load_config().model.repo == REPO, what="the choice saved")
        assert load_config().model.quant == "Q8_0"


async def test_words_search_the_hub_and_a_hit_lists_its_files(smol_hub: HubServer,
                                                              smollm2_path: Path) -> None:
    app = scripted_app({str(smollm2_path): ScriptedEngine()}, smollm2_path,
                       unknown_to_the_catalog(smollm2_path))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)
        await type_filter(pilot, "smollm2-135m", enter=True)
        hits = await wait_until(pilot, lambda: isinstance(app.screen, HubHitsScreen) and app.screen,
                                what="the search's hits")
        table = hits.query_one("#hub-hits")
        rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        # GGUF repositories only, most downloaded first
        assert rows == [("bartowski/SmolLM2-135M-Instruct-GGUF", "1.5k", "3"), (REPO, "900", "40")]
        assert "2 GGUF repositories on the Hub for 'smollm2-135m' · Enter: its files" in str(
            hits.query_one(".dialog-question").render())
        await pilot.press("escape")  # back: the filter as typed
        assert app.screen is menu and menu.query_one("#menu-filter").value == "smollm2-135m"
        await pilot.press("enter")
        hits = await wait_until(pilot, lambda: isinstance(app.screen, HubHitsScreen) and app.screen)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is menu and menu.highlighted() is not None
                         and menu.highlighted().repo == REPO, timeout_s=30, what="the hit's files")
        assert menu.query_one("#menu-filter").value == REPO
        assert {r.quant for r in menu.visible_rows()} == {"Q4_1", "Q8_0"}


@pytest.mark.parametrize(("typed", "line"), [
    ("nobody/Nothing-GGUF", "no model repository nobody/Nothing-GGUF on http://127.0.0.1:"),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct has no GGUF files: "
                                            "localchat runs .gguf models"),
    (f"{REPO}:Q2_K", f"{REPO} has no Q2_K GGUF file (available: Q4_1, Q8_0)"),
    ("org/bad--name", "'org/bad--name' is not a Hub repository name"),
    ("nothing-like-this", "No GGUF repository on the Hub matches 'nothing-like-this'"),
])
async def test_what_goes_wrong_is_one_line_in_the_menu(smol_hub: HubServer, smollm2_path: Path,
                                                       typed: str, line: str) -> None:
    app = menu_app(smollm2_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)
        every = len(menu.rows)
        await type_filter(pilot, typed, enter=True)
        await wait_until(pilot, lambda: menu.query_one("#menu-message").has_class("error"),
                         timeout_s=30, what="the error line")
        assert line in message(menu) and "\n" not in message(menu)
        assert app.screen is menu and len(menu.rows) == every  # nothing lost


async def test_offline_and_unreachable_hub_say_so(smollm2_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.tui.test_setup import closed_port

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    app = menu_app(smollm2_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot)
        await type_filter(pilot, "smollm2", enter=True)
        await wait_until(pilot, lambda: "cannot reach the Hugging Face Hub" in message(menu),
                         what="the unreachable Hub's line")
        assert menu.query_one("#menu-message").has_class("error")
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        menu.query_one("#menu-filter").value = ""
        await type_filter(pilot, REPO, enter=True)
        await wait_until(pilot, lambda: "offline (HF_HUB_OFFLINE is set)" in message(menu),
                         what="the offline line")


async def test_compare_quants_filters_but_does_not_look_on_the_hub(smollm2_path: Path,
                                                                   smollm2_q8_path: Path) -> None:
    app = scripted_app({str(smollm2_path): ScriptedEngine()}, smollm2_path,
                       fixed_sources([smollm2_path, smollm2_q8_path]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        menu = await open_menu(pilot, "f9")
        await type_filter(pilot, "q8", enter=True)
        assert shown(menu) == [("SmolLM2-135M-Instruct", "Q8_0")]
        assert message(menu) == f"1 of {len(menu.rows)} rows match"
        assert menu.table.has_focus  # Enter went on to the rows


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_hub_repository_typed_in_f4_downloads_and_switches_in_a_real_terminal(
        hub: HubServer, fake_home: Path, smollm2_path: Path, smollm2_q8_path: Path, smol_sha: str) -> None:
    """The real `localchat` on SmolLM2 Q8_0 from a folder; in F4 the publisher's repository name
    typed in the filter lists its Q4_1 file (served by the stand-in); Enter downloads it, the
    chat goes on with it, and the config remembers the repository and quant."""
    from tests.tui.test_terminal import Tmux, localchat_command

    hub.state.add_repo(REPO, {Q4: smollm2_path}, sha256s={Q4: smol_sha})
    save_config(Config(chat=ChatDefaults(temperature=0.0, max_tokens=16)))
    env = {name: os.environ[name] for name in ("LOCALCHAT_HOME", "HF_HOME", "HF_ENDPOINT", "HOME")}
    env.update(TERM="xterm-256color", HF_HUB_DISABLE_TELEMETRY="1")
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    tmux = Tmux(f"localchat-hub-{os.getpid()}")
    try:
        tmux.start([*localchat_command(), "--model", str(smollm2_q8_path), "--ctx", "1024"], env)
        tmux.wait_for(lambda s: "Q8_0" in s and "ready" in s, what="the Q8_0 model to load")
        tmux.keys("F4")
        tmux.wait_for(lambda s: "● loaded" in s, timeout_s=60, what="the model menu's rows")
        tmux.keys("/")
        # the filter has the keys once the footer drops those it would type (c, f, p)
        tmux.wait_for(lambda s: "Compare with loaded" not in s, what="the filter focused")
        tmux.keys("-l", REPO)
        tmux.keys("Enter")

        def hub_rows(screen: str) -> list[str]:
            return [line for line in screen.splitlines() if " Q4_1 " in line and line.endswith(" Hub")]

        # the row, then the cursor on it: the detail below says what Enter does (a frame can
        # hold the row before the detail follows the cursor)
        screen = tmux.wait_for(lambda s: f"{REPO} on the Hub: 1 quant, sized from its header" in s
                               and hub_rows(s) and f"Not on disk: Enter downloads {REPO}:Q4_1" in s,
                               timeout_s=60, what="the repository's files, the cursor on them")
        [row] = hub_rows(screen)
        assert row.startswith(" SmolLM2-135M-Instr") and " 94 MiB " in row
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "Q4_1" in s and "ready" in s and "Message · Enter sends" in s,
                      timeout_s=90, what="the chat on the downloaded Q4_1 model")
        tmux.keys("-l", "Hello!")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "gen " in s and " t/s" in s, timeout_s=60, what="the reply")
        tmux.keys("C-q")
        deadline = time.monotonic() + 15
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)  # an outside process: nothing to wait on but its exit
        assert not tmux.alive(), "localchat did not quit on ctrl+q"
    finally:
        tmux.kill()
    saved = load_config().model
    assert (saved.repo, saved.quant) == (REPO, "Q4_1")
    assert "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" in saved.path
    assert Path(saved.path).stat().st_size == smollm2_path.stat().st_size
    assert hub.state.bytes_sent[Q4] >= smollm2_path.stat().st_size
