"""Fixtures for the remote-endpoint tests: the session's real llama_cpp.server as a configured
endpoint (tests/conftest.py starts it; tests that kill theirs start their own) and the replay
server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localchat.endpoints import Endpoint
from tests.remote.llamaserver import KEY, KEY_ENV, LlamaCppServer
from tests.remote.replay import ReplayServer


@pytest.fixture
def server_endpoint(llama_server: LlamaCppServer, monkeypatch: pytest.MonkeyPatch) -> Endpoint:
    """The session's server as a configured endpoint, its key in the environment."""
    monkeypatch.setenv(KEY_ENV, KEY)
    return Endpoint("box", llama_server.url, KEY_ENV)


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server
