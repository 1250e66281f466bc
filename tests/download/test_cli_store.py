"""`localchat pull`, `models` and `rm` as a user runs them: the real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from localchat import paths
from tests.download.conftest import REPO, make_tiny_gguf

ROOT = Path(__file__).resolve().parents[2]
HOLD_MODEL = (
    "import sys, time\n"
    "from localchat.download import register_in_use\n"
    "register_in_use(sys.argv[1])\n"
    "print('loaded', flush=True)\n"
    "time.sleep(600)\n"
)


def localchat(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "localchat", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def models_json() -> list[dict]:
    result = localchat("models", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_pull_then_models_then_rm_refused_while_loaded(fake_home, hub, smol_repo, smollm2_path):
    pulled = localchat("pull", f"{REPO}:q4_1")
    assert pulled.returncode == 0, pulled.stderr
    path = Path(pulled.stdout.strip())
    assert path.read_bytes() == smollm2_path.read_bytes()

    [entry] = models_json()
    assert (entry["name"], entry["repo"], entry["quant"], entry["source"]) == \
        ("SmolLM2-135M-Instruct", REPO, "Q4_1", "hf-cache")
    assert (entry["path"], entry["size_bytes"]) == (str(path), smollm2_path.stat().st_size)

    holder = subprocess.Popen([sys.executable, "-c", HOLD_MODEL, str(path)], cwd=ROOT,
                              env=dict(os.environ), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "loaded"
        refused = localchat("rm", "SmolLM2-135M-Instruct:Q4_1")
        assert refused.returncode == 2
        assert f"loaded in a running localchat (pid {holder.pid})" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert path.exists()
    finally:
        holder.kill()
        holder.wait()

    removed = localchat("rm", "SmolLM2-135M-Instruct:Q4_1")
    assert removed.returncode == 0, removed.stderr
    assert "93.8 MiB freed" in removed.stdout
    assert not path.exists() and models_json() == []


def test_gated_pull_explains_login_and_never_prints_the_token(hub, smollm2_path, monkeypatch):
    hub.state.add_repo("org/Gated-GGUF", {"m-Q4_1.gguf": smollm2_path}, gated=True)
    monkeypatch.setenv("HF_TOKEN", "hf_SecretValue123")
    result = localchat("pull", "org/Gated-GGUF:Q4_1")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("localchat: error: your Hugging Face token has no access to org/Gated-GGUF")
    assert "accept the license" in result.stderr and "hf auth login" in result.stderr
    assert "SecretValue" not in result.stdout + result.stderr


def test_unreachable_hub_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    result = localchat("pull", "org/Model-GGUF:Q4_K_M")
    assert result.returncode == 2
    assert "cannot reach the Hugging Face Hub at http://127.0.0.1:9" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_models_finds_folders_added_in_the_config(fake_home, tmp_path):
    model = make_tiny_gguf(tmp_path / "my models" / "Tiny-Q8_0.gguf", file_type=7, name="tiny")
    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text(f'[models]\ndirs = ["{(tmp_path / "my models").as_posix()}"]\n')
    [entry] = models_json()
    assert (entry["name"], entry["quant"], entry["source"], entry["path"]) == \
        ("Tiny-Q8_0", "Q8_0", "folder", str(model))

    listed = localchat("models")
    assert "Tiny-Q8_0" in listed.stdout and "folder" in listed.stdout
    refused = localchat("rm", "Tiny-Q8_0")
    assert refused.returncode == 2 and "delete it yourself" in refused.stderr
    assert model.exists()
