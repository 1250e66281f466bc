"""The engine streams real llama.cpp replies, reuses the KV cache, and never truncates silently."""

from __future__ import annotations

import threading

import pytest

from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, TextChunk, load_engine
from localchat.engine.text import Utf8Stream

SYSTEM = Message("system", "You are a helpful assistant.")
GREEDY = Sampling(temperature=0.0, max_tokens=32, seed=7)


def run_reply(engine, messages, sampling=GREEDY, cancel=None):
    chunks, stats = [], None
    for event in engine.chat(messages, sampling, cancel):
        if isinstance(event, TextChunk):
            chunks.append(event.text)
        else:
            assert stats is None, "exactly one ReplyStats, last"
            stats = event
    assert isinstance(stats, ReplyStats)
    return chunks, stats


def test_reply_streams_text_then_stats(smol):
    chunks, stats = run_reply(smol, [SYSTEM, Message("user", "Name three colors.")])
    assert len(chunks) > 3, "the reply arrives in pieces, not at once"
    assert "".join(chunks) == stats.text
    assert stats.completion_tokens > 0 and stats.gen_tps > 0 and stats.prompt_tps > 0
    assert 0 < stats.ttft_s < stats.total_s
    assert stats.prompt_eval_tokens == stats.prompt_tokens  # nothing cached yet for this prompt
    assert stats.finish_reason in ("stop", "length")


def test_explicit_settings_not_library_defaults(smollm2_path):
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=3072, n_threads=1))
    try:
        info = engine.info
        assert info.n_ctx == 3072  # not llama-cpp-python's silent 512
        assert info.n_threads == 1 and info.n_threads_batch >= 1
        assert info.quant == "Q4_1" and info.n_layers == 30 and info.n_ctx_train == 8192
        # what llama.cpp allocated, read from its load log (the calibration input)
        assert info.allocated_weights_bytes > 80_000_000
        assert info.allocated_kv_bytes > 0 and info.allocated_compute_bytes > 0
    finally:
        engine.close()


def test_turn_two_evaluates_only_the_new_tokens(smollm2_path):
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048))
    try:
        turn1 = [SYSTEM, Message("user", "Name three colors.")]
        _, s1 = run_reply(engine, turn1)
        cached = list(engine._llm.input_ids[: engine._llm.n_tokens])
        turn2 = [*turn1, Message("assistant", s1.text), Message("user", "And two animals?")]
        _, s2 = run_reply(engine, turn2)
        new_tokens = engine.tokenize_messages(turn2)
        common = 0
        for a, b in zip(cached, new_tokens, strict=False):
            if a != b:
                break
            common += 1
        # llama.cpp's own decode counter says only the tokens after the cached prefix ran
        assert s2.prompt_eval_tokens == s2.prompt_tokens - common
        assert common >= s1.prompt_tokens  # the whole first turn was reused
        assert s2.prompt_eval_tokens < s2.prompt_tokens / 2
    finally:
        engine.close()


def test_long_conversation_drops_oldest_turns_keeps_system(smollm2_path):
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=512))
    try:
        filler = "This is a long story about the sea and the ships that sail on it. " * 6
        history = [SYSTEM]
        for i in range(8):
            history += [Message("user", f"Part {i}: {filler}"), Message("assistant", f"Noted {i}.")]
        history.append(Message("user", "Summarise in one word."))
        assert engine.count_tokens(history) > 512, "the test conversation must overflow"
        _, stats = run_reply(engine, history, Sampling(temperature=0.0, max_tokens=16))
        assert stats.dropped_messages > 0 and stats.dropped_messages % 2 == 0
        assert stats.prompt_tokens <= 512 - 16
        kept = [SYSTEM, *history[1 + stats.dropped_messages:]]
        assert engine.count_tokens(kept) == stats.prompt_tokens  # system prompt is still there
    finally:
        engine.close()


def test_message_too_long_for_context_is_a_clear_error(smollm2_path):
    from localchat.errors import ContextOverflowError

    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=256))
    try:
        with pytest.raises(ContextOverflowError, match="larger context"):
            run_reply(engine, [SYSTEM, Message("user", "word " * 400)])
    finally:
        engine.close()


def test_cancel_keeps_partial_reply_and_engine_stays_usable(smol):
    cancel = threading.Event()
    chunks, stats = [], None
    for event in smol.chat([SYSTEM, Message("user", "Write a long story about a dragon.")],
                           Sampling(temperature=0.0, max_tokens=400), cancel):
        if isinstance(event, TextChunk):
            chunks.append(event.text)
            if len(chunks) == 5:
                cancel.set()
        else:
            stats = event
    assert stats.finish_reason == "cancelled"
    assert stats.completion_tokens <= 8 and stats.text == "".join(chunks) != ""
    _, again = run_reply(smol, [SYSTEM, Message("user", "Say hi.")])
    assert again.completion_tokens > 0


def test_multibyte_characters_split_across_tokens_come_out_whole(smol):
    text = "Olá 🙂 世界 naïve ñandú 🚀"
    tokens = smol._llm.tokenize(text.encode(), add_bos=False, special=False)
    pieces = [smol.token_piece(t) for t in tokens]
    split = [p for p in pieces if not _is_utf8(p)]
    assert split, "the real vocabulary splits some of these characters across tokens"
    stream = Utf8Stream()
    out = [stream.feed(p) for p in pieces] + [stream.flush()]
    assert "\ufffd" not in "".join(out)
    assert "".join(out).strip() == text


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_gemma3_sliding_window_model_chats(gemma_path):
    engine = load_engine(str(gemma_path), LoadSettings(n_ctx=1024))
    try:
        assert engine.info.architecture == "gemma3" and engine.info.quant == "Q4_K_M"
        _, stats = run_reply(engine, [SYSTEM, Message("user", "The capital of France is")],
                             Sampling(temperature=0.0, max_tokens=8))
        assert stats.completion_tokens > 0
    finally:
        engine.close()


def test_quantized_kv_cache_turns_on_flash_attention(smollm2_path):
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=1024, kv_type="q8_0"))
    try:
        assert engine.info.flash_attn and engine.info.kv_type == "q8_0"
        _, stats = run_reply(engine, [SYSTEM, Message("user", "Say hi.")])
        assert stats.completion_tokens > 0
    finally:
        engine.close()


def test_sliding_window_cache_is_window_sized_and_rollback_stays_correct(gemma_path):
    """gemma-3 keeps a window-sized cache on its sliding layers; when a new prompt shares only
    a prefix older than the window, the engine re-evaluates rather than attend to evicted
    tokens, and the reply matches a fresh engine's."""
    engine = load_engine(str(gemma_path), LoadSettings(n_ctx=4096))
    fresh = None
    try:
        # 3 global layers x 4096 x 1 KiB + 15 sliding layers x 1024 cells x 1 KiB = 27 MiB
        assert engine.info.allocated_kv_bytes == 27 << 20
        story = "The old lighthouse keeper climbed the stairs every night. " * 150
        greedy = Sampling(temperature=0.0, max_tokens=12)
        run_reply(engine, [Message("user", story + "\nWhat did he climb?")], greedy)
        short = [Message("user", story[:300] + "\nWho climbed?")]
        _, again = run_reply(engine, short, greedy)
        assert again.prompt_eval_tokens == again.prompt_tokens  # started over
        fresh = load_engine(str(gemma_path), LoadSettings(n_ctx=4096))
        _, reference = run_reply(fresh, short, greedy)
        assert again.text == reference.text
    finally:
        engine.close()
        if fresh is not None:
            fresh.close()


def test_a_cut_off_reply_continues_in_place_with_the_cache_reused(smollm2_path):
    """A reply stopped at max tokens, then Continue: the conversation ends with the partial
    reply, the engine extends it (not a new turn) and evaluates only what is new."""
    from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, TextChunk, load_engine

    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048))
    try:
        question = [Message("user", "Write a long story about a lighthouse keeper.")]
        sampling = Sampling(max_tokens=24, seed=1)
        first = [e for e in engine.chat(question, sampling) if isinstance(e, ReplyStats)][0]
        assert first.finish_reason == "length"
        events = list(engine.chat([*question, Message("assistant", first.text)], sampling))
        more = [e for e in events if isinstance(e, ReplyStats)][0]
        assert more.completion_tokens > 0 and "".join(e.text for e in events if isinstance(e, TextChunk))
        assert more.prompt_tokens > first.prompt_tokens + 20  # the partial reply is in the prompt...
        assert more.prompt_eval_tokens <= 4  # ...from the cache: nothing was evaluated again
        assert not more.text.startswith(first.text[:10])  # the continuation, not a repeat
    finally:
        engine.close()
