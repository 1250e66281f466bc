"""Shared fixtures: an isolated home for every test, the real test models, and a Hub stand-in
on 127.0.0.1 (HF_ENDPOINT pointed at it) serving the real SmolLM2 file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import testmodels
from tests.download.hubserver import HubServer, sha256_of
from tests.remote.llamaserver import KEY, LlamaCppServer

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
Q4_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"


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


@pytest.fixture(scope="session")
def smol_sha(smollm2_path: Path) -> str:
    return sha256_of(smollm2_path)


@pytest.fixture
def fake_home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME (where LM Studio, Ollama and llama.cpp keep models) is the test's own folder."""
    monkeypatch.setenv("HOME", str(isolated_home))
    monkeypatch.delenv("LLAMA_CACHE", raising=False)
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return isolated_home


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


@pytest.fixture
def smol_repo(hub: HubServer, smollm2_path: Path, smol_sha: str) -> str:
    """A repo with the real SmolLM2 Q4_1 file (and a Q8_0 name, for quant listings)."""
    hub.state.add_repo(REPO, {Q4_FILE: smollm2_path, "SmolLM2-135M-Instruct-Q8_0.gguf": smollm2_path},
                       sha256s={Q4_FILE: smol_sha, "SmolLM2-135M-Instruct-Q8_0.gguf": smol_sha})
    return REPO


@pytest.fixture(scope="session")
def llama_server(smollm2_path: Path) -> Iterator[LlamaCppServer]:
    """A real ``python -m llama_cpp.server`` on 127.0.0.1 serving SmolLM2 as "smol", with the API
    key ``tests.remote.llamaserver.KEY``: started once, for the tests that ask for it."""
    with LlamaCppServer(smollm2_path, api_key=KEY) as server:
        yield server
