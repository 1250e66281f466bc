"""Shared fixtures: an isolated home for every test, and the real test models."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import testmodels


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own config, data, cache and Hugging Face cache folders."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LOCALCHAT_HOME", str(home / "localchat"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("LOCALCHAT_DEBUG", raising=False)
    return home


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    return testmodels.smollm2()


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return testmodels.gemma()


@pytest.fixture(scope="session")
def smollm2_q8_path() -> Path:
    return testmodels.smollm2_quant("Q8_0")
