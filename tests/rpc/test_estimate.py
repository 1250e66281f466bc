"""The recommender on a pool (recommend/pool.py, network.py, profiles.pooled_budget): the
workers' free memory joins this machine's, the network's cost is in the tokens/s estimate with
the link it assumed said, and each machine's share adds up."""

from __future__ import annotations

from dataclasses import replace

from localchat.hardware.profile import RpcWorkerInfo
from localchat.recommend import budget_for, hypothetical_profile, recommend
from localchat.recommend.calibration import Calibration
from localchat.recommend.catalog import load_catalog
from localchat.recommend.evaluate import evaluate
from localchat.recommend.explain import pool_lines
from localchat.recommend.network import GIGABIT_LAN, LOOPBACK
from localchat.recommend.pool import network_seconds, shares
from localchat.recommend.shape import shape_from_entry
from localchat.units import GIB

NO_CALIBRATION = Calibration()
LAN = (RpcWorkerInfo("192.168.1.20:50052", 30 * GIB, 32 * GIB),
       RpcWorkerInfo("192.168.1.21:50052", 14 * GIB, 16 * GIB))


def laptop(workers=()):
    return replace(hypothetical_profile(8, ram_bandwidth_gbps=50), rpc_workers=tuple(workers))


def test_the_pool_offers_the_workers_free_memory_less_headroom_over_an_assumed_lan():
    budget = budget_for(laptop(LAN))
    assert budget.gpu_backend == "rpc" and budget.has_gpu
    assert budget.gpu_bytes == (30 - 1 + 14 - 1) * GIB  # 1 GiB kept free on each, as here
    assert budget.ram_bytes == budget_for(laptop()).ram_bytes
    assert budget.link_round_trip_s == GIGABIT_LAN.round_trip_s
    assert budget.link_gbps == GIGABIT_LAN.bandwidth_gbps
    assert "1 GbE" in budget.link_words and "0.30 ms" in budget.link_words and "118 MB/s" in budget.link_words
    loop = budget_for(laptop([RpcWorkerInfo("127.0.0.1:50052", 8 * GIB, 16 * GIB)]))
    assert loop.link_round_trip_s == LOOPBACK.round_trip_s
    assert any("share its memory" in w for w in loop.warnings)


def test_the_network_costs_a_round_trip_per_worker_and_the_bytes_that_cross():
    entry = load_catalog().get("Qwen3-8B")
    assert entry is not None
    shape = shape_from_entry(entry, "Q4_K_M")
    budget = budget_for(laptop(LAN))
    all_layers = network_seconds(shape, -1, budget)
    # 2 workers × (0.3 ms + 1.6 ms), + 2 × (2 × n_embd floats and the commands), + the logits
    # from the last one, at 117.5 MB/s
    sent = 2 * (2 * shape.n_embd * 4 + 4_500) + shape.n_vocab * 4
    assert abs(all_layers - (2 * (0.3e-3 + 1.6e-3) + sent / 117.5e6)) < 1e-9
    assert network_seconds(shape, 10, budget) < all_layers  # no logits cross
    assert network_seconds(shape, 0, budget) == 0.0
    assert network_seconds(shape, -1, budget_for(laptop())) == 0.0  # no pool, no network


def test_a_pool_fits_a_model_the_laptop_alone_cannot_and_says_each_machines_share():
    entry = load_catalog().get("Qwen3-14B")
    assert entry is not None
    alone = evaluate(laptop(), entry, "Q4_K_M", ctx=8192, calibration=NO_CALIBRATION)
    assert not alone.fits
    budget = budget_for(laptop(LAN))
    pooled = evaluate(laptop(LAN), entry, "Q4_K_M", ctx=8192, calibration=NO_CALIBRATION)
    assert pooled.fits and pooled.where() == "workers" and pooled.n_gpu_layers == pooled.n_layers + 1
    lines = pool_lines(pooled, budget)
    assert "1 GbE LAN" in lines[0]
    parts = shares(pooled.footprint.gpu.total_bytes, pooled.footprint.cpu.total_bytes,
                   pooled.n_gpu_layers, pooled.n_layers, LAN)
    assert [p.machine for p in parts] == ["this machine", LAN[0].endpoint, LAN[1].endpoint]
    assert sum(p.layers for p in parts[1:]) == pooled.n_layers + 1 and parts[0].layers == 0
    assert parts[1].bytes > parts[2].bytes  # in proportion to free memory, as llama.cpp splits
    assert sum(p.bytes for p in parts[1:]) <= pooled.footprint.gpu.total_bytes


def test_recommend_for_a_pool_picks_a_bigger_model_and_names_the_network():
    alone = recommend(laptop(), calibration=NO_CALIBRATION)
    pooled = recommend(laptop(LAN), calibration=NO_CALIBRATION)
    assert alone.choice is not None and pooled.choice is not None
    assert pooled.choice.footprint.total_bytes > alone.choice.footprint.total_bytes
    assert "workers" in pooled.explanation and "1 GbE LAN" in pooled.explanation
