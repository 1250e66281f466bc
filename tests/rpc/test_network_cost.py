"""What crosses the network when a model is pooled over two real ``localchat worker`` processes,
counted by a relay in front of each (tests/rpc/linkproxy.py), against what the recommender's
estimate counts (recommend/pool.py): one round trip per worker per generated token, the
activations and commands to each worker, and the logits back from the last. The estimate's
network cost at any link speed rests on these counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from localchat.engine import LoadSettings, Message, ReplyStats, Sampling
from localchat.engine.process import EngineProcess
from localchat.gguffile import read_header
from localchat.recommend.pool import FLOAT_BYTES, ROUND_TRIPS_PER_WORKER, RPC_COMMAND_BYTES
from localchat.recommend.shape import shape_from_header
from tests.rpc.linkproxy import LinkProxy

pytestmark = pytest.mark.slow

STORY = [Message("user", "Write a very long story about a dragon and a knight, with many chapters.")]


def test_each_token_waits_one_round_trip_per_worker_and_sends_what_the_estimate_counts(
        workers, smollm2_path: Path):
    first, second = workers
    shape = shape_from_header(read_header(smollm2_path))
    with LinkProxy(first.port) as one, LinkProxy(second.port) as two:
        engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=1024, rpc_workers=(one.endpoint,
                                                                                    two.endpoint)))

        def reply(max_tokens: int) -> tuple[int, list[tuple[int, int, int]]]:
            before = [link.counts() for link in (one, two)]
            stats = list(engine.chat(STORY, Sampling(temperature=0.0, max_tokens=max_tokens)))[-1]
            assert isinstance(stats, ReplyStats)
            return stats.completion_tokens, [one.since(before[0]), two.since(before[1])]

        try:
            reply(4)  # the prompt's cost, here and not in the replies compared
            short_tokens, short = reply(8)
            long_tokens, long = reply(40)
        finally:
            engine.close()
    tokens = long_tokens - short_tokens
    assert tokens >= 24, (short_tokens, long_tokens)  # greedy, and the story is long
    per_token = [[(b - a) / tokens for a, b in zip(in_short, in_long, strict=True)]
                 for in_short, in_long in zip(short, long, strict=True)]
    (answers_1, to_1, from_1), (answers_2, to_2, from_2) = per_token
    assert answers_1 == answers_2 == ROUND_TRIPS_PER_WORKER, per_token
    activations = shape.n_embd * FLOAT_BYTES
    for sent in (to_1, to_2):  # the activations in, and the graph's inputs and commands
        assert activations < sent <= activations + RPC_COMMAND_BYTES * 1.1, per_token
        assert sent >= activations + RPC_COMMAND_BYTES * 0.9, per_token
    assert activations <= from_1 <= activations * 1.05  # the first's activations out
    logits = shape.n_vocab * FLOAT_BYTES  # from the last, which holds the output layer
    assert logits <= from_2 <= logits * 1.01
