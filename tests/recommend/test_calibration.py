"""Calibration: after a real load, the prediction is compared with what llama.cpp allocated and
the ratio is used the next time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from localchat import paths
from localchat.engine import LoadSettings, ModelInfo, load_engine
from localchat.recommend import evaluate, evaluate_file, hypothetical_profile, load_catalog
from localchat.recommend.calibration import load_calibration, record_from_info

PROFILE = hypothetical_profile(8)


@pytest.fixture(scope="module")
def loaded_info(smollm2_path: Path) -> ModelInfo:
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048, flash_attn=True))
    info = engine.info
    engine.close()
    return info


def test_a_real_load_confirms_the_prediction(loaded_info: ModelInfo):
    correction = record_from_info(loaded_info)
    assert paths.calibration_file().exists()
    for ratio in (correction.weights, correction.kv, correction.compute):
        assert ratio == pytest.approx(1.0, abs=0.05)


def test_the_correction_is_used_for_the_same_model_and_its_catalog_entry(loaded_info, smollm2_path):
    before = evaluate_file(PROFILE, smollm2_path, ctx=2048)
    # llama.cpp allocating half again as much compute as predicted (another build, say)
    bigger = replace(loaded_info, allocated_compute_bytes=int(before.footprint.compute_bytes * 1.5))
    correction = record_from_info(bigger)
    assert correction.compute == pytest.approx(1.5, rel=0.01)
    after = evaluate_file(PROFILE, smollm2_path, ctx=2048)
    assert after.calibrated and not before.calibrated
    assert after.footprint.compute_bytes == pytest.approx(before.footprint.compute_bytes * 1.5, rel=0.01)
    assert after.footprint.kv_bytes == pytest.approx(before.footprint.kv_bytes, rel=0.01)
    entry = load_catalog().get("SmolLM2-135M-Instruct")
    assert evaluate(PROFILE, entry, "Q4_1", ctx=2048).calibrated
    # another model of the same architecture (llama) gets the architecture's median correction
    other = evaluate(PROFILE, load_catalog().get("Llama-3.2-1B-Instruct"), "Q4_K_M", ctx=2048)
    assert other.calibrated


def test_an_unreadable_calibration_file_is_ignored(smollm2_path: Path):
    paths.calibration_file().parent.mkdir(parents=True, exist_ok=True)
    paths.calibration_file().write_text("{not json")
    assert load_calibration().models == {}
    assert not evaluate_file(PROFILE, smollm2_path, ctx=2048).calibrated


def test_a_measured_speed_replaces_the_estimate_for_that_model_and_placement(loaded_info, smollm2_path):
    from localchat.engine import Message, ReplyStats, Sampling
    from localchat.recommend.calibration import record_speed

    estimated = evaluate_file(PROFILE, smollm2_path, ctx=2048)
    assert not estimated.tps_measured
    # a real reply's speed, measured by the engine on this machine
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048))
    try:
        events = list(engine.chat([Message("user", "Count from one to twenty in words.")],
                                  Sampling(temperature=0.0, max_tokens=40, seed=1)))
    finally:
        engine.close()
    stats = next(e for e in events if isinstance(e, ReplyStats))
    assert stats.completion_tokens >= 8
    record_from_info(loaded_info)  # the memory calibration is kept beside it
    assert record_speed(loaded_info, stats.gen_tps, stats.completion_tokens) == pytest.approx(stats.gen_tps)
    measured = evaluate_file(PROFILE, smollm2_path, ctx=2048)
    assert measured.tps_measured and measured.est_tps == pytest.approx(stats.gen_tps, rel=0.01)
    assert measured.est_tps != pytest.approx(estimated.est_tps, rel=0.001)
    from localchat.recommend import Catalog, recommend

    why = recommend(PROFILE, ctx=2048, catalog=Catalog(), local_files=[smollm2_path]).explanation
    assert f"at about {stats.gen_tps:.0f} tokens/s (as measured on this machine)" in why
    # the catalog entry of the same file and quant shows it too; other quants stay estimates
    entry = load_catalog().get("SmolLM2-135M-Instruct")
    assert evaluate(PROFILE, entry, "Q4_1", ctx=2048).tps_measured
    assert not evaluate(PROFILE, entry, "Q8_0", ctx=2048).tps_measured
    # ...and a placement it was not measured at (GPU layers) is an estimate again
    gpu = hypothetical_profile(8, vram_gib=8, gpu="cuda")
    assert not evaluate_file(gpu, smollm2_path, ctx=2048).tps_measured
    stored = load_calibration()
    assert stored.models and stored.speeds  # neither record overwrote the other
    # a running mean over the last few replies; a reply too short to say is ignored
    again = record_speed(loaded_info, stats.gen_tps / 2, 40)
    assert again == pytest.approx(stats.gen_tps * 0.75, rel=0.01)
    assert record_speed(loaded_info, 1.0, 3) is None
    assert evaluate_file(PROFILE, smollm2_path, ctx=2048).est_tps == pytest.approx(again, rel=0.01)
