"""The context policy on its own, with a word-count tokenizer (pure logic)."""

import pytest

from localchat.engine.fit import fit_messages, reply_reserve
from localchat.engine.types import Message
from localchat.errors import ContextOverflowError


def words(messages):
    return [0] * sum(len(m.content.split()) + 2 for m in messages)


def convo(turns: int) -> list[Message]:
    msgs = [Message("system", "be brief")]
    for i in range(turns):
        msgs += [Message("user", f"q{i} " * 10), Message("assistant", f"a{i} " * 10)]
    return [*msgs, Message("user", "last question")]


@pytest.mark.parametrize(("n_ctx", "max_tokens", "expected"), [
    (4096, 512, 512), (4096, None, 1024), (1000, 5000, 500), (100, 0, 25),
])
def test_reply_reserve(n_ctx, max_tokens, expected):
    assert reply_reserve(n_ctx, max_tokens) == expected


def test_fits_untouched():
    fitted = fit_messages(convo(2), words, n_ctx=1000, max_tokens=100)
    assert fitted.dropped_messages == 0 and len(fitted.messages) == 6


def test_drops_whole_oldest_exchanges_never_system():
    msgs = convo(5)  # 4 + 5*24 + 4 = 128 tokens
    fitted = fit_messages(msgs, words, n_ctx=100, max_tokens=20)
    assert fitted.messages[0].role == "system"
    assert fitted.messages[1].role == "user"
    assert fitted.messages[-1].content == "last question"
    assert fitted.dropped_messages % 2 == 0 and fitted.dropped_messages > 0
    assert len(fitted.tokens) <= 80
    assert fitted.messages[1:] == tuple(msgs[1 + fitted.dropped_messages:])


def test_single_message_over_budget_raises():
    with pytest.raises(ContextOverflowError):
        fit_messages([Message("system", "x"), Message("user", "w " * 500)], words, 100, 10)
