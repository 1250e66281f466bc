"""Replies cut short (max tokens, Esc) on the real SmolLM2 model: the next turn still reuses the
KV cache, and the text never ends in half a character."""

from __future__ import annotations

from pathlib import Path

import pytest

from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, load_engine
from localchat.engine.cache import common_prefix, reuse_cached_tokens
from localchat.engine.text import Utf8Stream
from tests.engine.test_chat import SYSTEM, _is_utf8, run_reply

ONE_THREAD = LoadSettings(n_ctx=4096, n_threads=1, n_threads_batch=1)  # sampling as recorded


@pytest.fixture(scope="module")
def smol_4k(smollm2_path: Path):
    engine = load_engine(str(smollm2_path), ONE_THREAD)
    yield engine
    engine.close()


def test_after_a_reply_cut_by_max_tokens_the_next_turn_evaluates_only_new_tokens(smollm2_path: Path):
    """Issue 13: a reply stopped by max tokens, then a follow-up re-evaluated most of the reply,
    because its text tokenizes back to other tokens than the model generated: here the model
    wrote an emoji's bytes as three tokens where the tokenizer reads two (seed found by search
    on this model; a fresh engine with one thread samples the same)."""
    engine = load_engine(str(smollm2_path), ONE_THREAD)
    try:
        turn1 = [SYSTEM, Message("user", "Write a story about a storm, with emoji and some Chinese words.")]
        _, s1 = run_reply(engine, turn1, Sampling(temperature=1.5, max_tokens=200, seed=1))
        assert s1.finish_reason == "length" and s1.completion_tokens == 200
        turn2 = [*turn1, Message("assistant", s1.text), Message("user", "Give it a title.")]
        generated = list(engine._llm.input_ids[: engine._llm.n_tokens])
        assert common_prefix(generated, engine.tokenize_messages(turn2)) < len(generated) - 50, (
            "the test needs a reply that does not tokenize back to the generated tokens")
        _, s2 = run_reply(engine, turn2, Sampling(temperature=0.0, max_tokens=8))
        # what is new: the end of the reply's turn, the question and the generation prompt (and
        # the last generated token, which llama.cpp never evaluated)
        assert s2.prompt_eval_tokens <= 20, f"{s2.prompt_eval_tokens} of {s2.prompt_tokens} evaluated again"
        assert s2.prompt_tokens >= s1.prompt_tokens + s1.completion_tokens
    finally:
        engine.close()


def test_the_reused_tokens_spell_exactly_the_new_prompt(smol_4k):
    turn1 = [SYSTEM, Message("user", "Tell me about pelicans in 100 words.")]
    _, s1 = run_reply(smol_4k, turn1, Sampling(temperature=0.8, max_tokens=120, seed=11))
    turn2 = [*turn1, Message("assistant", s1.text), Message("user", "And herons?")]
    cached = list(smol_4k._llm.input_ids[: smol_4k._llm.n_tokens])
    prompt = smol_4k.render_prompt(turn2).encode("utf-8")
    tokens = reuse_cached_tokens(cached, smol_4k.tokenize(prompt), prompt,
                                 lambda t: smol_4k.token_piece(t, special=True), smol_4k.tokenize)
    assert common_prefix(cached, tokens) == len(cached)
    assert b"".join(smol_4k.token_piece(t, special=True) for t in tokens) == prompt


def test_reuse_falls_back_to_a_whole_tokenization_when_the_text_differs():
    pieces = {1: b"<s>", 2: b"Hello", 3: b" wor", 4: b"ld", 5: b" world", 6: b"!"}
    inverse = {v: k for k, v in pieces.items()}

    def tokenize(text: bytes) -> list[int]:  # greedy longest match over the toy vocabulary
        out, i = [], 0
        while i < len(text):
            match = max((p for p in inverse if text.startswith(p, i)), key=len)
            out.append(inverse[match])
            i += len(match)
        return out

    def reuse(cached: list[int], prompt: bytes) -> list[int]:
        return reuse_cached_tokens(cached, tokenize(prompt), prompt, pieces.__getitem__, tokenize)

    # "Hello world!" reads back as [<s>, Hello, " world", !]; the cache's " wor" + "ld" stay
    assert tokenize(b"<s>Hello world!") == [1, 2, 5, 6]
    assert reuse([1, 2, 3, 4], b"<s>Hello world!") == [1, 2, 3, 4, 6]
    # a prompt that parts from the cached text after "Hello" keeps only what it shares
    assert reuse([1, 2, 3, 4], b"<s>Hello!") == [1, 2, 6]


def test_a_reply_cut_inside_a_character_drops_the_half_not_shows_a_replacement(smollm2_path: Path):
    """Issue 13 item 14: a reply stopped by max tokens between the tokens of one character
    ends before that character, never in U+FFFD. The story above has an emoji written as three
    tokens; each run is a fresh engine, so every cut samples the same tokens."""
    messages = [SYSTEM, Message("user", "Write a story about a storm, with emoji and some Chinese words.")]

    def reply(max_tokens: int) -> tuple[ReplyStats, list[bytes]]:
        engine = load_engine(str(smollm2_path), ONE_THREAD)
        try:
            _, stats = run_reply(engine, messages, Sampling(temperature=1.5, max_tokens=max_tokens, seed=1))
            llm = engine._llm
            return stats, [engine.token_piece(t) for t in llm.input_ids[stats.prompt_tokens : llm.n_tokens]]
        finally:
            engine.close()

    whole, pieces = reply(60)
    inside = [n for n in range(1, len(pieces) + 1) if not _is_utf8(b"".join(pieces[:n]))]
    assert inside, "the reply needs a character split across tokens"
    for n in inside[:2]:
        cut, _ = reply(n)
        assert cut.finish_reason == "length"
        assert "\ufffd" not in cut.text and whole.text.startswith(cut.text)


def test_utf8_stream_drops_an_unfinished_character_at_the_end():
    stream = Utf8Stream()
    assert stream.feed("a世".encode()[:3]) == "a"
    assert stream.flush() == ""
    assert stream.feed("é".encode()) == "é"  # usable again after a flush
