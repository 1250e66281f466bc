"""``plan_setup``: what the first-run screen shows, on hypothetical machines with real GGUF files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from localchat.download.source import HubModel, Starter
from localchat.download.store import LocalModel
from localchat.errors import HubUnreachableError
from localchat.options.setup import plan_setup
from localchat.options.sources import Sources
from localchat.options.words import SETUP_COLUMNS as COLUMNS
from localchat.options.words import setup_cells, setup_details
from localchat.recommend import Catalog, hypothetical_profile, load_catalog
from localchat.recommend.calibration import Calibration

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
NO_CALIBRATION = Calibration()


def smol_catalog() -> Catalog:
    return Catalog((replace(load_catalog().get("SmolLM2-135M-Instruct"), repo=REPO, quants=("Q4_1",)),))


def on_disk(path: Path, source: str, name: str = "") -> LocalModel:
    return LocalModel(name=name or path.stem, repo="", quant="", size_bytes=path.stat().st_size,
                      path=path, source=source, last_used=None)


def offline() -> None:
    raise HubUnreachableError("cannot reach the Hugging Face Hub at http://127.0.0.1:9 (ConnectError)",
                              "check the network")


def sources(*, local: list[LocalModel] = (), online: bool = True, catalog=smol_catalog) -> Sources:
    return Sources(catalog=catalog, local_models=lambda: list(local),
                   check_online=(lambda: None) if online else offline)


def test_online_the_catalog_model_on_disk_is_recommended_with_exact_sizes(smollm2_path: Path) -> None:
    plan = plan_setup(hypothetical_profile(4), sources(local=[on_disk(smollm2_path, "lmstudio")]),
                      calibration=NO_CALIBRATION)
    assert plan.online and not plan.offline_reason and not plan.what_to_do
    assert "CPU (hypothetical)" in plan.probe_text and "avx2" in plan.probe_text
    row = plan.rows[0] if plan.rows and plan.rows[0].why == "recommended" else None
    assert row is not None and row.downloaded and row.path == str(smollm2_path)
    assert row.source.found_in == "LM Studio"
    c = row.candidate
    assert c.name == "SmolLM2-135M-Instruct" and c.quant == "Q4_1" and c.exact
    assert c.footprint.weights_bytes == pytest.approx(92.10 * (1 << 20), rel=0.001)  # from the header
    cells = dict(zip(COLUMNS, setup_cells(row), strict=True))
    assert cells["Model"] == "★ SmolLM2-135M-Instruct" and cells["On disk"] == "yes"
    assert (cells["Context"], cells["Runs on"]) == ("8k", "CPU")
    assert cells["Size"] == "93.8 MiB" and cells["Same word"] == "~85%"
    assert plan.explanation.startswith("SmolLM2-135M-Instruct Q4_1, 8k context: 92.1 MiB weights + ")
    assert "RAM available" in plan.explanation
    details = setup_details(row)
    assert details.startswith("Recommended: SmolLM2-135M-Instruct Q4_1, 8k context")
    assert "picks the same next word as the 16-bit model" in details and "Downloads" not in details
    assert f"On disk (LM Studio): {smollm2_path}." in details


def test_online_without_files_the_recommendation_is_a_download() -> None:
    plan = plan_setup(hypothetical_profile(4), sources(), calibration=NO_CALIBRATION)
    row = plan.rows[0] if plan.rows and plan.rows[0].why == "recommended" else None
    assert row is not None and not row.downloaded and row.source == HubModel(REPO, "Q4_1")
    assert [r.source for r in plan.rows] == [HubModel(REPO, "Q4_1")]  # no starter row while the Hub answers
    size = setup_cells(row)[COLUMNS.index("Size")]
    assert f"Downloads {size} from the Hub ({REPO}:Q4_1)" in setup_details(row)
    assert not plan.what_to_do


def test_offline_ranks_the_files_on_disk_then_offers_the_starter(
        smollm2_path: Path, gemma_path: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-Q4_K_M.gguf"
    broken.write_bytes(b"not a gguf file")
    local = [on_disk(smollm2_path, "hf-cache"), on_disk(broken, "folder"), on_disk(gemma_path, "ollama")]
    plan = plan_setup(hypothetical_profile(4), sources(local=local, online=False), calibration=NO_CALIBRATION)
    assert not plan.online and "127.0.0.1:9" in plan.offline_reason
    assert plan.offline_reason.endswith(": check the network")
    # gemma-3-270m outranks SmolLM2-135M; the unreadable file is left out; the starter comes last
    assert [r.path for r in plan.rows] == [str(gemma_path), str(smollm2_path), None]
    assert [r.source.found_in for r in plan.rows[:2]] == ["Ollama", "HF cache"]
    assert plan.rows[-1].source == Starter() and plan.rows[-1].why == "starter (PyPI)"
    assert plan.rows[-1].candidate.file_bytes == 98_362_432
    assert plan.explanation.startswith(
        "Of the models on this machine: gemma-3-270m-q4_k_m Q4_K_M, 8k context")
    assert not plan.what_to_do
    # named as the catalog names them (SmolLM2's header says "Smollm2 135M 8k Lc100K Mix1 Ep2"),
    # else as they were found
    assert [r.candidate.name for r in plan.rows[:2]] == ["gemma-3-270m-q4_k_m", "SmolLM2-135M-Instruct"]


def test_offline_with_the_starter_already_on_disk_offers_no_second_copy(smollm2_path: Path) -> None:
    plan = plan_setup(hypothetical_profile(4), sources(local=[on_disk(smollm2_path, "pypi")], online=False),
                      calibration=NO_CALIBRATION)
    assert [r.path for r in plan.rows] == [str(smollm2_path)]


def test_nothing_available_says_exactly_what_to_do() -> None:
    plan = plan_setup(hypothetical_profile(8), sources(online=False), calibration=NO_CALIBRATION)
    assert plan.what_to_do and plan.explanation == ""
    assert [r.source for r in plan.rows] == [Starter()]
    todo = plan.what_to_do
    assert todo.startswith("Nothing to chat with yet: the Hub cannot be reached")
    for words in ("localchat --model PATH/TO/MODEL.gguf", "HF_ENDPOINT", "HF_HUB_OFFLINE",
                  "localchat pull starter", "config.toml"):
        assert words in todo


def test_online_but_nothing_fits_explains_and_says_what_to_do() -> None:
    plan = plan_setup(hypothetical_profile(0.25), sources(catalog=load_catalog), calibration=NO_CALIBRATION)
    assert all(r.why != "recommended" for r in plan.rows) and plan.what_to_do
    assert plan.explanation.startswith("No model in the catalog fits this machine.")
    assert "no model in the catalog fits this machine" in plan.what_to_do
    assert "HF_ENDPOINT" not in plan.what_to_do and "localchat --model" in plan.what_to_do


def test_a_failing_model_scan_is_a_warning_not_a_crash() -> None:
    def scan() -> list[LocalModel]:
        raise PermissionError(13, "Permission denied", "/models")

    plan = plan_setup(hypothetical_profile(4), Sources(catalog=smol_catalog, local_models=scan,
                                                       check_online=lambda: None),
                      calibration=NO_CALIBRATION)
    assert plan.rows[0].why == "recommended"
    assert any("could not list the models on this machine" in w for w in plan.warnings)


def test_rows_say_why_a_smaller_file_needs_more_memory_and_give_speed_as_a_range() -> None:
    # 8 GB, CPU only: Qwen3-4B Q6_K fits with headroom only with a q8_0 KV cache; Q5_K_M (a
    # smaller file) is listed at f16 and needs more memory than Q6_K: its row says why
    catalog = Catalog((load_catalog().get("Qwen3-4B"),))
    plan = plan_setup(hypothetical_profile(8), sources(catalog=lambda: catalog), calibration=NO_CALIBRATION)
    cells = {r.candidate.quant: dict(zip(COLUMNS, setup_cells(r), strict=True)) for r in plan.rows}
    assert cells["Q6_K"]["Context"] == "8k q8_0" and cells["Q6_K"]["Memory"] == "4.2 GiB"
    assert cells["Q5_K_M"]["Memory"] == "4.4 GiB · KV f16"
    assert cells["Q6_K"]["tok/s"] == "7.5–13"  # not run here: a range


def test_the_first_run_prefers_a_small_download_and_lists_the_big_one() -> None:
    plan = plan_setup(hypothetical_profile(64, ram_bandwidth_gbps=80), sources(catalog=load_catalog),
                      calibration=NO_CALIBRATION)
    first, bigger = plan.rows[:2]
    assert first.why == "recommended" and first.candidate.file_bytes <= 5 * (1 << 30)
    assert bigger.why == "bigger download" and bigger.candidate.file_bytes > 20 * (1 << 30)
    assert "min at an assumed 100 Mbit/s" in setup_details(bigger)
    assert "would rank higher but is a " in plan.explanation
