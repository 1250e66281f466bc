"""ReplyStream: one reply's chunks read into text and figures, whatever the server's dialect;
error bodies in one line; the [[endpoints]] config."""

from __future__ import annotations

import pytest

from localchat.config import Config, find_endpoint, load_config
from localchat.endpoints import Endpoint
from localchat.engine.remote_reply import ReplyStream, error_message, is_context_overflow
from localchat.errors import ConfigError, EndpointClosedError


def chunk(content: str | None = None, finish: str | None = None, **extra: object) -> dict:
    delta = {} if content is None else {"content": content}
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def fed(*chunks: dict, times: tuple[float, ...] | None = None) -> ReplyStream:
    reply = ReplyStream(t_start=10.0)
    for n, c in enumerate(chunks):
        reply.feed(c, times[n] if times else 11.0 + n)
    return reply


@pytest.mark.parametrize(("server", "chunks", "source", "gen_tps", "counts"), [
    # llama-server's timings win over its usage and the client's clock
    ("llama-server", [chunk("a"), chunk("b", "stop", timings={"prompt_n": 5, "cache_n": 7, "predicted_n": 2,
                                                              "prompt_per_second": 100.0,
                                                              "predicted_per_second": 50.0}),
                      {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2}}],
     "timings", 50.0, (12, 5, 2)),
    # usage and the client's clock: 4 tokens, 3 after the first, over 1 s between first and last
    ("vllm", [chunk("a"), chunk("b"), chunk("c", "stop"),
              {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}],
     "usage", 3.0, (9, 9, 4)),
    # nothing: the pieces are counted (3 pieces over 2 s: 1 piece/s), marked approximate
    ("llama_cpp.server", [chunk("a"), chunk("b"), chunk("c", "length")], "pieces", 1.0, (0, 0, 3)),
])
def test_the_speeds_come_from_the_best_source_the_server_gave(server, chunks, source, gen_tps, counts):
    times = (11.0, 11.5, 12.0, 12.0) if source == "usage" else (11.0, 12.0, 13.0, 13.0)
    reply = fed(*chunks, times=times)
    figures = reply.figures()
    assert figures.source == source and figures.gen_tps == pytest.approx(gen_tps)
    assert (figures.prompt_tokens, figures.prompt_eval_tokens, figures.completion_tokens) == counts
    stats = reply.stats(14.0, cancelled=False, n_ctx=0, estimated_prompt_tokens=20)
    assert stats.approximate == (source == "pieces")
    assert stats.prompt_tokens == (counts[0] or 20)  # the estimate where the server said nothing
    assert stats.ttft_s == pytest.approx(1.0) and stats.total_s == pytest.approx(4.0)


@pytest.mark.parametrize(("finish", "expected"), [("stop", "stop"), ("length", "length"),
                                                  ("tool_calls", "stop"), ("content_filter", "stop")])
def test_finish_reasons(finish, expected):
    stats = fed(chunk("x", finish)).stats(12.0, cancelled=False, n_ctx=100, estimated_prompt_tokens=1)
    assert stats.finish_reason == expected


def test_a_reply_the_server_never_finished_is_a_closed_stream_unless_stopped():
    reply = fed(chunk("half"))
    with pytest.raises(EndpointClosedError, match="without finishing it"):
        reply.stats(12.0, cancelled=False, n_ctx=0, estimated_prompt_tokens=1)
    stopped = reply.stats(12.0, cancelled=True, n_ctx=0, estimated_prompt_tokens=1)
    assert stopped.finish_reason == "cancelled" and stopped.text == "half"


def test_reasoning_becomes_a_think_block_and_an_error_chunk_raises():
    reply = fed({"choices": [{"delta": {"reasoning_content": "hmm"}}]},
                {"choices": [{"delta": {"reasoning": " ok"}}]}, chunk("Yes", "stop"))
    assert reply.text == "<think>\nhmm ok\n</think>\n\nYes"
    assert reply.thinking_pieces == 2
    with pytest.raises(EndpointClosedError, match="boom"):
        fed({"error": {"message": "boom", "code": 500}})


def test_odd_chunks_are_ignored():
    reply = fed({"choices": []}, {"object": "ping"}, {"choices": [{"delta": None}]}, chunk("a", "stop"))
    assert reply.text == "a" and reply.pieces == 1


@pytest.mark.parametrize(("body", "said"), [
    (b'{"error": {"message": "no such model", "code": 404}}', "no such model"),
    (b'{"error": "model not loaded"}', "model not loaded"),
    (b'{"detail": "Invalid API key"}', "Invalid API key"),
    (b'{"object": "error", "message": "The model `x` does not exist."}', "The model `x` does not exist."),
    (b'{"detail": [{"loc": ["body"], "msg": "field required"}]}', "field required"),
    (b"<html>\n<body>Bad Gateway</body></html>", "<html> <body>Bad Gateway</body></html>"),
])
def test_error_bodies_in_one_line(body, said):
    assert error_message(body) == said


def test_context_overflow_words():
    assert is_context_overflow("the request exceeds the available context size, try increasing it")
    assert is_context_overflow("This model's maximum context length is 4096 tokens.")
    assert not is_context_overflow("Invalid API key")


# ----------------------------------------------------------------------------- config
def write_config(isolated_home, text: str):
    from localchat import paths

    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_endpoints_are_read_from_the_config(isolated_home):
    write_config(isolated_home, """
[[endpoints]]
name = "home"
base_url = "http://192.168.1.20:8080/"
api_key_env = "HOME_LLM_KEY"

[[endpoints]]
name = "ollama"
base_url = "http://localhost:11434/v1"
""")
    config = load_config()
    assert config.notice == ""
    assert config.endpoints == (Endpoint("home", "http://192.168.1.20:8080", "HOME_LLM_KEY"),
                                Endpoint("ollama", "http://localhost:11434/v1"))


def test_a_wrong_endpoint_is_skipped_and_a_key_in_the_file_is_never_quoted(isolated_home):
    write_config(isolated_home, """
[[endpoints]]
name = "leaky"
base_url = "http://10.0.0.2:8080"
api_key = "sk-secret-in-file-123"

[[endpoints]]
name = "ftp"
base_url = "ftp://example"

[[endpoints]]
name = "bad-env"
base_url = "http://a:1"
api_key_env = "sk-not-a-name"

[[endpoints]]
name = "leaky"
base_url = "http://10.0.0.3:8080"
""")
    config = load_config()
    assert [e.name for e in config.endpoints] == ["leaky"]  # the key is not read; the entry is fine
    assert "sk-secret-in-file-123" not in config.notice and "api_key is not read" in config.notice
    assert 'base_url must be an http:// or https:// URL (got "ftp://example")' in config.notice
    assert "api_key_env must be the NAME of an environment variable" in config.notice
    assert "another endpoint has this name" in config.notice and "\n" not in config.notice


def test_find_endpoint_by_name_or_url():
    home = Endpoint("home", "http://192.168.1.20:8080", "K")
    config = Config(endpoints=(home,))
    assert find_endpoint(config, "home") is home
    assert find_endpoint(config, "http://192.168.1.20:8080/") is home  # its URL: its key too
    assert find_endpoint(config, "http://10.1.1.1:8000/v1") == Endpoint("10.1.1.1:8000", "http://10.1.1.1:8000/v1")
    with pytest.raises(ConfigError, match=r"no endpoint named \"work\" \(home\)"):
        find_endpoint(config, "work")


def test_the_remembered_server_model_is_saved_beside_the_local_one(isolated_home):
    import dataclasses

    from localchat.config import ModelChoice, save_config

    write_config(isolated_home, '[model]\npath = "/m/a.gguf"\n\n[[endpoints]]\nname = "home"\n'
                                'base_url = "http://h:8080"\n')
    config = load_config()
    save_config(dataclasses.replace(config, model=dataclasses.replace(
        config.model, endpoint="home", endpoint_model="qwen")))
    again = load_config()
    assert again.model == ModelChoice(path="/m/a.gguf", endpoint="home", endpoint_model="qwen")
    assert again.endpoints == config.endpoints  # [[endpoints]] kept as the user wrote it
