"""`localchat pull` as a user runs it: the real command in a subprocess, killed and interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from localchat import paths
from localchat.cli import main
from localchat.download import hfcache
from localchat.download.fetch import pull
from localchat.download.source import HubModel
from localchat.download.store import clean_partials
from localchat.units import fmt_bytes
from tests.download.conftest import Q4_FILE, REPO

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _partial_size() -> int:
    found = list(paths.hf_hub_cache().rglob(f"*{hfcache.PARTIAL_SUFFIX}"))
    return found[0].stat().st_size if found else 0


def _start_pull(spec: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "localchat", "pull", spec], cwd=ROOT,
                            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_killed_pull_resumes_from_the_bytes_on_disk(hub, smol_repo, smollm2_path):
    hub.state.throttle_bps = 8_000_000
    proc = _start_pull(f"{REPO}:Q4_1")
    try:
        wait_until(lambda: _partial_size() > 4_000_000)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    on_disk = _partial_size()
    assert 0 < on_disk < smollm2_path.stat().st_size

    hub.state.throttle_bps = None
    hub.state.requests.clear()
    path = pull(HubModel(REPO, "Q4_1"))
    # only the missing bytes were asked for (bytes_sent can still count a last chunk the killed
    # connection's server thread sent after the kill, so the request is what is checked)
    gets = [rng for method, url, rng in hub.state.requests if method == "GET" and url.endswith(Q4_FILE)]
    assert gets and set(gets) == {f"bytes={on_disk}-"}
    assert path.read_bytes() == smollm2_path.read_bytes()


def test_ctrl_c_stops_cleanly_and_says_the_next_pull_resumes(hub, smol_repo, capsys):
    hub.state.throttle_bps = 8_000_000
    proc = _start_pull(f"{REPO}:Q4_1")
    wait_until(lambda: _partial_size() > 2_000_000)
    assert clean_partials() == 0 and _partial_size() > 0  # held by the running pull: kept
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "partial file is kept" in err and "again to resume" in err
    assert "Traceback" not in err
    on_disk = _partial_size()
    assert on_disk > 2_000_000
    capsys.readouterr()
    assert main(["models"]) == 0  # says what stopped and how to resume or delete it
    out = capsys.readouterr().out
    assert f"stopped download: {REPO}:Q4_1 {fmt_bytes(on_disk)} of 93.8 MiB" in out
    assert f"`localchat pull {REPO}:Q4_1` resumes it" in out

    assert main(["rm", "--partials"]) == 0  # now orphaned: removed
    assert capsys.readouterr().out == f"removed partial downloads: {fmt_bytes(on_disk)} freed\n"
    assert not list(paths.hf_hub_cache().rglob("*.json"))  # nor the notes saying what they were
    assert _partial_size() == 0


def test_a_disk_that_fills_up_mid_pull_is_a_clear_error(hub, smol_repo):
    # a real write failure: the file size limit (RLIMIT_FSIZE) makes writes past 20 MB fail (EFBIG)
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000_000, 20_000_000))\n"
        "from localchat.cli import main\n"
        f"sys.exit(main(['pull', '{REPO}:Q4_1']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"localchat: error: cannot write {Q4_FILE}") and "File too large" in last
    assert "partial file is kept" in last and "again to resume" in last
    assert _partial_size() == 20_000_000


def test_pull_prints_progress_lines_and_the_path(hub, smol_repo, capsys):
    assert main(["pull", f"{REPO}:Q4_1"]) == 0
    out, err = capsys.readouterr()
    path = Path(out.strip().splitlines()[-1])
    assert path == hfcache.snapshot_path(REPO, hub.state.repos[REPO].commit, Q4_FILE)
    assert "100.0%" in err and "\r" not in err  # not a terminal: plain lines, no redrawn bar


def test_pull_errors_are_one_line_with_exit_status_2(hub, smol_repo, capsys):
    assert main(["pull", f"{REPO}:IQ1_S"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "available: Q4_1, Q8_0" in err


def test_pull_list_shows_the_quants(hub, smol_repo, capsys):
    assert main(["pull", REPO, "--list"]) == 0
    out = capsys.readouterr().out
    assert "Q4_1" in out and "Q8_0" in out


def test_offline_pull_points_at_the_copy_on_disk(hub, smol_repo, monkeypatch, capsys):
    path = pull(HubModel(REPO, "Q4_1"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["pull", f"{REPO}:Q4_1"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(path)
    assert "offline" in err and "already on disk" in err
    assert main(["pull", "other/Model-GGUF"]) == 2
    assert "offline" in capsys.readouterr().err


def test_terminal_progress_bar_shows_speed_eta_and_stalls():
    import io

    from localchat.commands.pull import ProgressPrinter
    from localchat.download.meter import PullProgress

    out = io.StringIO()
    bar = ProgressPrinter(out, interactive=True)
    bar(PullProgress("m.gguf", 50_000_000, 100_000_000, 10_000_000.0, 5.0, False, 0, 2, 0))
    bar(PullProgress("m.gguf", 50_000_000, 100_000_000, 0.0, None, True, 0, 2, 0))
    bar.end()
    first, second = out.getvalue().split("\r")[1:]
    assert "50.0%" in first and "9.5 MiB/s" in first and "ETA 0:05" in first and "file 1/2" in first
    assert "stalled" in second and "/s" not in second
