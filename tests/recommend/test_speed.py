"""The speed estimate: a bandwidth this machine measured is used as achieved; a spec or assumed
one at llama.cpp's share of it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from localchat.recommend.footprint import ModelShape, bytes_per_token
from localchat.recommend.profiles import DECODE_EFFICIENCY, MEASURED_DECODE_EFFICIENCY, Budget
from localchat.recommend.speed import seconds_per_token

GIB = 1 << 30
# a 7B-class model: 32 layers of 120 MiB, so reading the weights dominates the time per token
SHAPE = ModelShape(architecture="llama", n_layers=32, n_embd=4096, n_vocab=32000, n_ctx_train=8192,
                   layer_bytes=(120 << 20,) * 32, layer_repack_bytes=(0,) * 32,
                   input_bytes=70 << 20, output_bytes=70 << 20, head_counts=(32,) * 32,
                   kv_head_counts=(8,) * 32, key_length=128, value_length=128,
                   swa_layers=(False,) * 32)


def weight_seconds(budget: Budget) -> float:
    """The part of the time per token that is reading weights."""
    fixed = seconds_per_token(replace(SHAPE, layer_bytes=(0,) * 32, output_bytes=0), 0, budget)
    return seconds_per_token(SHAPE, 0, budget) - fixed


def test_a_measured_bandwidth_is_used_as_achieved_and_an_assumed_one_at_llama_cpps_share():
    _, cpu_bytes = bytes_per_token(SHAPE, 0)
    measured = Budget(ram_bytes=16 * GIB, ram_bandwidth_gbps=20.0, ram_bandwidth_source="measured")
    assumed = replace(measured, ram_bandwidth_source="assumed: dual-channel DDR4-3200")
    assert MEASURED_DECODE_EFFICIENCY > DECODE_EFFICIENCY
    assert weight_seconds(measured) == pytest.approx(
        cpu_bytes / (20e9 * MEASURED_DECODE_EFFICIENCY), rel=1e-6)
    assert weight_seconds(assumed) == pytest.approx(cpu_bytes / (20e9 * DECODE_EFFICIENCY), rel=1e-6)
