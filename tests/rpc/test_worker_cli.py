"""``localchat worker`` as a user runs it: loopback by default, any other address refused without
the flag that says the user knows it is unauthenticated, a taken port and a build without RPC
as one line each, and Ctrl-C stopping it cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.rpc.conftest import build_has_rpc
from tests.rpc.workers import ROOT, Worker, localchat_env


def localchat(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localchat", *args], capture_output=True, text=True,
                          env=localchat_env(), cwd=ROOT, timeout=timeout, stdin=subprocess.DEVNULL,
                          check=False)


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])
def test_a_reachable_address_is_refused_without_the_flag(host):
    line = one_line_error(localchat("worker", "--host", host, "--port", "50999"))
    assert "no authentication and no encryption" in line
    assert "--i-understand-this-is-unauthenticated" in line


def test_a_host_name_is_refused_for_an_ipv4_address():
    line = one_line_error(localchat("worker", "--host", "my-laptop.local"))
    assert "is not an IPv4 address" in line


def test_a_build_without_rpc_says_how_to_reinstall():
    if build_has_rpc():
        pytest.skip("this llama-cpp-python build has RPC")
    line = one_line_error(localchat("worker"))
    assert "no RPC support" in line and "-DGGML_RPC=on" in line


def test_a_taken_port_is_one_line(rpc_build):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(localchat("worker", "--port", str(port)))
    assert f"cannot listen on 127.0.0.1:{port}" in line


def test_ctrl_c_stops_a_worker_cleanly(rpc_build, tmp_path):
    log = tmp_path / "worker.log"
    worker = Worker(log=log)
    with worker:
        assert worker.process is not None
        worker.process.send_signal(signal.SIGINT)
        assert worker.process.wait(timeout=20) == 0
    text = log.read_text()
    assert f"listening on {worker.endpoint}" in text and "stopped" in text
    assert "Traceback" not in text
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the port is free again
        try:
            with socket.create_connection(("127.0.0.1", worker.port), timeout=1):
                time.sleep(0.1)
        except OSError:
            return
    pytest.fail("the worker's port still accepts connections after Ctrl-C")
