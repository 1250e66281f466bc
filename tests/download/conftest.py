"""Fixtures for download tests: a Hub stand-in on 127.0.0.1 with HF_ENDPOINT pointing at it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.download.hubserver import HubServer, sha256_of

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
Q4_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"


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


def make_tiny_gguf(path: Path, file_type: int = 15, name: str = "tiny", rows: int = 4) -> Path:
    """A small valid GGUF (file_type 15 = Q4_K_M, 7 = Q8_0) with one tensor; distinct per ``name``."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_file_type(file_type)
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    writer.add_tensor("token_embd.weight", np.random.default_rng(seed).random((rows, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def make_split_gguf(path: Path, parts: int = 2) -> list[Path]:
    """A real split GGUF (one tensor a part), named ``<stem>-0000i-of-0000N.gguf`` like gguf-split."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama", split_max_tensors=1)
    writer.add_name(path.stem)
    writer.add_file_type(15)  # Q4_K_M
    for i in range(parts):
        writer.add_tensor(f"blk.{i}.weight", np.full((4, 8), i, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return [path.with_name(f"{path.stem}-{i:05d}-of-{parts:05d}.gguf") for i in range(1, parts + 1)]
