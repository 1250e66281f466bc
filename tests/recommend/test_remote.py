"""Reading a model's header from the Hub by HTTP Range requests, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from localchat.errors import HubUnreachableError, NotFoundError
from localchat.gguffile import read_header
from localchat.recommend import read_remote_header, read_remote_model
from localchat.recommend.evaluate import read_local_header
from tests.recommend.rangeserver import RangeServer

REPO = "test-org/gemma-3-270m-it-GGUF"


def test_header_of_a_hub_file_equals_the_local_one_and_costs_a_prefix(gemma_path: Path, monkeypatch):
    with RangeServer({f"{REPO}/gemma-3-270m-it-Q4_K_M.gguf": gemma_path}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        header = read_remote_header(REPO, "gemma-3-270m-it-Q4_K_M.gguf")
    local = read_header(gemma_path)
    assert header.tensors == local.tensors
    assert header.metadata["gemma3.attention.sliding_window"] == 512
    assert header.weights_bytes == local.weights_bytes
    # the 262k-token vocabulary makes a ~6 MB header: a few MB read, not the 253 MB file
    assert all(rng and rng.startswith("bytes=0-") for _path, rng in hub.requests)
    assert hub.bytes_sent < 16 << 20 < gemma_path.stat().st_size


def test_split_model_merges_every_parts_tensors(tmp_path: Path, monkeypatch):
    import gguf

    names = []
    for i in (1, 2):
        name = f"tiny-Q8_0-0000{i}-of-00002.gguf"
        writer = gguf.GGUFWriter(str(tmp_path / name), "llama")
        writer.add_block_count(2)
        writer.add_uint16("split.no", i - 1)
        writer.add_tensor(f"blk.{i - 1}.ffn_up.weight", np.ones((4, 32), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        names.append(name)
    with RangeServer({f"{REPO}/{n}": tmp_path / n for n in names}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        remote = read_remote_model(REPO, names)
    local, _size = read_local_header(tmp_path / names[1])  # any part finds its siblings
    assert [t.name for t in remote.tensors] == ["blk.0.ffn_up.weight", "blk.1.ffn_up.weight"]
    assert remote.tensors == local.tensors


def test_missing_file_and_unreachable_hub_are_clear_errors(gemma_path: Path, monkeypatch):
    with RangeServer({}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(NotFoundError, match="has no file nothing.gguf"):
            read_remote_header(REPO, "nothing.gguf")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(HubUnreachableError, match="cannot reach"):
        read_remote_header(REPO, "x.gguf")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError, match="offline"):
        read_remote_header(REPO, "x.gguf")
