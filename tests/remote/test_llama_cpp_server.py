"""RemoteEngine against a real ``python -m llama_cpp.server`` on 127.0.0.1 serving SmolLM2: the
model list, a streamed reply, a stop mid-reply, a refused key (never shown nor logged), the
fallback when the server sends no usage, and the server killed mid-reply."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from localchat.endpoints import Endpoint
from localchat.engine import Message, RemoteModel, ReplyStats, Sampling, TextChunk, load_engine
from localchat.engine.endpoint import first_model, list_models
from localchat.engine.remote import RemoteEngine
from localchat.errors import (
    EndpointAuthError,
    EndpointClosedError,
    EndpointModelNotFoundError,
    EndpointUnreachableError,
)
from tests.remote.llamaserver import ALIAS, KEY, KEY_ENV, LlamaCppServer
from tests.served import free_port

pytestmark = pytest.mark.slow

QUESTION = [Message("system", "You are a helpful assistant."),
            Message("user", "Write a short poem about the sea.")]


def reply(engine: RemoteEngine, messages: list[Message], sampling: Sampling,
          cancel: threading.Event | None = None) -> tuple[list[str], ReplyStats | None]:
    pieces, stats = [], None
    for event in engine.chat(messages, sampling, cancel):
        if isinstance(event, TextChunk):
            pieces.append(event.text)
        else:
            stats = event
    return pieces, stats


def test_lists_the_servers_models_and_loads_one(server_endpoint: Endpoint) -> None:
    assert [m["id"] for m in list_models(server_endpoint)] == [ALIAS]
    assert first_model(server_endpoint) == RemoteModel(server_endpoint, ALIAS)
    engine = load_engine(RemoteModel(server_endpoint, ALIAS))
    try:
        assert isinstance(engine, RemoteEngine)
        info = engine.info
        assert (info.name, info.host) == (ALIAS, "box")
        assert info.n_ctx == 0  # llama_cpp.server does not say its context
        assert not engine.counts_exactly  # and has no template API: counts are estimates
        assert engine.count_tokens(QUESTION) > 0
    finally:
        engine.close()


def test_a_model_the_server_does_not_list_is_refused_in_one_line(server_endpoint: Endpoint) -> None:
    with pytest.raises(EndpointModelNotFoundError) as caught:
        RemoteEngine(RemoteModel(server_endpoint, "no-such-model"))
    assert "no model 'no-such-model'" in str(caught.value) and ALIAS in str(caught.value)
    assert "\n" not in str(caught.value)


def test_streams_a_reply_and_counts_pieces_when_the_server_sends_no_usage(server_endpoint: Endpoint) -> None:
    engine = RemoteEngine(RemoteModel(server_endpoint, ALIAS))
    try:
        pieces, stats = reply(engine, QUESTION, Sampling(temperature=0.0, max_tokens=12, seed=1))
        assert stats is not None and len(pieces) >= 6
        assert stats.text == "".join(pieces) and stats.text.strip()
        assert stats.finish_reason == "length"  # 12 tokens asked for: the poem is longer
        # llama_cpp.server sends no usage even when asked: the pieces are counted, marked so
        assert stats.approximate
        assert stats.completion_tokens == len(pieces)
        assert stats.gen_tps > 0 and stats.ttft_s > 0 and stats.total_s >= stats.ttft_s
        assert stats.prompt_tokens == engine.count_tokens(QUESTION)  # the estimate
        assert stats.n_ctx == 0 and stats.ctx_used == stats.prompt_tokens + stats.completion_tokens
    finally:
        engine.close()


def test_stop_mid_reply_keeps_the_text_and_frees_the_server(server_endpoint: Endpoint) -> None:
    engine = RemoteEngine(RemoteModel(server_endpoint, ALIAS))
    cancel = threading.Event()
    pieces: list[str] = []
    stats = None
    stopped_at = 0.0
    try:
        for event in engine.chat(QUESTION, Sampling(max_tokens=400), cancel):
            if isinstance(event, TextChunk):
                pieces.append(event.text)
                if len(pieces) == 3:
                    cancel.set()
                    stopped_at = time.monotonic()
            else:
                stats = event
        assert time.monotonic() - stopped_at < 1.0  # at once, not at the reply's end
        assert stats is not None and stats.finish_reason == "cancelled"
        assert stats.text == "".join(pieces) and len(pieces) == 3
        # the connection was closed: the server took the next request at once
        t0 = time.monotonic()
        _, after = reply(engine, QUESTION, Sampling(temperature=0.0, max_tokens=4))
        assert after is not None and after.finish_reason == "length"
        assert time.monotonic() - t0 < 30
    finally:
        engine.close()


def test_a_wrong_key_is_refused_in_one_line_and_no_key_is_ever_shown_or_logged(
        llama_server: LlamaCppServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    wrong = "wrong-key-77c1d2e3f4"
    monkeypatch.setenv(KEY_ENV, wrong)
    caplog.set_level(logging.DEBUG)  # httpx2, httpcore and everything else, at their chattiest
    with pytest.raises(EndpointAuthError) as caught:
        RemoteEngine(RemoteModel(Endpoint("box", llama_server.url, KEY_ENV), ALIAS))
    said = str(caught.value)
    assert "box refused the request (HTTP 401" in said and f"${KEY_ENV}" in said
    assert "\n" not in said
    monkeypatch.setenv(KEY_ENV, KEY)  # the right key works, and is not logged either
    RemoteEngine(RemoteModel(Endpoint("box", llama_server.url, KEY_ENV), ALIAS)).close()
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert logged  # the HTTP client did log its requests
    for secret in (wrong, KEY):
        assert secret not in said and secret not in logged
    # no api_key_env at all: the hint says how to give one
    with pytest.raises(EndpointAuthError, match="add api_key_env"):
        RemoteEngine(RemoteModel(Endpoint("bare", llama_server.url), ALIAS))


def test_an_unreachable_server_is_one_line() -> None:
    endpoint = Endpoint("gone", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(EndpointUnreachableError) as caught:
        RemoteEngine(RemoteModel(endpoint, ALIAS))
    assert "cannot reach gone" in str(caught.value) and "connection refused" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_server_killed_mid_reply_keeps_the_partial_reply(smollm2_path: Path) -> None:
    with LlamaCppServer(smollm2_path) as server:
        engine = RemoteEngine(RemoteModel(Endpoint("doomed", server.url), ALIAS))
        pieces: list[str] = []
        try:
            with pytest.raises(EndpointClosedError) as caught:
                for event in engine.chat(QUESTION, Sampling(max_tokens=400)):
                    if isinstance(event, TextChunk):
                        pieces.append(event.text)
                        if len(pieces) == 3:
                            server.kill()  # SIGKILL, as a crash or an OOM kill would
        finally:
            engine.close()
    assert len(pieces) >= 3  # what came before the crash reached the caller (the chat keeps it)
    said = str(caught.value)
    assert "doomed closed the connection in the middle of the reply" in said
    assert "partial reply is kept" in said and "\n" not in said
