"""Keeping the KV cache across turns when a reply does not tokenize back to what was generated.

llama-cpp-python reuses the cache up to the longest common *token* prefix. But the model emits
tokens one at a time, and the reply text, put back into the next prompt and tokenized again,
often comes out as other tokens ("lighthouse" generated as "light" + "house" is one token when
read back; a word split across a byte-fallback boundary). Then the match ends part way through
the previous reply and everything after it is evaluated again (issue 13: 1304 of 1572 tokens
after a 1500-token reply). The next prompt begins with the same *text*, though, so the tokens
already in the cache can stand for it: the model sees the very tokens it generated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def reuse_cached_tokens(
    cached: Sequence[int],
    tokens: list[int],
    prompt: bytes,
    piece: Callable[[int], bytes],
    tokenize: Callable[[bytes], list[int]],
) -> list[int]:
    """The prompt's tokens, with the cached tokens whose text begins ``prompt`` kept as they
    are and only the rest tokenized; ``tokens`` (the prompt tokenized whole) when that keeps
    no more of the cache, or when the result would not spell ``prompt`` exactly."""
    same = common_prefix(cached, tokens)
    if same == len(cached):
        return tokens  # the whole cache is reused already
    pieces: list[bytes] = []
    pos = 0
    for token in cached:
        text = piece(token)
        if not prompt.startswith(text, pos):
            break
        pieces.append(text)
        pos += len(text)
    # never cut the prompt inside a character: the rest must be valid text to tokenize
    while pieces and pos < len(prompt) and 0x80 <= prompt[pos] < 0xC0:
        pos -= len(pieces.pop())
    kept = len(pieces)
    if kept <= same:
        return tokens
    rest = tokenize(prompt[pos:])
    if b"".join(piece(t) for t in rest) != prompt[pos:]:
        return tokens  # the tokenizer adds or drops something at the seam (a space prefix)
    return list(cached[:kept]) + rest
