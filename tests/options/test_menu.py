"""The model menu's rows, on hypothetical machines, with the real SmolLM2 GGUF headers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from localchat.download.source import HubModel
from localchat.download.store import LocalModel
from localchat.options.compare import both_fit
from localchat.options.menu import MenuSettings, ModelInventory
from localchat.options.words import context_warning, memory_text, menu_status, risk, size_text, tps_text
from localchat.recommend import hypothetical_profile, load_catalog
from localchat.recommend.calibration import Calibration
from localchat.recommend.evaluate import read_local_header

SMOL = "SmolLM2-135M-Instruct"
NO_CALIBRATION = Calibration()  # the figures as predicted, whatever this machine has learnt


def local(path: Path, repo: str = "") -> LocalModel:
    return LocalModel(path.stem, repo, "", path.stat().st_size, path, "folder", None)


@pytest.fixture
def inventory(smollm2_path, smollm2_q8_path) -> ModelInventory:
    return ModelInventory(load_catalog(), [local(smollm2_path), local(smollm2_q8_path)])


def smol_rows(inventory: ModelInventory, profile, settings: MenuSettings, loaded=None):
    rows = inventory.rows(profile, settings, NO_CALIBRATION, loaded_path=loaded, models=[SMOL])
    return {r.quant: r for r in rows}


def test_local_files_are_matched_to_their_catalog_model_and_quant(inventory, smollm2_path,
                                                                   smollm2_q8_path) -> None:
    rows = smol_rows(inventory, hypothetical_profile(8), MenuSettings(4096), loaded=smollm2_path)
    entry = load_catalog().get(SMOL)
    # the catalog's quants (HuggingFaceTB's repository has Q8_0 and Q4_K_M), plus Q4_1 which
    # only the file on disk has
    assert set(rows) == set(entry.quants) | {"Q4_1"} == {"Q8_0", "Q4_K_M", "Q4_1"}
    q4, q8, q4km = rows["Q4_1"], rows["Q8_0"], rows["Q4_K_M"]
    assert q4.downloaded and q4.path == str(smollm2_path) and q4.exact and q4.loaded
    assert q8.downloaded and q8.path == str(smollm2_q8_path) and q8.exact and not q8.loaded
    assert q8.candidate.file_bytes == smollm2_q8_path.stat().st_size  # exact, from the disk
    assert size_text(q8) == "138 MiB" and not memory_text(q8).startswith("~")
    # a quant not on disk is an estimate from the catalog, downloaded from its repository
    assert not q4km.downloaded and not q4km.exact and q4km.path is None
    assert size_text(q4km).startswith("~") and menu_status(q4km) == "download"
    assert q4km.source == HubModel(entry.repo, "Q4_K_M")
    assert (menu_status(q4), menu_status(q8)) == ("● loaded", "on disk")
    # best quality first; the local models' group comes before the catalog's others
    quants = [r.quant for r in inventory.rows(hypothetical_profile(8), MenuSettings(4096),
                                              NO_CALIBRATION)][:len(rows)]
    assert quants == ["Q8_0", "Q4_K_M", "Q4_1"]


def test_memory_grows_with_context_and_shrinks_with_a_quantized_kv_cache(inventory) -> None:
    profile = hypothetical_profile(8)

    def needs(ctx: int, kv: str = "f16") -> int:
        return smol_rows(inventory, profile, MenuSettings(ctx, kv))["Q8_0"].needs_bytes

    assert needs(1024) < needs(8192) < needs(32768)
    assert needs(32768, "q4_0") < needs(32768, "q8_0") < needs(32768, "f16")
    # the KV cache is what changes: f16 → q8_0 is 2 → 34/32 bytes an element
    kv = {k: smol_rows(inventory, profile, MenuSettings(8192, k))["Q8_0"].candidate.footprint.kv_bytes
          for k in ("f16", "q8_0")}
    assert kv["q8_0"] == pytest.approx(kv["f16"] * 34 / 64, rel=0.01)


def test_a_quantized_kv_cache_makes_a_long_context_fit_a_small_machine(inventory) -> None:
    small = hypothetical_profile(2)  # 1.3 GiB for a model
    at_f16 = smol_rows(inventory, small, MenuSettings(65536, "f16"))["Q8_0"]
    at_q4 = smol_rows(inventory, small, MenuSettings(65536, "q4_0"))["Q8_0"]
    assert (at_f16.fit, at_f16.candidate.where(), tps_text(at_f16)) == ("none", "does not fit", "-")
    assert "GiB of RAM, and 1.3 GiB is available" in risk(at_f16)
    assert "swap" in risk(at_f16)
    assert (at_q4.fit, at_q4.candidate.where(), risk(at_q4)) == ("cpu", "CPU", "")
    # SmolLM2 was trained for 8k tokens: a longer context is flagged, from the header or catalog
    assert at_q4.candidate.n_ctx_train == 8192 and "trained for 8192 tokens" in context_warning(at_q4)
    estimated = smol_rows(inventory, small, MenuSettings(65536))["Q4_K_M"]
    assert not estimated.downloaded and context_warning(estimated)
    assert not context_warning(smol_rows(inventory, small, MenuSettings(8192))["Q8_0"])


def test_gpu_layers_change_where_it_runs(inventory) -> None:
    gpu = hypothetical_profile(16, 1.2, "cuda")  # 1.14 GiB free: not quite all of SmolLM2 + 1 GiB reserve

    def row(ngl: int | None):
        return smol_rows(inventory, gpu, MenuSettings(2048, "f16", ngl))["Q4_1"]

    auto, everything, none, ten = row(None), row(-1), row(0), row(10)
    assert auto.fit == "partial" and 0 < auto.candidate.n_gpu_layers < 31
    assert auto.candidate.where() == f"GPU {auto.candidate.n_gpu_layers}/31 layers + CPU"
    assert everything.fit == "none" and "GPU memory" in risk(everything)
    assert (none.fit, none.candidate.where()) == ("cpu", "CPU")
    assert (ten.fit, ten.candidate.where()) == ("partial", "GPU 10/31 layers + CPU")
    roomy = smol_rows(inventory, hypothetical_profile(16, 8, "cuda"), MenuSettings(2048))["Q4_1"]
    assert (roomy.fit, roomy.candidate.where()) == ("gpu", "GPU")
    assert roomy.candidate.est_tps > none.candidate.est_tps  # GPU bandwidth beats RAM's


def test_quality_cost_in_words(inventory) -> None:
    # SmolLM2-360M: bartowski's repository has the usual quants, Q2_K among them
    rows = {r.quant: r for r in inventory.rows(hypothetical_profile(8), MenuSettings(4096),
                                               NO_CALIBRATION, models=["SmolLM2-360M-Instruct"])}
    words = rows["Q4_K_M"].candidate.quality.words
    assert words.startswith("picks the same next word as the 16-bit model 92%")
    assert rows["Q4_K_M"].candidate.quality.short == "92%"
    assert rows["Q8_0"].candidate.quality.short == "98%"
    assert rows["Q2_K"].candidate.quality.short.endswith("⚠") and rows["Q2_K"].candidate.quality.warning


def test_both_fit_decides_whether_compare_loads_side_by_side(inventory) -> None:
    roomy = smol_rows(inventory, hypothetical_profile(8), MenuSettings(2048))
    assert both_fit(roomy["Q4_1"].candidate, roomy["Q8_0"].candidate)
    tight = smol_rows(inventory, hypothetical_profile(1.2), MenuSettings(2048))  # 0.77 GiB
    assert tight["Q4_1"].fits and tight["Q8_0"].fits
    assert not both_fit(tight["Q4_1"].candidate, tight["Q8_0"].candidate)


def test_unreadable_and_unmatched_files(tmp_path, smollm2_path) -> None:
    broken = tmp_path / "broken-Q4_K_M.gguf"
    broken.write_bytes(b"not a gguf at all")
    mystery = tmp_path / "mystery.gguf"

    def read(path: Path):
        if path == mystery:  # another model's file: SmolLM2's tensors under another name
            header, size = read_local_header(smollm2_path)
            return dataclasses.replace(header, metadata={**header.metadata, "general.name": "Mystery"}), size
        return read_local_header(path)

    models = [LocalModel("broken", "", "Q4_K_M", 17, broken, "folder", None),
              LocalModel("mystery", "", "Q4_1", 1, mystery, "folder", None)]
    inventory = ModelInventory(load_catalog(), models, read_header=read)
    assert len(inventory.problems) == 1 and str(broken) in inventory.problems[0]
    rows = inventory.rows(hypothetical_profile(8), MenuSettings(2048), NO_CALIBRATION)
    assert rows[0].model == "Mystery" and rows[0].quant == "Q4_1" and rows[0].downloaded
    assert rows[1].model != "Mystery"  # no catalog quants invented for an unknown model


def test_menu_rows_at_a_kv_type(smollm2_path) -> None:
    rows = ModelInventory(load_catalog(), [local(smollm2_path)]).rows(
        hypothetical_profile(8), MenuSettings(2048, "q8_0"), NO_CALIBRATION, loaded_path=smollm2_path)
    loaded = [r for r in rows if r.loaded]
    assert len(loaded) == 1 and loaded[0].quant == "Q4_1" and loaded[0].candidate.kv_type == "q8_0"
    assert len(rows) > 100  # every catalog model × quant


def test_the_menu_marks_what_each_preference_picks() -> None:
    """★ in the menu follows the same policy as setup and `recommend --prefer`."""
    from localchat.options.menu import preferred_row
    from localchat.recommend import budget_for

    profile = hypothetical_profile(16, ram_bandwidth_gbps=50)
    rows = ModelInventory(load_catalog(), []).rows(profile, MenuSettings(8192), Calibration())
    budget = budget_for(profile)
    picks = {p: preferred_row(rows, budget, p) for p in ("balanced", "faster", "quality")}
    assert all(r is not None for r in picks.values())
    assert picks["balanced"].candidate.est_tps >= 10 and picks["balanced"].candidate.quality.tier == 2
    assert picks["faster"].candidate.est_tps >= 25 and picks["faster"].quant == "Q4_K_M"
    assert picks["quality"].candidate.rank_params_b > picks["balanced"].candidate.rank_params_b
