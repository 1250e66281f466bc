"""The first-run setup screen and the download dialog, against the Hub stand-in (real HTTP, real
huggingface_hub), a fake LM Studio folder, and the real SmolLM2 model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from localchat.tui.screens.pull import PullScreen
from tests.conftest import Q4_FILE, REPO
from tests.download.hubserver import HubServer
from tests.tui.conftest import SIZE, wait_until

pytestmark = pytest.mark.anyio


class PullHost(App[None]):
    """An empty app that opens one PullScreen and records what it dismisses with."""

    def __init__(self, spec: str) -> None:
        super().__init__()
        self.spec = spec
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(PullScreen(self.spec), self.results.append)


def label(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_pull_screen_downloads_and_returns_the_path(smol_repo: str, smollm2_path: Path) -> None:
    app = PullHost(f"{REPO}:Q4_1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.results, what="the download to finish")
    [path] = app.results
    assert path.name == Q4_FILE and path.stat().st_size == smollm2_path.stat().st_size


async def test_pull_screen_shows_a_failure_in_one_line_then_returns_none(smol_repo: str) -> None:
    app = PullHost(f"{REPO}:Q5_K_M")  # the repo has no such quant
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
    app = PullHost(f"{REPO}:Q4_1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "left" in label(app, "#pull-figures")
                         and "MiB/s" in label(app, "#pull-figures"), what="speed and ETA")
        assert " of 93.8 MiB" in label(app, "#pull-figures")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None], what="the dialog to close")
        assert any("partial download is kept" in n.message for n in app._notifications)
    partial = hfcache.partial_path(REPO, smol_sha)
    assert 0 < partial.stat().st_size < 98_362_432
