"""Pulling from the Hub stand-in over real HTTP with the real huggingface_hub client."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from localchat import paths
from localchat.download import check_online, hfcache, is_offline
from localchat.download.fetch import PullCancelled, PullProgress, pull
from localchat.download.resolver import find_cached, list_quants, read_remote_header, resolve
from localchat.download.source import HubModel
from localchat.download.store import list_local_models, remove_model
from localchat.errors import DownloadError, HubUnreachableError, NotFoundError
from localchat.gguffile import read_header
from tests.download.conftest import Q4_FILE, REPO, make_split_gguf


def _partials() -> list[Path]:
    return list(paths.hf_hub_cache().rglob(f"*{hfcache.PARTIAL_SUFFIX}"))


def test_clean_pull_is_usable_by_huggingface_hub_and_not_fetched_twice(
    hub, smol_repo, smollm2_path, smol_sha
):
    reports: list[PullProgress] = []
    path = pull(HubModel(REPO, "q4_1"), progress=reports.append)

    assert path.read_bytes() == smollm2_path.read_bytes()
    assert path.resolve() == hfcache.blob_path(REPO, smol_sha)
    found = hf_hub_download(REPO, Q4_FILE, local_files_only=True, cache_dir=paths.hf_hub_cache())
    assert Path(found) == path
    assert reports[-1].done_bytes == reports[-1].total_bytes == smollm2_path.stat().st_size
    assert not _partials()

    sent = hub.state.bytes_sent[Q4_FILE]
    assert pull(HubModel(REPO, "Q4_1")) == path
    assert hub.state.bytes_sent[Q4_FILE] == sent


def test_a_file_huggingface_hub_downloaded_is_reused(hub, smol_repo):
    hf_hub_download(REPO, Q4_FILE, cache_dir=paths.hf_hub_cache(), endpoint=hub.url)
    sent = hub.state.bytes_sent[Q4_FILE]
    assert sent > 0  # huggingface_hub really fetched it from the stand-in

    path = pull(HubModel(REPO, "Q4_1"))
    assert hub.state.bytes_sent[Q4_FILE] == sent
    assert read_header(path).quant == "Q4_1"


def test_dropped_connection_resumes_with_only_the_missing_bytes(hub, smol_repo, smollm2_path):
    size = smollm2_path.stat().st_size
    hub.state.cut_after = 10_000_000
    with pytest.raises(DownloadError, match="partial file is kept"):
        pull(HubModel(REPO, "Q4_1"), max_retries=0)
    [partial] = _partials()
    on_disk = partial.stat().st_size
    assert on_disk == 10_000_000

    hub.state.cut_after = None
    hub.state.bytes_sent.clear()
    reports: list[PullProgress] = []
    path = pull(HubModel(REPO, "Q4_1"), progress=reports.append)
    assert hub.state.bytes_sent[Q4_FILE] == size - on_disk
    assert reports[0].resumed_from_bytes == on_disk
    assert path.read_bytes() == smollm2_path.read_bytes()
    assert not _partials()


def test_repeated_drops_are_retried_within_one_pull_without_refetching(hub, smol_repo, smollm2_path):
    hub.state.cut_after = 30_000_000  # every response is cut: four requests complete the file
    path = pull(HubModel(REPO, "Q4_1"), stall_timeout_s=2)
    assert hub.state.bytes_sent[Q4_FILE] == smollm2_path.stat().st_size
    assert path.read_bytes() == smollm2_path.read_bytes()
    ranges = [r for method, p, r in hub.state.requests if p.startswith("/lfs/")]
    assert ranges == ["bytes=0-", "bytes=30000000-", "bytes=60000000-", "bytes=90000000-"]


def test_corrupt_bytes_are_rejected_and_nothing_is_left(hub, tmp_path, smollm2_path, smol_sha):
    bad = tmp_path / "bad.gguf"
    data = bytearray(smollm2_path.read_bytes())
    data[50_000_000] ^= 0xFF
    bad.write_bytes(bytes(data))
    hub.state.add_repo(REPO, {Q4_FILE: bad}, sha256s={Q4_FILE: smol_sha})

    with pytest.raises(DownloadError, match="failed verification") as err:
        pull(HubModel(REPO, "Q4_1"))
    assert "deleted" in str(err.value)
    assert not _partials()
    assert not hfcache.blob_path(REPO, smol_sha).exists()
    assert not list((hfcache.repo_folder(REPO) / "snapshots").rglob("*.gguf"))


def test_missing_quant_lists_the_available_ones(hub, smol_repo):
    assert set(list_quants(REPO)) == {"Q4_1", "Q8_0"}
    with pytest.raises(NotFoundError) as err:
        resolve(HubModel(REPO, "Q5_K_M"))
    assert "no Q5_K_M" in str(err.value) and "Q4_1" in str(err.value) and "Q8_0" in str(err.value)


def test_split_files_are_fetched_as_a_set_and_q4_k_m_is_the_default(hub, tmp_path, smollm2_path):
    part1, part2 = make_split_gguf(tmp_path / "Model-Q4_K_M.gguf")  # a real split, as gguf-split makes
    hub.state.add_repo("org/Split-GGUF", {
        "Q4_K_M/Model-Q4_K_M-00002-of-00002.gguf": part2,
        "Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf": part1,
        "Model-Q8_0.gguf": smollm2_path,
    })
    model = resolve(HubModel("org/Split-GGUF"))
    assert model.quant == "Q4_K_M"
    assert model.filenames == ("Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf",
                               "Q4_K_M/Model-Q4_K_M-00002-of-00002.gguf")
    total = part1.stat().st_size + part2.stat().st_size
    assert model.total_bytes == total

    first = pull(model)
    assert first.name == "Model-Q4_K_M-00001-of-00002.gguf"
    assert first.read_bytes() == part1.read_bytes()
    assert first.with_name("Model-Q4_K_M-00002-of-00002.gguf").read_bytes() == part2.read_bytes()
    assert hub.state.bytes_sent["Model-Q8_0.gguf"] == 0

    [local] = list_local_models(include_config_dirs=False)
    assert (local.path, local.size_bytes, local.quant) == (first, total, "Q4_K_M")
    assert remove_model("Split-GGUF:Q4_K_M") == total  # both parts
    assert not hfcache.repo_folder("org/Split-GGUF").exists()


def test_gated_repo_explains_the_license_and_never_shows_the_token(hub, smollm2_path, monkeypatch):
    hub.state.add_repo("org/Gated-GGUF", {"m-Q4_1.gguf": smollm2_path}, gated=True)
    hub.state.tokens.add("hf_good_token")

    with pytest.raises(DownloadError, match="accept the license") as err:
        pull(HubModel("org/Gated-GGUF", "Q4_1"))
    assert "no valid Hugging Face token" in str(err.value) and "HF_TOKEN" in str(err.value)
    assert "hf auth login" in str(err.value)
    assert not _partials() and not list(paths.hf_hub_cache().rglob("*.gguf"))

    monkeypatch.setenv("HF_TOKEN", "hf_secret_but_wrong")
    with pytest.raises(DownloadError, match="has no access") as err:
        pull(HubModel("org/Gated-GGUF", "Q4_1"))
    assert "accept the license" in str(err.value)
    assert "hf_secret_but_wrong" not in str(err.value)
    with pytest.raises(DownloadError, match="has no access"):
        read_remote_header("org/Gated-GGUF", "m-Q4_1.gguf")

    monkeypatch.setenv("HF_TOKEN", "hf_good_token")
    assert read_remote_header("org/Gated-GGUF", "m-Q4_1.gguf").quant == "Q4_1"
    assert pull(HubModel("org/Gated-GGUF", "Q4_1")).read_bytes() == smollm2_path.read_bytes()


def test_an_unknown_repository_is_not_found(hub):
    with pytest.raises(NotFoundError, match="no model repository org/Nope-GGUF") as err:
        resolve(HubModel("org/Nope-GGUF"))
    assert "if it is private" in str(err.value)


def _dead_endpoint() -> str:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_unreachable_hub_fails_quickly(hub, monkeypatch):
    import time

    check_online()  # the stand-in answers
    monkeypatch.setenv("HF_ENDPOINT", _dead_endpoint())
    began = time.monotonic()
    with pytest.raises(HubUnreachableError, match="cannot reach the Hugging Face Hub") as err:
        pull(HubModel(REPO, "Q4_1"))
    assert "pull starter" in str(err.value)
    with pytest.raises(HubUnreachableError, match="cannot reach"):
        check_online()
    assert time.monotonic() - began < 5  # behaviour, not speed: no retry loop before giving up


def test_a_captive_portal_in_the_hubs_place_is_unreachable_not_a_crash(monkeypatch):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>Sign in to the hotel wifi</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(HubUnreachableError, match="answered with a web page"):
            pull(HubModel(REPO, "Q4_1"))
    finally:
        server.shutdown()
        server.server_close()


def test_offline_mode_uses_what_is_on_disk(hub, smol_repo, monkeypatch):
    path = pull(HubModel(REPO, "Q4_1"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    requests = len(hub.state.requests)
    assert is_offline()
    with pytest.raises(HubUnreachableError, match="offline"):
        pull(HubModel(REPO, "Q4_1"))
    with pytest.raises(HubUnreachableError, match="offline"):
        check_online()
    assert len(hub.state.requests) == requests
    assert find_cached(HubModel(REPO, "Q4_1")) == path
    assert find_cached(HubModel(REPO)) == path
    assert find_cached(HubModel(REPO, "Q8_0")) is None


def test_not_enough_disk_space_is_refused_before_downloading(hub, smollm2_path):
    huge = 1 << 50  # 1 PiB: more than any disk this runs on has free
    hub.state.add_repo("org/Huge-GGUF", {"Huge-Q4_1.gguf": smollm2_path}, sizes={"Huge-Q4_1.gguf": huge})
    with pytest.raises(DownloadError, match="not enough disk space") as err:
        pull(HubModel("org/Huge-GGUF", "Q4_1"))
    assert "1024.0 TiB to download" in str(err.value) and "free on the disk" in str(err.value)
    assert not [p for _, p, _ in hub.state.requests if p.startswith("/lfs/")]
    assert not _partials()


def test_remote_header_matches_the_local_file(hub, smol_repo, smollm2_path):
    remote = read_remote_header(REPO, Q4_FILE)
    local = read_header(smollm2_path)
    assert remote.metadata == local.metadata
    assert remote.tensors == local.tensors
    assert hub.state.bytes_sent[Q4_FILE] < smollm2_path.stat().st_size // 10


def test_a_stall_is_reported_then_retried(hub, smol_repo, smollm2_path):
    hub.state.pause_at = (20_000_000, 5.0)
    reports: list[PullProgress] = []
    path = pull(HubModel(REPO, "Q4_1"), progress=reports.append, stall_timeout_s=0.5)
    stalled = [r for r in reports if r.stalled]
    assert stalled and all(r.speed_bps == 0 and r.eta_s is None for r in stalled)
    assert not reports[-1].stalled
    assert path.read_bytes() == smollm2_path.read_bytes()


def test_cancel_keeps_the_partial_file(hub, smol_repo):
    hub.state.throttle_bps = 20_000_000  # unthrottled, the whole file can land between two progress reports
    cancel = threading.Event()

    def on_progress(p: PullProgress) -> None:
        if p.done_bytes > 5_000_000:
            cancel.set()

    with pytest.raises(PullCancelled, match="partial"):
        pull(HubModel(REPO, "Q4_1"), progress=on_progress, cancel=cancel)
    [partial] = _partials()
    assert partial.stat().st_size > 5_000_000
    # it says what it is, so setup and the model menu can show it offline
    from localchat.download import list_partial_downloads

    [stopped] = list_partial_downloads()
    assert (stopped.spec, stopped.filename) == (f"{REPO}:Q4_1", Q4_FILE)
    assert (stopped.done_bytes, stopped.size_bytes) == (partial.stat().st_size, 98_362_432)
    hub.state.throttle_bps = None
    pull(HubModel(REPO, "Q4_1"))  # resumed and finished: nothing partial is left to show
    assert list_partial_downloads() == [] and _partials() == []
    assert not list(paths.hf_hub_cache().rglob("*.json"))


def test_busy_server_answers_are_retried(hub, smol_repo, smollm2_path):
    hub.state.fail_with = [503, 429]
    path = pull(HubModel(REPO, "Q4_1"), stall_timeout_s=0.2)
    assert path.read_bytes() == smollm2_path.read_bytes()
    assert hub.state.fail_with == []



def test_the_public_interface_is_importable_from_the_package():
    import localchat.download as download

    missing = [name for name in download.__all__ if not hasattr(download, name)]
    assert missing == []
    assert callable(download.resolve) and callable(download.pull)  # functions, not submodules
