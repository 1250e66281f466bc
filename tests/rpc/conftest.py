"""Fixtures for the RPC pool tests: two real workers on 127.0.0.1, and the rule that a build
without RPC skips these tests here but fails them on CI (``CI`` set), where .ci/run builds
llama-cpp-python with RPC."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rpc.workers import Worker, localchat_env


def build_has_rpc() -> bool:
    """Asked of a child: the test process itself need not import llama_cpp for this."""
    out = subprocess.run([sys.executable, "-c", "import llama_cpp; print(llama_cpp.llama_supports_rpc())"],
                         capture_output=True, text=True, env=localchat_env(), timeout=120, check=False)
    return out.stdout.strip() == "True"


@pytest.fixture(scope="session")
def rpc_build() -> None:
    if build_has_rpc():
        return
    why = ("this llama-cpp-python build has no RPC backend: reinstall it with "
           "CMAKE_ARGS=\"-DGGML_RPC=on\" (README: Install)")
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def workers(rpc_build: None, tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    with Worker(log=tmp_path / "worker1.log") as first, Worker(log=tmp_path / "worker2.log") as second:
        yield first, second
