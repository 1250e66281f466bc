"""Real ``localchat worker`` processes on 127.0.0.1 (free ports), started and ended by the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def localchat_env() -> dict[str, str]:
    """This checkout first on the import path, as the tests' own process has it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Worker:
    """``with Worker() as w: w.endpoint``: ``localchat worker --port P --threads 1``, up once its
    port accepts connections. ``kill()`` ends it at once (SIGKILL), as a lost machine would."""

    def __init__(self, *, threads: int = 1, log: Path | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        self.threads = threads
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Worker:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localchat", "worker", "--port", str(self.port),
             "--threads", str(self.threads)],
            stdout=out, stderr=subprocess.STDOUT, env=localchat_env(), cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localchat worker exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)  # another process: nothing to wait on but its port
        self.__exit__()
        raise RuntimeError("localchat worker did not listen within 60 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # the way a person stops it
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
