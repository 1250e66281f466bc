"""llama.cpp's sampler chain chooses the tokens (engine/sampler.py, engine/tokenloop.py): the
settings reach it, a seed makes a reply repeatable, and the engine process sends a fast reply's
text in fewer messages than tokens without holding back the first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, TextChunk, load_engine
from localchat.engine.host import PIECE_INTERVAL_S, PieceBatcher

STORY = [Message("system", "You are a helpful assistant."),
         Message("user", "Write a long story about a dragon who collects teapots.")]


def reply_text(engine, sampling: Sampling, messages=STORY) -> str:
    stats = list(engine.chat(messages, sampling))[-1]
    assert isinstance(stats, ReplyStats)
    return stats.text


def test_the_same_seed_gives_the_same_reply_and_other_seeds_another(smol):
    sampling = Sampling(temperature=0.9, max_tokens=40, seed=11)
    first = reply_text(smol, sampling)
    reply_text(smol, Sampling(temperature=0.9, max_tokens=40))  # a random one in between
    assert reply_text(smol, sampling) == first
    others = {reply_text(smol, Sampling(temperature=0.9, max_tokens=40, seed=s)) for s in (12, 13, 14)}
    assert others - {first}, "three other seeds all gave the very same 40 tokens"


def test_no_seed_draws_a_new_one_each_reply(smol):
    """A seed given for one reply does not stick to the next ones (llama-cpp-python's
    ``set_seed`` did)."""
    reply_text(smol, Sampling(temperature=0.9, max_tokens=8, seed=5))
    replies = {reply_text(smol, Sampling(temperature=0.9, max_tokens=40)) for _ in range(3)}
    assert len(replies) > 1


def test_greedy_replies_match_llama_cpp_pythons_own_loop(smollm2_path: Path):
    """The low-level loop picks the same tokens as ``Llama.generate`` (greedy, same prompt,
    both from an empty cache)."""
    import llama_cpp

    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=1024, n_threads=1))
    reference = llama_cpp.Llama(model_path=str(smollm2_path), n_ctx=1024, n_threads=1, verbose=False)
    try:
        stats = list(engine.chat(STORY, Sampling(temperature=0.0, max_tokens=60)))[-1]
        tokens: list[int] = []
        for token in reference.generate(engine.tokenize_messages(STORY), temp=0.0):
            if llama_cpp.llama_vocab_is_eog(reference._model.vocab, token) or len(tokens) == 60:
                break
            tokens.append(token)
        expected = b"".join(engine.token_piece(t) for t in tokens).decode("utf-8", "replace")
    finally:
        reference.close()
        engine.close()
    assert stats.completion_tokens == len(tokens)
    assert stats.text == expected


@pytest.mark.parametrize("setting", [{"top_k": 1}, {"top_p": 0.0}, {"min_p": 1.0}])
def test_each_truncation_setting_reaches_llama_cpp(smol, setting):
    """Each of top-k 1, top-p 0 and min-p 1 leaves only the likeliest token: any seed at a high
    temperature then gives the greedy reply."""
    greedy = reply_text(smol, Sampling(temperature=0.0, max_tokens=30))
    for seed in (1, 2):
        truncated = Sampling(temperature=1.5, max_tokens=30, seed=seed, top_k=40, top_p=0.95,
                             min_p=0.0)
        assert reply_text(smol, dataclasses.replace(truncated, **setting)) == greedy


def test_repeat_penalty_reaches_llama_cpp(smol):
    chant = [Message("user", "Repeat after me forever: la la la la la la la la la la")]
    plain = reply_text(smol, Sampling(temperature=0.0, max_tokens=30), chant)
    penalized = reply_text(smol, Sampling(temperature=0.0, max_tokens=30, repeat_penalty=1.8), chant)
    assert penalized != plain
    assert penalized.count("la") < plain.count("la")


def test_text_chunks_count_every_generated_token(smol):
    """A character split across tokens comes out whole in one chunk that counts them all."""
    events = list(smol.chat([Message("user", "Write five emoji and the word 世界 ten times.")],
                            Sampling(temperature=0.0, max_tokens=60)))
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    chunks = [e for e in events if isinstance(e, TextChunk)]
    assert any(c.tokens > 1 for c in chunks), "the vocabulary splits 世 or an emoji into bytes"
    # all of them, but for the start of a character a cut-off reply ended in (at most 3 bytes)
    held = stats.completion_tokens - sum(c.tokens for c in chunks)
    assert 0 <= held <= 3 and (held == 0 or stats.finish_reason == "length")
    assert "\ufffd" not in stats.text


# ----------------------------------------------------------------- batching in the host
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pieces_that_come_fast_travel_together_and_the_first_goes_at_once():
    clock = FakeClock()
    batcher = PieceBatcher(interval_s=0.02, clock=clock)
    assert batcher.add(TextChunk("<think>\n", 0)) == TextChunk("<think>\n", 0)  # never held
    clock.now += 0.006
    assert batcher.add(TextChunk(" upon")) is None
    clock.now += 0.006
    assert batcher.add(TextChunk(" 🙂", 2)) is None
    clock.now += 0.010  # 22 ms after the last send
    assert batcher.add(TextChunk(" time")) == TextChunk(" upon 🙂 time", 4)
    clock.now += 0.100  # a slow token goes alone, at once
    assert batcher.add(TextChunk(",")) == TextChunk(",", 1)
    clock.now += 0.001
    assert batcher.add(TextChunk(" a")) is None
    assert batcher.flush() == TextChunk(" a", 1) and batcher.flush() is None


@pytest.mark.slow
def test_a_hosted_reply_arrives_in_fewer_messages_than_tokens(smollm2_path: Path):
    """...and each message says how many tokens it carries, so the chat can count them."""
    from localchat.engine.process import EngineProcess

    hosted = EngineProcess(smollm2_path, LoadSettings(n_ctx=1024))
    try:
        events = list(hosted.chat(STORY, Sampling(temperature=0.0, max_tokens=200)))
    finally:
        hosted.close()
    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    stats = events[-1]
    assert isinstance(stats, ReplyStats) and stats.completion_tokens == 200
    assert "".join(chunks) == stats.text
    assert sum(e.tokens for e in events if isinstance(e, TextChunk)) == 200
    # one message at most every PIECE_INTERVAL_S after the first (SmolLM2 makes 100+ tokens a
    # second on a quiet 2-core machine: 200 tokens in under 2 s come in under 100 messages)
    assert 3 < len(chunks) <= (stats.total_s - stats.ttft_s) / PIECE_INTERVAL_S + 2
