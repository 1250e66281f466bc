"""A real ``python -m llama_cpp.server`` (llama-cpp-python's ``[server]`` extra, in the test
extras) on 127.0.0.1 with a test model: started for the tests, ended by them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx2

from tests.served import ServedProcess

ALIAS = "smol"  # the model's name on the server (/v1/models)
KEY = "test-key-3f9a1c7e5b"  # the session server's API key: never to be seen in an error or a log
KEY_ENV = "LOCALCHAT_TEST_SERVER_KEY"


class LlamaCppServer(ServedProcess):
    """``with LlamaCppServer(model, api_key="k") as server: server.url``, up once it lists its
    model; ``kill()`` ends it at once (SIGKILL), as a crash would."""

    name = "llama_cpp.server"

    def __init__(self, model: Path, *, api_key: str | None = None, n_ctx: int = 2048,
                 n_threads: int | None = None, n_threads_batch: int | None = None,
                 log: Path | None = None) -> None:
        super().__init__(log)
        self.model, self.api_key, self.n_ctx = model, api_key, n_ctx
        self.n_threads, self.n_threads_batch = n_threads, n_threads_batch or n_threads
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LlamaCppServer:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
               "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
               "--n_ctx", str(self.n_ctx), "--verbose", "False"]
        if self.api_key:
            cmd += ["--api_key", self.api_key]
        if self.n_threads:
            cmd += ["--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads_batch)]
        self.start(cmd, {**os.environ, "PYTHONUNBUFFERED": "1"}, self._listing,
                   timeout_s=120, poll_s=0.2)
        return self

    def _listing(self) -> bool:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            return httpx2.get(self.url + "/v1/models", headers=headers, timeout=2).status_code == 200
        except httpx2.TransportError:
            return False

    def __exit__(self, *exc: object) -> None:
        self.stop()
