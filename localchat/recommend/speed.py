"""How fast a model generates: the time per token, from the bytes it reads and the work that is not
reading.

A token reads every active weight once, so large models are bound by memory bandwidth: the bytes
on each device over that device's bandwidth (× the share llama.cpp's decode achieves). Small models
are not: a 135M-parameter model reads under 100 MB a token, and what is left is fixed work per
token (llama-cpp-python's per-token loop, building and scheduling the graph), per layer (each of its
~20 operations ends in a thread barrier on the CPU, a kernel launch on a GPU) and per vocabulary
entry (the logits copied out and sampled). Those constants were fitted to ``localchat bench`` on
the two test models (benchmarks/estimate_vs_bench.py prints the comparison) and matter only for
small models: for a 4B model they are a few percent of the time.

Where the model has not run here, the figure is a range (``tps_range``): the estimate ±
``ESTIMATE_SPREAD``.
"""

from __future__ import annotations

import math

from localchat.recommend.footprint import ModelShape, bytes_per_token
from localchat.recommend.pool import network_seconds
from localchat.recommend.profiles import (
    DECODE_EFFICIENCY,
    MEASURED,
    MEASURED_DECODE_EFFICIENCY,
    Budget,
)

# Per-token costs that are not weight reading (seconds). Fitted to `localchat bench` (tg128) on
# SmolLM2-135M Q4_1 (30 layers, 49k vocabulary) and gemma-3-270m Q4_K_M (18 layers, 262k) on
# 2-core Xeons (benchmarks/estimate_vs_bench.py: at a measured 10.0 / 8.4 GB/s, 72 / 30 estimated
# against 79 / 36 measured; at 35 GB/s, 141 / 88 against 110–139 / 72–82); GPU_LAYER_S from
# llama.cpp's CUDA figures for 1B models (llama-bench tg128 on an RTX 4090 runs ~40 µs per layer
# above the bandwidth bound).
TOKEN_OVERHEAD_S = 1.0e-3
CPU_LAYER_S = 0.10e-3
GPU_LAYER_S = 0.04e-3
VOCAB_ENTRY_S = 6e-9  # 262k entries ≈ 1.6 ms: copying the logits out and sampling them
# The estimate's error, both ways: it came within this of `bench` on the test models here, and
# a machine's measured bandwidth varies by about as much from run to run
ESTIMATE_SPREAD = 0.25


def seconds_per_token(shape: ModelShape, n_gpu_layers: int, budget: Budget) -> float:
    """Time to generate one token with ``n_gpu_layers`` (llama.cpp's counting) on the GPU."""
    ngl = n_gpu_layers if budget.has_gpu else 0
    gpu_bytes, cpu_bytes = bytes_per_token(shape, ngl)
    gpu_layers = min(max(ngl, 0), shape.n_layers)
    seconds = TOKEN_OVERHEAD_S + shape.n_vocab * VOCAB_ENTRY_S
    seconds += (shape.n_layers - gpu_layers) * CPU_LAYER_S
    ram_efficiency = (MEASURED_DECODE_EFFICIENCY if budget.ram_bandwidth_source == MEASURED
                      else DECODE_EFFICIENCY)
    seconds += cpu_bytes / (budget.ram_bandwidth_gbps * 1e9 * ram_efficiency)
    if gpu_bytes or gpu_layers:
        # a pool's workers run their layers on CPUs, as far as is known here (recommend/pool.py)
        seconds += gpu_layers * (CPU_LAYER_S if budget.gpu_backend == "rpc" else GPU_LAYER_S)
        # a pool's workers are assumed to read their memory as this machine reads its own
        gpu_efficiency = ram_efficiency if budget.gpu_backend == "rpc" else DECODE_EFFICIENCY
        seconds += gpu_bytes / (budget.gpu_bandwidth_gbps * 1e9 * gpu_efficiency)
        seconds += network_seconds(shape, ngl, budget)
    return seconds


def estimate_tps(shape: ModelShape, n_gpu_layers: int, budget: Budget) -> float:
    """Decode tokens/s for ``shape`` placed so on ``budget``'s machine."""
    seconds = seconds_per_token(shape, n_gpu_layers, budget)
    return 1.0 / seconds if seconds > 0 else 0.0


def tps_range(est_tps: float) -> tuple[float, float]:
    """The estimate as the range it is good for."""
    return est_tps * (1 - ESTIMATE_SPREAD), est_tps * (1 + ESTIMATE_SPREAD)


def _two_figures(x: float, up: bool) -> float:
    """``x`` rounded (down or up) to two significant figures: 87.3 → 87, 143 → 150 (up)."""
    if x <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(x)) - 1)
    return (math.ceil(x / step) if up else math.floor(x / step)) * step


def tps_text(est_tps: float, measured: bool) -> str:
    """A table cell: "112" measured here, "60–90" estimated (a range, two figures each end)."""
    if measured:
        return f"{est_tps:.0f}" if est_tps >= 10 else f"{est_tps:.1f}"
    lo, hi = tps_range(est_tps)
    lo, hi = _two_figures(lo, up=False), _two_figures(hi, up=True)

    def fmt(x: float) -> str:
        return f"{x:.0f}" if x >= 10 else f"{x:.1f}"

    return f"{fmt(lo)}–{fmt(hi)}"
