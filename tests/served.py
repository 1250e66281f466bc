"""A server process a test starts on a free loopback port, waits for, and ends: llama-cpp-python's
server (tests/remote/llamaserver.py), ``localchat worker`` (tests/rpc/workers.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedProcess:
    """``start`` runs the command (its output to ``log``, if given) and waits until ``ready()``;
    ``kill()`` ends it at once (SIGKILL), as a crash or a lost machine would; ``stop()`` as its
    user would (``stop_signal``), killing it if it does not end within 20 s."""

    name = "server"
    stop_signal = signal.SIGTERM

    def __init__(self, log: Path | None = None) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, cmd: Sequence[str], env: dict[str, str], ready: Callable[[], bool],
              timeout_s: float, poll_s: float, cwd: Path | None = None) -> None:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, env=env,
                                        cwd=cwd)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            if ready():
                return
            time.sleep(poll_s)  # another process: nothing to wait on but its answer
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout_s:.0f} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
