"""Real ``localchat worker`` processes on 127.0.0.1 (free ports), started and ended by the tests."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

from tests.served import ServedProcess

ROOT = Path(__file__).resolve().parents[2]


def localchat_env() -> dict[str, str]:
    """This checkout first on the import path, as the tests' own process has it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Worker(ServedProcess):
    """``with Worker() as w: w.endpoint``: ``localchat worker --port P --threads 1``, up once its
    port accepts connections; ``kill()`` ends it at once (SIGKILL), as a lost machine would."""

    name = "localchat worker"
    stop_signal = signal.SIGINT  # the way a person stops it

    def __init__(self, *, threads: int = 1, log: Path | None = None) -> None:
        super().__init__(log)
        self.endpoint = f"127.0.0.1:{self.port}"
        self.threads = threads

    def __enter__(self) -> Worker:
        self.start([sys.executable, "-m", "localchat", "worker", "--port", str(self.port),
                    "--threads", str(self.threads)],
                   localchat_env(), self._listening, timeout_s=60, poll_s=0.1, cwd=ROOT)
        return self

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def __exit__(self, *exc: object) -> None:
        self.stop()
