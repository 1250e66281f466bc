"""Reasoning models: thinking is recognised from the template and the stream, split from the
answer, switchable where the template allows, and never sent back to the model.

The templates below are written for these tests in the style of the families' own (Qwen3's
``enable_thinking`` switch and its ``</think>`` split of earlier replies; the R1 distills'
generation prompt that opens the block); they are rendered by llama-cpp-python's own Jinja
formatter on a real model load (SmolLM2 with the template written into its header).
"""

from __future__ import annotations

import pytest

from localchat.engine.thinking import (
    ThinkingSplitter,
    answer_only,
    prompt_opens_thinking,
    split_reply,
    template_thinking,
)
from tests import testmodels

QWEN3_STYLE = (
    "{%- for m in messages -%}"
    "{%- if m.role == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' + m.content.split('</think>')[-1].lstrip('\\n') + '<|im_end|>\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif -%}"
    "{%- endif -%}"
)
# keeps earlier replies whole (thinking and all): the engine must strip them itself
R1_STYLE = (
    "{%- for m in messages -%}"
    "{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n<think>\\n' }}{%- endif -%}"
)


def run(splitter: ThinkingSplitter, pieces: list[str]) -> list[tuple[str, str]]:
    out = [part for piece in pieces for part in splitter.feed(piece)] + splitter.flush()
    merged: list[tuple[str, str]] = []
    for kind, text in out:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


@pytest.mark.parametrize("pieces", [
    ["<think>\nplan the answer</think>\n\nParis."],
    ["<thi", "nk>\nplan ", "the answer</th", "ink>", "\n\nParis", "."],
    ["  <think>", "plan the answer", "<", "/think>Paris."],
])
def test_splitter_separates_thinking_from_the_answer(pieces):
    assert run(ThinkingSplitter(), pieces) == [("thinking", "plan the answer"), ("answer", "Paris.")]


def test_splitter_passes_a_plain_reply_through():
    assert run(ThinkingSplitter(), ["Hello", " <think> is a tag"]) == [("answer", "Hello <think> is a tag")]


def test_a_reply_cut_while_thinking_is_all_thinking():
    assert run(ThinkingSplitter(), ["<think>still going </thi"]) == [("thinking", "still going </thi")]
    cut = split_reply("<think>\nstill going")
    assert (cut.thinking, cut.answer, cut.thinking_done, cut.has_thinking) == ("still going", "", False, True)


def test_split_and_answer_only():
    reply = split_reply("<think>\nstep 1\nstep 2\n</think>\n\nThe answer is 4.")
    assert (reply.thinking, reply.answer) == ("step 1\nstep 2", "The answer is 4.")
    assert answer_only("No thinking here.") == "No thinking here."


def test_template_kinds():
    assert template_thinking(QWEN3_STYLE) == "switchable"
    assert template_thinking(R1_STYLE) == "always"
    assert template_thinking("{{ messages }}") == "none"
    assert prompt_opens_thinking("<|im_start|>assistant\n<think>\n")
    assert not prompt_opens_thinking("<|im_start|>assistant\n<think>\n\n</think>\n\n")


@pytest.fixture(scope="module")
def qwen3_style_engine():
    from localchat.engine import LoadSettings, load_engine

    engine = load_engine(str(testmodels.smollm2_with_template("qwen3style", QWEN3_STYLE)),
                         LoadSettings(n_ctx=1024))
    yield engine
    engine.close()


def test_qwen3_style_prompt_with_thinking_on_and_off(qwen3_style_engine):
    from localchat.engine import Message

    engine = qwen3_style_engine
    assert engine.info.thinking == "switchable"
    history = [Message("user", "What is 2+2?"),
               Message("assistant", "<think>\nTwo plus two.\n</think>\n\n4"),
               Message("user", "And 3+3?")]
    on = engine.render_prompt(history)
    off = engine.render_prompt(history, enable_thinking=False)
    assert on.endswith("<|im_start|>assistant\n")
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    # the earlier reply goes back as its answer only
    assert "Two plus two" not in on and "<|im_start|>assistant\n4<|im_end|>" in on


def test_thinking_off_reaches_the_model(qwen3_style_engine):
    from localchat.engine import Message, ReplyStats, Sampling

    messages = [Message("user", "Say hello.")]
    counts = {}
    for switch in (None, False):
        sampling = Sampling(max_tokens=2, seed=1, enable_thinking=switch)
        events = list(qwen3_style_engine.chat(messages, sampling))
        counts[switch] = [e for e in events if isinstance(e, ReplyStats)][0].prompt_tokens
    assert counts[False] > counts[None]  # the empty think block is in the prompt


def test_template_that_opens_the_block_gives_a_self_describing_reply():
    """R1-style: the prompt ends inside <think>, so the reply starts thinking; the engine says
    so in the text, counts those tokens as thinking, and never sends them back."""
    from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, TextChunk, load_engine

    engine = load_engine(str(testmodels.smollm2_with_template("r1style", R1_STYLE)), LoadSettings(n_ctx=1024))
    try:
        assert engine.info.thinking == "always"
        events = list(engine.chat([Message("user", "Hi")], Sampling(max_tokens=12, seed=1)))
        chunks = [e.text for e in events if isinstance(e, TextChunk)]
        stats = [e for e in events if isinstance(e, ReplyStats)][0]
        assert chunks[0] == "<think>\n" and stats.text.startswith("<think>\n")
        # SmolLM2 never closes the block: every token was thinking
        assert stats.thinking_tokens == stats.completion_tokens == 12
        assert split_reply(stats.text).thinking_done is False
        prompt = engine.render_prompt([Message("user", "Hi"), Message("assistant", stats.text),
                                       Message("user", "Again")])
        assert prompt.count("<think>") == 1  # only the new generation prompt's
    finally:
        engine.close()
