"""loadsettings: the one place for the context's limits, KV types and how settings combine."""

from __future__ import annotations

import dataclasses

import pytest

from localchat.config import ModelChoice
from localchat.errors import LocalChatError
from localchat.loadsettings import (
    DEFAULT_CTX,
    KV_TYPES,
    MAX_CTX,
    MIN_CTX,
    LoadOverrides,
    LoadSettings,
    kv_type,
    parse_ctx,
    parse_gpu_layers,
)


@pytest.mark.parametrize(("text", "value"), [("8192", 8192), ("8k", 8192), (" 32K ", 32768),
                                             ("4_096", 4096), (str(MIN_CTX), MIN_CTX)])
def test_parse_ctx(text: str, value: int) -> None:
    assert parse_ctx(text) == value


@pytest.mark.parametrize(("text", "message"), [("abc", "'abc' is not a number"),
                                               ("0", "context length 0 is too small"),
                                               (str(MIN_CTX - 1), f"use {MIN_CTX} tokens or more"),
                                               ("", "is not a number"),
                                               (str(MAX_CTX + 1), "too large")])
def test_parse_ctx_rejects_bad_input_in_one_line(text: str, message: str) -> None:
    with pytest.raises(LocalChatError) as err:
        parse_ctx(text)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_parse_gpu_layers_and_kv_type() -> None:
    assert [parse_gpu_layers(t) for t in ("auto", "", "all", "-1", "12")] == [None, None, -1, -1, 12]
    for bad in ("many", "-3"):
        with pytest.raises(LocalChatError):
            parse_gpu_layers(bad)
    assert kv_type("Q8_0") == "q8_0"
    assert KV_TYPES == ("f16", "q8_0", "q4_0")
    with pytest.raises(LocalChatError, match="use f16, q8_0, q4_0"):
        kv_type("q5_1")


def test_overrides_replace_only_what_was_asked() -> None:
    saved = ModelChoice(path="/m.gguf", ctx=3072, n_gpu_layers=12, kv_type="q8_0", flash_attn=True)
    assert saved.load_settings() == LoadSettings(n_ctx=3072, n_gpu_layers=12, kv_type="q8_0",
                                                 flash_attn=True)
    asked = saved.load_settings(LoadOverrides(n_ctx=1024, n_threads=3))
    assert (asked.n_ctx, asked.n_gpu_layers, asked.kv_type, asked.n_threads) == (1024, 12, "q8_0", 3)
    # a default is not a request: zero GPU layers asked for is kept, nothing asked changes nothing
    assert saved.load_settings(LoadOverrides(n_gpu_layers=0)).n_gpu_layers == 0
    assert LoadOverrides().apply(LoadSettings()) == LoadSettings()
    assert LoadSettings().n_ctx == ModelChoice().ctx == DEFAULT_CTX
    fields = {f.name for f in dataclasses.fields(LoadSettings)}
    assert {f.name for f in dataclasses.fields(LoadOverrides)} <= fields
