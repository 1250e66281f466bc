"""``localchat probe --rpc`` and ``localchat recommend --rpc`` against real workers on
127.0.0.1: each worker's memory as it reports it, the pool's plan with each machine's share and
the network it assumed, and an unreachable worker as one line naming it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.rpc.workers import ROOT, localchat_env
from tests.served import free_port

pytestmark = pytest.mark.slow


def localchat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localchat", *args], capture_output=True, text=True,
                          env=localchat_env(), cwd=ROOT, timeout=180, check=False)


def test_probe_asks_each_worker_for_its_memory(workers):
    first, second = workers
    out = localchat("probe", "--no-bandwidth", "--json", "--rpc", f"{first.endpoint},{second.endpoint}")
    assert out.returncode == 0, out.stderr
    profile = json.loads(out.stdout)
    assert profile["llama_cpp"]["rpc"] is True
    reported = {w["endpoint"]: w for w in profile["rpc_workers"]}
    assert set(reported) == {first.endpoint, second.endpoint}
    for worker in reported.values():  # a CPU worker reports this machine's RAM
        assert 0 < worker["free_bytes"] <= worker["total_bytes"] <= profile["memory"]["total_bytes"] * 1.01
    words = localchat("probe", "--no-bandwidth", "--rpc", first.endpoint)
    assert words.returncode == 0, words.stderr
    assert "RPC        yes" in words.stdout and f"Worker     {first.endpoint}:" in words.stdout


def test_an_unreachable_worker_is_one_line_naming_it(rpc_build):
    nobody = f"127.0.0.1:{free_port()}"
    for command in (["probe", "--no-bandwidth"], ["recommend"]):
        out = localchat(*command, "--rpc", nobody)
        assert out.returncode == 2
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and f"the RPC worker {nobody} cannot be reached" in lines[0], out.stderr
        assert "Traceback" not in out.stderr


def test_recommend_sizes_for_the_pool_with_each_machines_share(workers, smollm2_path):
    first, second = workers
    pool = f"{first.endpoint},{second.endpoint}"
    out = localchat("recommend", "--model", str(smollm2_path), "--ctx", "2048", "--rpc", pool)
    assert out.returncode == 0, out.stderr
    assert "workers" in out.stdout and "loopback" in out.stdout
    share = out.stdout.split("Each machine's share", 1)[1]
    for machine in ("this machine", first.endpoint, second.endpoint):
        assert machine in share
    data = json.loads(localchat("recommend", "--model", str(smollm2_path), "--ctx", "2048", "--json",
                                "--rpc", pool).stdout)
    assert [w["endpoint"] for w in data["pool"]["workers"]] == [first.endpoint, second.endpoint]
    assert data["pool"]["round_trip_s"] > 0 and data["choice"]["fit"] == "gpu"


def test_probe_says_whether_the_build_has_rpc_and_how_to_get_it():
    from tests.rpc.conftest import build_has_rpc

    out = localchat("probe", "--no-bandwidth")
    data = json.loads(localchat("probe", "--no-bandwidth", "--json").stdout)
    assert out.returncode == 0, out.stderr
    if build_has_rpc():
        assert "RPC        yes" in out.stdout and data["llama_cpp"]["rpc_reinstall_command"] is None
    else:
        assert "RPC        not in this build" in out.stdout and "-DGGML_RPC=on" in out.stdout
        assert "-DGGML_RPC=on" in data["llama_cpp"]["rpc_reinstall_command"]
