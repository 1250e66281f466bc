"""``localchat recommend`` end to end, in-process (its output and exit status)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localchat.cli import main
from localchat.recommend.footprint import MIB


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["recommend", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_hypothetical_machine_as_json(capsys):
    code, out, _ = run(capsys, "--ram", "32", "--vram", "12", "--gpu", "cuda", "--json")
    assert code == 0
    data = json.loads(out)
    choice = data["choice"]
    # the RTX 3060 row of test_choose.MACHINES (bandwidth does not change a whole-GPU pick)
    assert (choice["model"], choice["quant"], choice["ctx"], choice["kv_type"]) == \
        ("Qwen3-14B", "Q4_K_M", 8192, "f16")
    assert choice["repo"] == "unsloth/Qwen3-14B-GGUF" and choice["n_gpu_layers"] == 41
    assert set(choice["footprint"]) >= {"weights_bytes", "kv_bytes", "compute_bytes", "overhead_bytes",
                                        "total_bytes"}
    assert len(data["alternatives"]) == 4
    assert data["machine"]["hypothetical"] is True


def test_human_output_is_a_table_and_the_reasons(capsys):
    code, out, _ = run(capsys, "--ram", "16")
    assert code == 0
    header, first = out.splitlines()[:2]
    for column in ("model", "quant", "ctx", "on disk", "memory", "fits", "tok/s", "PPL+"):
        assert column in header
    assert first.startswith("→  Qwen3-4B") and "CPU" in first
    assert "7.5–13" in first  # an estimate is a range
    assert "Runs on the CPU" in out


def test_model_file_footprint(capsys, gemma_path: Path):
    code, out, _ = run(capsys, "--model", str(gemma_path), "--ram", "8", "--ctx", "32768", "--json")
    assert code == 0
    choice = json.loads(out)["choice"]
    fp = choice["footprint"]
    # llama.cpp logged 111.00 MiB KV, 514.50 MiB compute, 235.17 MiB model buffers at 32k
    # (read without mmap: CPU 222.51 + CPU_REPACK 12.66, one copy)
    assert fp["kv_bytes"] == 111 * MIB
    assert abs(fp["compute_bytes"] / (514.50 * MIB) - 1) < 0.05
    assert abs(fp["weights_bytes"] / (235.17 * MIB) - 1) < 0.05
    assert choice["fit"] == "cpu" and choice["exact"] is True and choice["local_path"] == str(gemma_path)


def test_model_on_the_hub_reads_only_its_header(capsys, monkeypatch, gemma_path: Path):
    hubserver = pytest.importorskip("tests.download.hubserver")
    with hubserver.HubServer() as hub:
        hub.state.add_repo("test-org/gemma-3-270m-it-GGUF", {"gemma-3-270m-it-Q4_K_M.gguf": gemma_path})
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code, out, err = run(capsys, "--model", "test-org/gemma-3-270m-it-GGUF:q4_k_m", "--ram", "8",
                             "--ctx", "8192", "--json")
        sent = sum(hub.state.bytes_sent.values())
    assert code == 0, err
    choice = json.loads(out)["choice"]
    assert choice["repo"] == "test-org/gemma-3-270m-it-GGUF" and choice["quant"] == "Q4_K_M"
    assert choice["footprint"]["kv_bytes"] == 39 * MIB  # llama.cpp: 39.00 MiB at 8k
    assert sent < 16 << 20


@pytest.mark.parametrize(("argv", "message"), [
    (["--vram", "4"], "need --ram too"),
    (["--model", "missing.gguf", "--ram", "8"], "model file not found"),
    (["--ram", "8", "--gpu", "cuda"], "--gpu cuda needs --vram"),
])
def test_mistakes_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_vram_0_with_gpu_none_is_a_machine_without_a_gpu(capsys):
    code, out, err = run(capsys, "--ram", "8", "--vram", "0", "--gpu", "none", "--json")
    assert code == 0, err
    plain_code, plain, _ = run(capsys, "--ram", "8", "--json")
    assert plain_code == 0
    assert json.loads(out)["choice"] == json.loads(plain)["choice"]
    assert json.loads(out)["machine"]["gpu_budget_bytes"] == 0


@pytest.mark.parametrize("argv", [["--ram", "inf"], ["--ram", "nan"], ["--ram", "1e300"], ["--ram", "0"],
                                  ["--ram", "8", "--vram", "-1", "--gpu", "cuda"],
                                  ["--ram", "8", "--vram", "4", "--gpu", "none"],
                                  ["--ram", "8", "--vram", "0", "--gpu", "cuda"]])
def test_impossible_machines_get_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and not out
    assert err.endswith("\n") and len(err.strip().splitlines()) == 1, err
    assert "GiB" in err or "--vram" in err


def test_a_local_file_is_named_as_the_chat_names_it(capsys, smollm2_path):
    """The catalog's name, not the GGUF header's ("Smollm2 135M 8k Lc100K Mix1 Ep2")."""
    code, out, _ = run(capsys, "--model", str(smollm2_path), "--json")
    assert code == 0
    assert json.loads(out)["choice"]["model"] == "SmolLM2-135M-Instruct"
