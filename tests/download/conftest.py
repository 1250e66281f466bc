"""Helpers for download tests: small real GGUF files. The Hub stand-in fixtures (``hub``,
``smol_repo``, ``fake_home``) live in tests/conftest.py, shared with the TUI tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tests.conftest import Q4_FILE, REPO

__all__ = ["Q4_FILE", "REPO", "make_split_gguf", "make_tiny_gguf"]


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
