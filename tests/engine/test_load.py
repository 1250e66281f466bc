"""Loading on real models: how the weights are held (mapped, or read when llama.cpp repacks
them), the context's lower bound, and failures that say what they are (memory, a file changed
under a loaded model) instead of crashing or blaming the file."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import psutil
import pytest

from localchat import paths
from localchat.cli import main
from localchat.config import load_config
from localchat.engine import LoadSettings, Message, Sampling, load_engine, logcapture
from localchat.errors import InsufficientMemoryError, LocalChatError, ModelFileError
from localchat.hardware.cpu import probe_cpu
from localchat.loadsettings import DEFAULT_CTX, MIN_CTX, parse_ctx
from localchat.recommend.profiles import cpu_repacks
from tests import testmodels

SAY_HI = [Message("user", "Say hi.")]
SHORT = Sampling(temperature=0.0, max_tokens=4)
repacking_cpu = pytest.mark.skipif(not cpu_repacks(probe_cpu()),
                                   reason="llama.cpp repacks Q4 weights only on x86-AVX2 and ARM")


def weight_buffers() -> dict[str, float]:
    """llama.cpp's logged model buffers of the last load, e.g. {"CPU_Mapped": 93.1}."""
    found: dict[str, float] = {}
    for line in logcapture.buffer_lines():
        if " model buffer size" in line:
            name, _, rest = line.partition(" model buffer size")
            found[name.split()[-1]] = float(rest.split("=")[1].split()[0])
    return found


@repacking_cpu
def test_a_quant_repacked_on_the_cpu_is_read_once_not_mapped():
    q4_0 = testmodels.smollm2_quant("Q4_0")
    engine = load_engine(str(q4_0), LoadSettings(n_ctx=512))
    try:
        buffers = weight_buffers()
        assert not engine.info.use_mmap
        assert "CPU_Mapped" not in buffers and buffers["CPU_REPACK"] > 0
        # one copy: the repacked tensors plus the rest add up to the file, not the file + repack
        assert engine.info.allocated_weights_bytes < q4_0.stat().st_size * 1.02
        assert engine.info.allocated_weights_bytes > q4_0.stat().st_size * 0.9
    finally:
        engine.close()


def test_a_quant_not_repacked_stays_memory_mapped(smollm2_path: Path):
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=512))  # Q4_1: never repacked
    try:
        assert engine.info.use_mmap and "CPU_Mapped" in weight_buffers()
        assert "CPU_REPACK" not in weight_buffers()
    finally:
        engine.close()


def test_the_context_minimum_is_one_rule_for_engine_cli_menu_and_config(smollm2_path: Path, capsys):
    too_small = str(MIN_CTX - 1)
    # the engine
    with pytest.raises(LocalChatError, match=f"use {MIN_CTX} tokens or more"):
        load_engine(str(smollm2_path), LoadSettings(n_ctx=MIN_CTX - 1))
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=MIN_CTX))
    engine.close()
    # the command line (ask, bench and the chat share --ctx)
    for argv in (["ask", "--model", str(smollm2_path), "--ctx", too_small, "hi"],
                 ["bench", "--model", str(smollm2_path), "--ctx", too_small],
                 ["--ctx", too_small]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert f"use {MIN_CTX} tokens or more" in capsys.readouterr().err
    # the model menu's context field
    with pytest.raises(LocalChatError, match=f"use {MIN_CTX} tokens or more"):
        parse_ctx(too_small)
    assert parse_ctx(str(MIN_CTX)) == MIN_CTX
    # the config file: a smaller [model] ctx is named and replaced by the default
    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text(f"[model]\nctx = {too_small}\n")
    config = load_config()
    assert config.model.ctx == DEFAULT_CTX and f"from {MIN_CTX}" in config.notice
    paths.config_file().write_text(f"[model]\nctx = {MIN_CTX}\n")
    assert load_config().model.ctx == MIN_CTX


@pytest.mark.skipif(Path("/proc/sys/vm/overcommit_memory").exists()
                    and Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1",
                    reason="with overcommit always on, the allocation would succeed and then OOM")
def test_a_context_too_big_for_memory_says_memory_and_what_fits(smollm2_path: Path, capsys, monkeypatch):
    mem = psutil.virtual_memory()
    kv_per_token = 30 * 3 * 128 * 2  # SmolLM2: 30 layers, 3 KV heads of 64 + 64, f16
    ctx = (4 * (mem.total + psutil.swap_memory().total) // kv_per_token) // 256 * 256
    with pytest.raises(InsufficientMemoryError) as error:
        load_engine(str(smollm2_path), LoadSettings(n_ctx=ctx))
    text = str(error.value)
    assert "not enough memory" in text and "KV cache" in text and "GGUF" not in text
    fits = int(text.split("use --ctx ")[1].split()[0])
    assert MIN_CTX <= fits <= 8192  # what fits, at most the length SmolLM2 was trained for
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing piped
    assert main(["ask", "--model", str(smollm2_path), "--ctx", str(ctx), "hi"]) == 2
    assert "not enough memory" in capsys.readouterr().err


@pytest.mark.parametrize("change", ["truncated", "replaced"])
def test_a_model_file_changed_while_loaded_is_an_error_not_a_crash(smollm2_path: Path, tmp_path: Path,
                                                                    change: str):
    """A mapped file truncated under the engine would fault (SIGBUS) at the next weight read;
    the reply is refused before llama.cpp touches the mapping."""
    model = tmp_path / "model.gguf"
    shutil.copyfile(smollm2_path, model)
    engine = load_engine(str(model), LoadSettings(n_ctx=512))
    try:
        assert engine.info.use_mmap
        list(engine.chat(SAY_HI, SHORT))  # works while the file is as loaded
        if change == "truncated":
            os.truncate(model, model.stat().st_size // 2)
        else:
            other = tmp_path / "other.gguf"
            shutil.copyfile(smollm2_path, other)
            os.replace(other, model)
        with pytest.raises(ModelFileError, match=r"changed on disk since it was loaded .*reload it \(F4\)"):
            list(engine.chat(SAY_HI, SHORT))
    finally:
        engine.close()
