"""RemoteEngine against recorded replies of llama-server, vLLM and Ollama (tests/remote/data,
reconstructed from their docs), replayed on 127.0.0.1: each one's extra fields (timings, usage
with cached tokens, reasoning), error bodies, and what the engine sends."""

from __future__ import annotations

import json
import threading

import pytest

from localchat.endpoints import Endpoint
from localchat.engine import Message, RemoteModel, ReplyStats, Sampling, TextChunk
from localchat.engine.remote import RemoteEngine
from localchat.errors import (
    ContextOverflowError,
    EndpointAuthError,
    EndpointClosedError,
    EndpointError,
    EndpointModelNotFoundError,
)
from tests.remote.replay import ReplayServer, Reply, file_reply, sse_events, stream_reply

LLAMA = "Qwen3-8B-Q4_K_M.gguf"
VLLM = "Qwen/Qwen3-8B"
OLLAMA = "qwen3:8b"
ASK = [Message("user", "What is the capital of France?")]


def run(engine: RemoteEngine, messages: list[Message] = ASK, sampling: Sampling | None = None,
        cancel: threading.Event | None = None) -> tuple[str, ReplyStats]:
    text, stats = "", None
    for event in engine.chat(messages, sampling or Sampling(max_tokens=64), cancel):
        if isinstance(event, TextChunk):
            text += event.text
        else:
            stats = event
    assert stats is not None
    return text, stats


def llama_server(replay: ReplayServer) -> RemoteEngine:
    replay.routes.update({
        "GET /v1/models": file_reply("llama-server.models.json"),
        "GET /props": file_reply("llama-server.props.json"),
        "POST /v1/chat/completions": stream_reply("llama-server.stream.sse"),
    })
    return RemoteEngine(RemoteModel(Endpoint("gpu-box", replay.url), LLAMA))


def test_llama_server_timings_give_the_speeds_and_props_the_context(replay: ReplayServer) -> None:
    engine = llama_server(replay)
    info = engine.info
    assert (info.n_ctx, info.n_ctx_train, info.quant, info.host) == (4096, 40960, "Q4_K_M", "gpu-box")
    assert info.size_bytes == 5027783488
    assert info.thinking == "switchable"  # its template reads enable_thinking: F3's switch works
    assert engine.counts_exactly
    replay.routes["POST /apply-template"] = lambda r: Reply(200, json.dumps(
        {"prompt": "".join(f"<|{m['role']}|>{m['content']}" for m in r.body["messages"])}).encode())
    replay.routes["POST /tokenize"] = lambda r: Reply(200, json.dumps(
        {"tokens": list(range(len(r.body["content"]) // 4))}).encode())
    text, stats = run(engine)
    assert text == "Paris is the capital."
    assert (stats.gen_tps, stats.prompt_tps) == (39.97, 398.2)  # the server's own clock
    assert (stats.prompt_tokens, stats.prompt_eval_tokens, stats.completion_tokens) == (30, 18, 6)
    assert stats.finish_reason == "stop" and not stats.approximate
    assert (stats.n_ctx, stats.ctx_used) == (4096, 36)
    sent = replay.chat_requests()[-1]
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["model"] == LLAMA and sent.body["max_tokens"] == 64
    assert sent.body["messages"] == [{"role": "user", "content": ASK[0].content}]
    assert "Authorization" not in sent.headers  # no key configured: none sent


def test_llama_server_counts_with_its_own_template_and_the_oldest_turns_are_left_out(
        replay: ReplayServer) -> None:
    engine = llama_server(replay)
    replay.routes["POST /apply-template"] = lambda r: Reply(200, json.dumps(
        {"prompt": "".join(f"<|{m['role']}|>{m['content']}" for m in r.body["messages"])}).encode())
    replay.routes["POST /tokenize"] = lambda r: Reply(200, json.dumps(
        {"tokens": list(range(len(r.body["content"]) // 4))}).encode())  # 4 characters a token
    old = "x" * 4000  # about 1000 tokens each: 4 turns of them overflow 4096 - 1024 kept for the reply
    history = [Message("system", "Be brief.")]
    for n in range(4):
        history += [Message("user", f"{n} {old}"), Message("assistant", f"reply {n}")]
    history.append(Message("user", "And now?"))
    assert engine.count_tokens(history) == len("".join(
        f"<|{m.role}|>{m.content}" for m in history)) // 4
    _, stats = run(engine, history, Sampling(max_tokens=1024))
    sent = replay.chat_requests()[-1].body["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}  # the system prompt stays
    assert sent[-1] == {"role": "user", "content": "And now?"}
    assert stats.dropped_messages == len(history) - len(sent) > 0
    assert sent[1]["role"] == "user"  # whole exchanges go: the history still starts with a question


def test_vllm_usage_with_cached_tokens_and_reasoning_as_a_think_block(replay: ReplayServer) -> None:
    replay.routes.update({
        "GET /v1/models": file_reply("vllm.models.json"),
        "POST /v1/chat/completions": stream_reply("vllm.stream.sse"),
    })
    engine = RemoteEngine(RemoteModel(Endpoint("vllm", replay.url + "/v1"), VLLM))  # /v1 given
    assert (engine.info.n_ctx, engine.counts_exactly) == (32768, False)  # max_model_len
    text, stats = run(engine)
    assert text == "<think>\nThe user asks for 2+2.\n</think>\n\n2 + 2 = 4"
    assert stats.finish_reason == "length"
    assert (stats.prompt_tokens, stats.prompt_eval_tokens, stats.completion_tokens) == (40, 8, 12)
    assert stats.thinking_tokens == 2 and not stats.approximate
    assert stats.gen_tps > 0  # usage + this client's clock
    assert [r.path for r in replay.requests] == ["/v1/models", "/props", "/v1/chat/completions"]


def test_ollama_reasoning_field_and_usage(replay: ReplayServer) -> None:
    replay.routes.update({
        "GET /v1/models": file_reply("ollama.models.json"),
        "POST /v1/chat/completions": stream_reply("ollama.stream.sse"),
    })
    engine = RemoteEngine(RemoteModel(Endpoint("laptop-ollama", replay.url + "/v1"), OLLAMA))
    assert engine.info.n_ctx == 0  # Ollama's /v1 does not say it
    text, stats = run(engine)
    assert text == "<think>\nShort answer.\n</think>\n\nHello there!"
    assert (stats.prompt_tokens, stats.completion_tokens, stats.finish_reason) == (14, 5, "stop")


@pytest.mark.parametrize(("dialect", "body", "words"), [
    ("vllm", "vllm.404.json", "The model `Qwen/Qwen3-14B` does not exist."),
    ("ollama", "ollama.404.json", 'model "qwen3:14b" not found, try pulling it first'),
])
def test_an_unknown_model_is_one_line_with_the_servers_words(replay: ReplayServer, dialect: str,
                                                             body: str, words: str) -> None:
    model = VLLM if dialect == "vllm" else OLLAMA
    replay.routes.update({
        "GET /v1/models": file_reply(f"{dialect}.models.json"),
        "POST /v1/chat/completions": file_reply(body, 404),
    })
    engine = RemoteEngine(RemoteModel(Endpoint(dialect, replay.url + "/v1"), model))
    with pytest.raises(EndpointModelNotFoundError) as caught:
        run(engine)  # the model went away after it was listed
    said = str(caught.value)
    assert f"{dialect} has no model {model!r} (HTTP 404: {words})" in said and "\n" not in said


def test_a_key_the_server_echoes_back_is_masked(replay: ReplayServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-local-5b8e0c2d9a"
    monkeypatch.setenv("BOX_KEY", key)

    def refuse(request):  # an OpenAI-style refusal that quotes the key it got
        got = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return Reply(401, json.dumps({"error": {"message": f"Incorrect API key provided: {got}",
                                                "type": "invalid_request_error"}}).encode())

    replay.routes["GET /v1/models"] = refuse
    with pytest.raises(EndpointAuthError) as caught:
        RemoteEngine(RemoteModel(Endpoint("box", replay.url, "BOX_KEY"), "m"))
    assert replay.requests[0].headers["Authorization"] == f"Bearer {key}"  # it was sent...
    said = str(caught.value)
    assert key not in said and "Incorrect API key provided: ***" in said  # ...and never shown
    assert "check the key in $BOX_KEY" in said


def test_a_context_overflow_is_the_context_error(replay: ReplayServer) -> None:
    replay.routes.update({
        "GET /v1/models": file_reply("vllm.models.json"),
        "POST /v1/chat/completions": file_reply("llama-server.400-context.json", 400),
    })
    engine = RemoteEngine(RemoteModel(Endpoint("vllm", replay.url), VLLM))
    with pytest.raises(ContextOverflowError, match="longer than the server's context"):
        run(engine)


def test_an_error_mid_stream_keeps_what_came_before(replay: ReplayServer) -> None:
    replay.routes.update({
        "GET /v1/models": file_reply("llama-server.models.json"),
        "POST /v1/chat/completions": stream_reply("llama-server.stream-error.sse"),
    })
    engine = RemoteEngine(RemoteModel(Endpoint("gpu-box", replay.url), LLAMA))
    pieces = []
    with pytest.raises(EndpointClosedError) as caught:
        for event in engine.chat(ASK, Sampling()):
            pieces.append(event.text)  # type: ignore[union-attr]
    assert pieces == ["Once", " upon"]
    assert "out of memory in the KV cache" in str(caught.value)


@pytest.mark.parametrize("cut_after", [3, 7])  # mid-reply; after the finish but before [DONE]
def test_a_stream_cut_part_way(replay: ReplayServer, cut_after: int) -> None:
    replay.routes.update({
        "GET /v1/models": file_reply("llama-server.models.json"),
        "POST /v1/chat/completions": stream_reply("llama-server.stream.sse", cut_after=cut_after),
    })
    engine = RemoteEngine(RemoteModel(Endpoint("gpu-box", replay.url), LLAMA))
    pieces = []
    with pytest.raises(EndpointClosedError, match="closed the connection in the middle of the reply"):
        for event in engine.chat(ASK, Sampling()):
            if isinstance(event, TextChunk):
                pieces.append(event.text)
    assert "".join(pieces) == "Paris is the capital."[: len("".join(pieces))] and pieces


def test_stop_while_the_server_is_silent_returns_at_once(replay: ReplayServer) -> None:
    """A long prompt on a slow server: nothing arrives for a while, and Esc must not wait."""
    hold = threading.Event()
    replay.routes.update({
        "GET /v1/models": file_reply("llama-server.models.json"),
        "POST /v1/chat/completions": lambda r: Reply(200, sse_events(
            b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
            b'data: {"choices":[{"index":0,"delta":{"content":"late"}}]}\n\n'), "text/event-stream",
            hold=hold),
    })
    engine = RemoteEngine(RemoteModel(Endpoint("slow", replay.url), LLAMA))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    try:
        text, stats = run(engine, cancel=cancel)
    finally:
        hold.set()
    assert (text, stats.finish_reason, stats.completion_tokens) == ("", "cancelled", 0)


def test_sampling_and_the_thinking_switch_are_sent(replay: ReplayServer) -> None:
    engine = llama_server(replay)
    run(engine, sampling=Sampling(temperature=0.2, top_p=0.9, top_k=20, min_p=0.1, repeat_penalty=1.1,
                                  max_tokens=None, seed=7, enable_thinking=False))
    body = replay.chat_requests()[-1].body
    assert {k: body[k] for k in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")} == {
        "temperature": 0.2, "top_p": 0.9, "top_k": 20, "min_p": 0.1, "repeat_penalty": 1.1, "seed": 7}
    assert "max_tokens" not in body  # until the context is full
    assert body["chat_template_kwargs"] == {"enable_thinking": False}


def test_earlier_replies_go_back_without_their_thinking(replay: ReplayServer) -> None:
    engine = llama_server(replay)
    history = [Message("user", "hi"), Message("assistant", "<think>\nhm\n</think>\n\nHello!"),
               Message("user", "again")]
    run(engine, history)
    assert replay.chat_requests()[-1].body["messages"][1] == {"role": "assistant", "content": "Hello!"}


def test_a_server_without_an_api_at_that_address(replay: ReplayServer) -> None:
    with pytest.raises(EndpointError, match="no OpenAI-compatible API at"):
        RemoteEngine(RemoteModel(Endpoint("web", replay.url), "m"))  # every path: 404
