"""Models already on this machine: discovery across tools, `localchat models`, `localchat rm`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from localchat import paths
from localchat.cli import main
from localchat.download import hfcache, inuse
from localchat.download.discover import ModelRoots, default_roots
from localchat.download.store import list_local_models, remove_model, touch_last_used
from localchat.errors import LocalChatError, NotFoundError
from tests.download.conftest import make_tiny_gguf

SHA_A = "a" * 64
SHA_B = "b" * 64


def put_in_hf_cache(repo: str, filename: str, sha: str, file_type: int = 15) -> Path:
    """Lay a model out the way huggingface_hub does: blob + snapshot symlink + refs/main."""
    blob = hfcache.blob_path(repo, sha)
    make_tiny_gguf(blob, file_type=file_type, name=f"{repo}/{filename}")
    hfcache.write_ref(repo, "c0ffee")
    return hfcache.link_snapshot(repo, "c0ffee", filename, sha)


def put_in_ollama(root: Path, model: str, tag: str) -> Path:
    digest = "1234abcd" * 8
    blob = make_tiny_gguf(root / "blobs" / f"sha256-{digest}", file_type=2, name=model)
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / model / tag
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": 1},
    ]}))
    return blob


def test_finds_models_from_every_tool_and_skips_unreadable_files(fake_home, tmp_path):
    hf = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA_A)
    lms = make_tiny_gguf(fake_home / ".lmstudio/models/lmstudio-community/Beta-GGUF/Beta-Q8_0.gguf",
                         file_type=7, name="beta")
    ollama = put_in_ollama(fake_home / ".ollama/models", "gamma", "latest")
    llama = make_tiny_gguf(fake_home / ".cache/llama.cpp/org_Delta-GGUF_Delta-Q4_K_M.gguf", name="delta")
    folder = make_tiny_gguf(tmp_path / "mine" / "epsilon.gguf", name="epsilon")
    (tmp_path / "mine" / "broken.gguf").write_bytes(b"not a gguf at all")
    (tmp_path / "mine" / "cut.gguf").write_bytes(folder.read_bytes()[:40])  # ends inside its header
    (tmp_path / "mine" / "short.gguf").write_bytes(folder.read_bytes()[:-64])  # tensor data cut off
    (tmp_path / "mine" / "dangling.gguf").symlink_to(tmp_path / "gone.gguf")
    (tmp_path / "mine" / "loop").symlink_to(tmp_path / "mine")  # a cycle must not hang the scan

    found = list_local_models(extra_dirs=(tmp_path / "mine",))
    models = {m.source: m for m in found}

    assert len(found) == 5
    assert set(models) == {"hf-cache", "lmstudio", "ollama", "llama.cpp", "folder"}
    assert (models["hf-cache"].name, models["hf-cache"].repo, models["hf-cache"].quant) == \
        ("Alpha", "org/Alpha-GGUF", "Q4_K_M")
    assert models["hf-cache"].path == hf
    assert (models["lmstudio"].repo, models["lmstudio"].quant, models["lmstudio"].path) == \
        ("lmstudio-community/Beta-GGUF", "Q8_0", lms)
    assert (models["ollama"].name, models["ollama"].quant, models["ollama"].path) == \
        ("gamma:latest", "Q4_0", ollama)
    assert models["llama.cpp"].path == llama
    assert models["folder"].path.name == "epsilon.gguf"  # the broken ones skipped
    assert models["folder"].size_bytes == folder.stat().st_size


def test_roots_follow_the_environment_and_can_be_passed(fake_home, tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ol"))
    monkeypatch.setenv("LLAMA_CACHE", str(tmp_path / "lc"))
    roots = default_roots()
    assert roots.ollama == tmp_path / "ol" and roots.llama_cpp == tmp_path / "lc"
    assert roots.lmstudio[0] == fake_home / ".lmstudio" / "models"

    put_in_ollama(tmp_path / "other-ollama", "zeta", "q4")
    explicit = ModelRoots(hf_cache=tmp_path / "none", lmstudio=(), llama_cpp=tmp_path / "none",
                          ollama=tmp_path / "other-ollama", store=tmp_path / "none")
    assert [m.name for m in list_local_models(roots=explicit)] == ["zeta:q4"]


def test_models_json_lists_them_with_last_used(fake_home, capsys):
    path = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA_A)
    touch_last_used(path)
    assert main(["models", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["repo"] == "org/Alpha-GGUF" and entry["quant"] == "Q4_K_M"
    assert entry["source"] == "hf-cache" and entry["last_used"] is not None
    assert main(["models"]) == 0
    assert "org/Alpha-GGUF" in capsys.readouterr().out


def test_rm_deletes_from_the_hf_cache_with_orphaned_partials(fake_home, capsys):
    keep = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q8_0.gguf", SHA_B, file_type=7)
    gone = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA_A)
    partial = hfcache.partial_path("org/Alpha-GGUF", "c" * 64)
    partial.write_bytes(b"x" * 1000)
    expected = gone.stat().st_size + 1000

    with pytest.raises(LocalChatError, match="matches several"):
        remove_model("Alpha")
    assert remove_model("org/Alpha-GGUF:q4_k_m") == expected
    assert not gone.exists() and not hfcache.blob_path("org/Alpha-GGUF", SHA_A).exists()
    assert not partial.exists() and keep.exists()

    size = keep.stat().st_size
    assert main(["rm", "Alpha:Q8_0"]) == 0
    assert capsys.readouterr().out == f"removed Alpha:Q8_0: {size} B freed\n"
    assert not hfcache.repo_folder("org/Alpha-GGUF").exists()
    with pytest.raises(NotFoundError):
        remove_model("Alpha")


def test_rm_never_deletes_another_apps_files(fake_home, capsys):
    blob = put_in_ollama(fake_home / ".ollama/models", "gamma", "latest")
    lms = make_tiny_gguf(fake_home / ".lmstudio/models/org/Beta-GGUF/Beta-Q8_0.gguf", file_type=7)
    with pytest.raises(LocalChatError, match="never deletes other apps' files"):
        remove_model("gamma:latest")
    assert main(["rm", "Beta"]) == 2
    assert "LM Studio" in capsys.readouterr().err
    assert blob.exists() and lms.exists()


def test_rm_refuses_a_model_loaded_in_a_running_localchat(fake_home):
    path = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA_A)
    with inuse.register(path):
        assert inuse.holders(path) == [os.getpid()]
        with pytest.raises(LocalChatError, match="loaded in a running localchat"):
            remove_model("Alpha")
    assert inuse.holders(path) == []
    assert remove_model("Alpha") > 0


def test_markers_of_dead_processes_are_cleaned(fake_home):
    path = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA_A)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    handle = inuse.register(path, pid=dead.pid)
    assert handle.marker.exists()
    assert inuse.holders(path) == []
    assert not handle.marker.exists()
    assert list((paths.cache_dir() / "inuse").iterdir()) == []


def test_a_marker_left_by_an_earlier_process_with_the_same_pid_is_stale(fake_home):
    path = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA_A)
    handle = inuse.register(path)
    pid, target, started = handle.marker.read_text().splitlines()
    assert inuse.holders(path) == [int(pid)]
    # the same pid, but a process that started an hour earlier: it died and the pid was reused
    handle.marker.write_text(f"{pid}\n{target}\n{float(started) - 3600}\n")
    assert inuse.holders(path) == []
    assert not handle.marker.exists()
