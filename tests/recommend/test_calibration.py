"""Calibration: after a real load, the prediction is compared with what llama.cpp allocated and
the ratio is used the next time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from localchat.engine import LoadSettings, ModelInfo, load_engine
from localchat.recommend import evaluate, evaluate_file, hypothetical_profile, load_catalog
from localchat.recommend.calibration import Calibration
from localchat.recommend.calibration_store import CalibrationStore
from localchat.recommend.footprint import Footprint

PROFILE = hypothetical_profile(8)


@pytest.fixture
def store(tmp_path: Path) -> CalibrationStore:
    return CalibrationStore(tmp_path / "data" / "calibration.json")


@pytest.fixture(scope="module")
def loaded_info(smollm2_path: Path) -> ModelInfo:
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048, flash_attn=True))
    info = engine.info
    engine.close()
    return info


def test_a_real_load_confirms_the_prediction(loaded_info: ModelInfo, store: CalibrationStore):
    correction = store.record_from_info(loaded_info)
    assert store.path.exists()
    for ratio in (correction.weights, correction.kv, correction.compute):
        assert ratio == pytest.approx(1.0, abs=0.05)


def test_the_correction_is_used_for_the_same_model_and_its_catalog_entry(loaded_info, smollm2_path,
                                                                        store):
    before = evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load())
    # llama.cpp allocating half again as much compute as predicted (another build, say)
    bigger = replace(loaded_info, allocated_compute_bytes=int(before.footprint.compute_bytes * 1.5))
    correction = store.record_from_info(bigger)
    assert correction.compute == pytest.approx(1.5, rel=0.01)
    after = evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load())
    assert after.calibrated and not before.calibrated
    assert after.footprint.compute_bytes == pytest.approx(before.footprint.compute_bytes * 1.5, rel=0.01)
    assert after.footprint.kv_bytes == pytest.approx(before.footprint.kv_bytes, rel=0.01)
    entry = load_catalog().get("SmolLM2-135M-Instruct")
    assert evaluate(PROFILE, entry, "Q4_1", ctx=2048, calibration=store.load()).calibrated
    # another model of the same architecture (llama) gets the architecture's median correction
    other = evaluate(PROFILE, load_catalog().get("Llama-3.2-1B-Instruct"), "Q4_K_M", ctx=2048,
                     calibration=store.load())
    assert other.calibrated


def test_an_unreadable_calibration_file_is_ignored(smollm2_path: Path, store: CalibrationStore):
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text("{not json")
    assert store.load().models == {}
    assert not evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load()).calibrated


def test_a_measured_speed_replaces_the_estimate_for_that_model_and_placement(loaded_info, smollm2_path,
                                                                             store):
    from localchat.engine import Message, ReplyStats, Sampling

    estimated = evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load())
    assert not estimated.tps_measured
    # a real reply's speed, measured by the engine on this machine
    engine = load_engine(str(smollm2_path), LoadSettings(n_ctx=2048))
    try:
        events = list(engine.chat([Message("user", "Write a long story about a lighthouse.")],
                                  Sampling(temperature=0.0, max_tokens=80, seed=1)))
    finally:
        engine.close()
    stats = next(e for e in events if isinstance(e, ReplyStats))
    assert stats.completion_tokens == 80 and stats.finish_reason == "length"
    store.record_from_info(loaded_info)  # the memory calibration is kept beside it
    kept = store.record_speed(loaded_info, stats.gen_tps, stats.completion_tokens)
    assert kept == pytest.approx(stats.gen_tps)
    measured = evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load())
    assert measured.tps_measured and measured.est_tps == pytest.approx(stats.gen_tps, rel=0.01)
    assert measured.est_tps != pytest.approx(estimated.est_tps, rel=0.001)
    from localchat.recommend import Catalog, recommend

    why = recommend(PROFILE, ctx=2048, catalog=Catalog(), local_files=[smollm2_path],
                    calibration=store.load()).explanation
    assert f"at about {stats.gen_tps:.0f} tokens/s (as measured on this machine)" in why
    # the catalog entry of the same file and quant shows it too; other quants stay estimates
    entry = load_catalog().get("SmolLM2-135M-Instruct")
    assert evaluate(PROFILE, entry, "Q4_1", ctx=2048, calibration=store.load()).tps_measured
    assert not evaluate(PROFILE, entry, "Q8_0", ctx=2048, calibration=store.load()).tps_measured
    # ...and a placement it was not measured at (GPU layers) is an estimate again
    gpu = hypothetical_profile(8, vram_gib=8, gpu="cuda")
    assert not evaluate_file(gpu, smollm2_path, ctx=2048, calibration=store.load()).tps_measured
    stored = store.load()
    assert stored.models and stored.speeds  # neither record overwrote the other
    # the mean over replies; a reply too short to say is ignored
    again = store.record_speed(loaded_info, stats.gen_tps / 2, 100)
    assert again == pytest.approx(stats.gen_tps * 0.75, rel=0.01)
    assert store.record_speed(loaded_info, 1.0, 3) is None
    latest = evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load())
    assert latest.est_tps == pytest.approx(again, rel=0.01)


def reply(gen_tps: float, completion_tokens: int, finish_reason: str = "stop"):
    from localchat.engine import ReplyStats

    return ReplyStats(prompt_tokens=20, prompt_eval_tokens=20, completion_tokens=completion_tokens,
                      ttft_s=0.05, prompt_tps=900.0, gen_tps=gen_tps, total_s=1.0,
                      finish_reason=finish_reason, ctx_used=20 + completion_tokens, n_ctx=2048)


def measured(smollm2_path: Path, store: CalibrationStore) -> float | None:
    result = evaluate_file(PROFILE, smollm2_path, ctx=2048, calibration=store.load())
    return result.est_tps if result.tps_measured else None


def test_a_stopped_short_reply_is_not_a_speed_and_a_64_token_one_is(loaded_info, smollm2_path, store):
    # Esc after 15 tokens: the first tokens' pace, cut at a moment of the user's choosing
    store.record_reply_speed(loaded_info, reply(400.0, 15, "cancelled"))
    store.record_reply_speed(loaded_info, reply(400.0, 15))  # short, even when finished
    store.record_reply_speed(loaded_info, reply(400.0, 200, "cancelled"))  # long, but stopped
    assert store.load().speeds == {} and measured(smollm2_path, store) is None
    store.record_reply_speed(loaded_info, reply(120.0, 64, "length"))
    assert measured(smollm2_path, store) == pytest.approx(120.0)


def test_the_kept_speed_is_the_mean_over_replies(loaded_info, smollm2_path, store):
    from localchat.recommend.calibration import SPEED_WINDOW

    for tps in (100.0, 120.0, 140.0, 160.0, 180.0):
        store.record_reply_speed(loaded_info, reply(tps, 128))
    assert measured(smollm2_path, store) == pytest.approx(140.0)
    [row, *_] = store.load().speeds.values()
    assert row["replies"] == 5 and row["samples"] == 5
    for _ in range(SPEED_WINDOW):  # a running mean: it follows a lasting change of pace
        store.record_reply_speed(loaded_info, reply(60.0, 128))
    assert 60.0 < measured(smollm2_path, store) < 80.0
    [row, *_] = store.load().speeds.values()
    assert row["replies"] == 5 + SPEED_WINDOW and row["samples"] == SPEED_WINDOW


# ------------------------------------------------------------------ the value alone, no files
def test_the_value_learns_a_running_mean_without_touching_a_file():
    from localchat import paths

    predicted = Footprint(weights_bytes=1000, kv_bytes=200, compute_bytes=100, overhead_bytes=0)
    first, correction = Calibration().with_allocation(
        ["smol:Q4_1"], "llama", predicted, weights_bytes=1100, kv_bytes=0, compute_bytes=300, now=1.0)
    # weights 1.1; the KV cache unreported (0) keeps 1.0; compute 3x is a broken log, ignored
    assert (correction.weights, correction.kv, correction.compute) == pytest.approx((1.1, 1.0, 1.0))
    second, correction = first.with_allocation(
        ["smol:Q4_1"], "llama", predicted, weights_bytes=1300, kv_bytes=200, compute_bytes=100, now=2.0)
    assert correction.weights == pytest.approx(1.2) and correction.samples == 2
    assert Calibration().models == {}  # values, not shared state
    # another model of the architecture gets its median; another architecture nothing
    assert second.for_model("other:Q8_0", "llama").weights == pytest.approx(1.2)
    assert second.for_model("other:Q8_0", "qwen3").is_identity
    faster, tps = second.with_speed(["smol:Q4_1"], 0, 100.0, n_threads=2, now=3.0)
    faster, tps = faster.with_speed(["smol:Q4_1"], 0, 50.0, n_threads=2, now=4.0)
    assert tps == pytest.approx(75.0) and faster.speed_for("smol:Q4_1", 0) == pytest.approx(75.0)
    assert faster.speed_for("smol:Q4_1", 5) is None  # measured at another placement
    assert not paths.calibration_file().exists()


@pytest.mark.parametrize("data", [None, [], {"models": []}, {"models": {"k": {"weights": "x"}}}])
def test_what_is_not_calibration_data_reads_as_none(data):
    assert Calibration.from_data(data) == Calibration()


def test_the_store_round_trips_the_value(store: CalibrationStore):
    predicted = Footprint(weights_bytes=1000, kv_bytes=200, compute_bytes=100, overhead_bytes=0)
    value, _ = Calibration().with_allocation(["smol:Q4_1"], "llama", predicted, weights_bytes=1100,
                                             kv_bytes=200, compute_bytes=100, now=1.0)
    value, _ = value.with_speed(["smol:Q4_1"], 0, 80.0, n_threads=2, now=2.0)
    store.save(value)
    assert store.load() == value
