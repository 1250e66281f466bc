"""A real ``python -m llama_cpp.server`` (llama-cpp-python's ``[server]`` extra, in the test
extras) on 127.0.0.1 with a test model: started for the tests, ended by them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

ALIAS = "smol"  # the model's name on the server (/v1/models)
KEY = "test-key-3f9a1c7e5b"  # the session server's API key: never to be seen in an error or a log
KEY_ENV = "LOCALCHAT_TEST_SERVER_KEY"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaCppServer:
    """``with LlamaCppServer(model, api_key="k") as server: server.url``. ``kill()`` ends it at
    once (SIGKILL), as a crash would."""

    def __init__(self, model: Path, *, api_key: str | None = None, n_ctx: int = 2048,
                 n_threads: int | None = None, n_threads_batch: int | None = None,
                 log: Path | None = None) -> None:
        self.model, self.api_key, self.n_ctx = model, api_key, n_ctx
        self.n_threads, self.n_threads_batch = n_threads, n_threads_batch or n_threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LlamaCppServer:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
               "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
               "--n_ctx", str(self.n_ctx), "--verbose", "False"]
        if self.api_key:
            cmd += ["--api_key", self.api_key]
        if self.n_threads:
            cmd += ["--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads_batch)]
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}")
            try:
                if httpx2.get(self.url + "/v1/models", headers=headers, timeout=2).status_code == 200:
                    return self
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("llama_cpp.server did not start within 120 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
