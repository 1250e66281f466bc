"""Any Hub repository as model options: what the filter's text asks for, a repository's quants
sized from one header read over HTTP (the Hub stand-in serving the real SmolLM2 files), the
others scaled from it, and the Hub's model search."""

from __future__ import annotations

from pathlib import Path

import pytest

from localchat.download.search import RepoHit, search_models
from localchat.download.source import HubModel
from localchat.download.store import LocalModel
from localchat.errors import LocalChatError, NotFoundError
from localchat.options.hub import (
    HubSearch,
    RepoLookup,
    count_words,
    filter_words,
    hit_words,
    hub_query,
    hub_rows,
    look_up,
    matches,
    with_hub_rows,
)
from localchat.options.menu import MenuSettings, ModelInventory
from localchat.options.option import FOUND_ON_HUB
from localchat.options.words import menu_details, menu_status
from localchat.recommend import budget_for, hypothetical_profile, load_catalog
from localchat.recommend.calibration import Calibration
from localchat.recommend.evaluate import evaluate, read_local_header
from tests.download.hubserver import HubServer

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
Q4, Q8 = "smollm2-135m-instruct-q4_1.gguf", "smollm2-135m-instruct-q8_0.gguf"
NO_CALIBRATION = Calibration()


@pytest.mark.parametrize(("typed", "query"), [
    ("", None),
    ("   ", None),
    (REPO, RepoLookup(REPO)),
    (f" {REPO}:q8_0 ", RepoLookup(REPO, "Q8_0")),
    (f"https://huggingface.co/{REPO}", RepoLookup(REPO)),
    (f"https://huggingface.co/{REPO}/tree/main", RepoLookup(REPO)),
    (f"hf.co/{REPO}:Q4_K_M", RepoLookup(REPO, "Q4_K_M")),
    ("smollm2", HubSearch("smollm2")),
    ("qwen3 8b", HubSearch("qwen3 8b")),
    ("Q4_K_M", HubSearch("Q4_K_M")),
])
def test_what_enter_in_the_filter_asks_for(typed: str, query: object) -> None:
    assert hub_query(typed) == query


@pytest.mark.parametrize("typed", ["org/bad name", "org/bad--name", "org/", "/name", "a/b/c", "org/name.git"])
def test_a_name_the_hub_would_refuse_is_one_line(typed: str) -> None:
    with pytest.raises(LocalChatError) as caught:
        hub_query(typed)
    assert "is not a Hub repository name" in str(caught.value) and "\n" not in str(caught.value)


def test_the_filter_says_how_many_rows_match_and_what_enter_does() -> None:
    assert filter_words("", 10, 10) == ""
    assert filter_words("qwen", 3, 120) == "3 of 120 rows match · Enter: search the Hub for 'qwen'"
    assert filter_words(REPO, 0, 120) == f"0 of 120 rows match · Enter: look up {REPO} on the Hub"
    assert filter_words("org/", 0, 120) == "0 of 120 rows match"  # still being typed
    assert filter_words("qwen", 3, 120, hub=False) == "3 of 120 rows match"


@pytest.fixture
def smol_hub(hub: HubServer, smollm2_path: Path, smollm2_q8_path: Path, smol_sha: str) -> HubServer:
    hub.state.add_repo(REPO, {Q4: smollm2_path, Q8: smollm2_q8_path, "README.md": smollm2_path},
                       sha256s={Q4: smol_sha, "README.md": smol_sha})
    return hub


def test_a_repository_is_listed_from_one_header_read_with_ranges(smol_hub: HubServer, smollm2_path: Path,
                                                                 smollm2_q8_path: Path) -> None:
    listing = look_up(REPO)
    assert listing.repo_id == REPO and listing.name == "SmolLM2-135M-Instruct"
    assert listing.quants.files == {"Q4_1": (Q4,), "Q8_0": (Q8,)}
    assert listing.quants.sizes == {"Q4_1": smollm2_path.stat().st_size,
                                    "Q8_0": smollm2_q8_path.stat().st_size}
    assert listing.reference == "Q4_1"  # the quant `localchat pull` would take
    assert listing.header == read_local_header(smollm2_path)[0]
    reads = [(p, r) for m, p, r in smol_hub.state.requests if p.startswith("/lfs/")]
    assert reads and all(p.endswith(Q4) and r and r.startswith("bytes=0-") for p, r in reads)
    assert smol_hub.state.bytes_sent[Q8] == 0
    assert look_up(REPO, "q8_0").reference == "Q8_0"  # the quant asked for is the one read


def test_its_rows_are_sized_like_the_files_on_disk(smol_hub: HubServer, smollm2_path: Path,
                                                   smollm2_q8_path: Path) -> None:
    listing = look_up(REPO)
    budget = budget_for(hypothetical_profile(8, 4, "cuda"))
    settings = MenuSettings(4096)
    rows = {r.quant: r for r in hub_rows(listing, budget, settings, NO_CALIBRATION)}
    assert list(rows) == ["Q8_0", "Q4_1"]  # best quality first, as in the menu
    for quant, row in rows.items():
        assert row.source == HubModel(REPO, quant) and row.why == FOUND_ON_HUB
        assert (row.model, row.repo, menu_status(row)) == ("SmolLM2-135M-Instruct", REPO, "Hub")
        assert not row.downloaded and row.key == f"hubmodel:{REPO}:{quant}"

    def on_disk(path: Path):
        header, size = read_local_header(path)
        return evaluate(budget, header, None, ctx=4096, calibration=NO_CALIBRATION, file_bytes=size)

    # Q4_1: its own header, so exactly what the file on disk gives
    assert rows["Q4_1"].exact and rows["Q4_1"].candidate.footprint == on_disk(smollm2_path).footprint
    # Q8_0: Q4_1's header scaled to Q8_0's file size: an estimate, close to Q8_0's own header
    q8, real = rows["Q8_0"].candidate, on_disk(smollm2_q8_path)
    assert not q8.exact and q8.file_bytes == real.file_bytes
    for estimate, exact in [(q8.footprint.weights_bytes, real.footprint.weights_bytes),
                            (q8.footprint.total_bytes, real.footprint.total_bytes),
                            (q8.footprint.cpu.total_bytes, real.footprint.cpu.total_bytes)]:
        assert abs(estimate - exact) < 0.03 * exact
    assert (q8.fit, q8.n_gpu_layers) == (real.fit, real.n_gpu_layers)
    assert "(estimated: another quant's header, scaled to this file's size)" in menu_details(rows["Q8_0"])
    assert f"Enter downloads {REPO}:Q4_1" in menu_details(rows["Q4_1"])
    # at another setting the same listing re-sizes without the network
    smol_hub.state.requests.clear()
    longer = hub_rows(listing, budget, MenuSettings(16384, "q8_0"), NO_CALIBRATION)
    assert all(r.candidate.ctx == 16384 and r.candidate.kv_type == "q8_0" for r in longer)
    assert not smol_hub.state.requests


def test_hub_rows_go_first_and_give_way_to_the_same_file_on_disk(smol_hub: HubServer,
                                                                 smollm2_path: Path) -> None:
    listing = look_up(REPO)
    budget = budget_for(hypothetical_profile(8))
    local = LocalModel("smollm2", REPO, "Q4_1", smollm2_path.stat().st_size, smollm2_path, "hf-cache", None)
    inventory = ModelInventory(load_catalog(), [local])
    rows = inventory.rows(budget, MenuSettings(4096), NO_CALIBRATION)
    hub = hub_rows(listing, budget, MenuSettings(4096), NO_CALIBRATION)
    merged = with_hub_rows(hub, rows)
    assert merged[0].source == HubModel(REPO, "Q8_0")  # the Hub's first
    assert not any(r.source == HubModel(REPO, "Q4_1") for r in merged)  # Q4_1 is on disk already
    # the catalog's SmolLM2-135M is this repository: its Q8_0 row gives way to the Hub's (sized
    # from the header), so the Hub adds no second row for the same file
    same = [r for r in merged if r.source == HubModel(REPO, "Q8_0")]
    assert len(same) == 1 and same[0] is merged[0]
    assert any(r.source == HubModel(REPO, "Q8_0") for r in rows)
    assert len(merged) == len(rows) and len({r.key for r in merged}) == len(merged)


def test_the_filter_matches_every_word_in_name_quant_repository_or_file(smol_hub: HubServer) -> None:
    rows = {r.quant: r for r in hub_rows(look_up(REPO), budget_for(hypothetical_profile(8)),
                                         MenuSettings(4096), NO_CALIBRATION)}
    q8 = rows["Q8_0"]
    for text in ("", "smollm2", "SMOLLM2 q8", "huggingfacetb", f"{REPO}:q8_0", "135m instruct"):
        assert matches(q8, text), text
    for text in ("q4", "qwen", f"{REPO}:Q4_1", "smollm2 gemma"):
        assert not matches(q8, text), text


@pytest.mark.parametrize(("repo", "error"), [
    ("nobody/Nothing-GGUF", "no model repository nobody/Nothing-GGUF on http://127.0.0.1:"),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct has no GGUF files"),
])
def test_a_repository_that_cannot_be_listed_says_why(smol_hub: HubServer, smollm2_path: Path,
                                                     smol_sha: str, repo: str, error: str) -> None:
    smol_hub.state.add_repo("HuggingFaceTB/SmolLM2-135M-Instruct", {"model.safetensors": smollm2_path},
                            sha256s={"model.safetensors": smol_sha})
    with pytest.raises(NotFoundError, match=error):
        look_up(repo)
    with pytest.raises(NotFoundError, match=r"has no Q2_K GGUF file \(available: Q4_1, Q8_0\)"):
        look_up(REPO, "Q2_K")


def test_a_gguf_that_is_not_a_language_model_is_refused_when_looked_up(hub: HubServer,
                                                                       tmp_path: Path) -> None:
    import numpy as np
    from gguf import GGUFWriter

    path = tmp_path / "vision-f16.gguf"  # a header with no layers: nothing to size
    writer = GGUFWriter(str(path), "clip")
    writer.add_tensor("v.patch_embd.weight", np.zeros((4, 4), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    hub.state.add_repo("someone/vision-GGUF", {"vision-f16.gguf": path})
    with pytest.raises(LocalChatError, match="can size decoder language models only"):
        look_up("someone/vision-GGUF")


def test_the_search_lists_gguf_repositories_most_downloaded_first(hub: HubServer, smollm2_path: Path,
                                                                   smol_sha: str) -> None:
    for repo, downloads, name in [(REPO, 90, Q4),
                                  ("bartowski/SmolLM2-360M-Instruct-GGUF", 1_234_567, "a.gguf"),
                                  ("HuggingFaceTB/SmolLM2-135M-Instruct", 10**7, "model.safetensors"),
                                  ("Qwen/Qwen3-8B-GGUF", 5, "b.gguf")]:
        hub.state.add_repo(repo, {name: smollm2_path}, sha256s={name: smol_sha}, downloads=downloads, likes=7)
    hits = search_models("smollm2")
    assert hits == [RepoHit("bartowski/SmolLM2-360M-Instruct-GGUF", 1_234_567, 7), RepoHit(REPO, 90, 7)]
    assert hit_words(hits[0]) == ("bartowski/SmolLM2-360M-Instruct-GGUF", "1.2M", "7")
    assert [path for _, path, _ in hub.state.requests] == ["/", "/api/models"]  # reachable? then one page
    assert search_models("nothing like it") == []


def test_the_search_offline_or_unreachable_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.tui.test_setup import closed_port

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(LocalChatError, match="cannot reach the Hugging Face Hub at http://127.0.0.1:"):
        search_models("smollm2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(LocalChatError, match=r"offline \(HF_HUB_OFFLINE is set\)"):
        search_models("smollm2")
    with pytest.raises(LocalChatError, match=r"offline \(HF_HUB_OFFLINE is set\)"):
        look_up(REPO)


@pytest.mark.parametrize(("n", "words"), [(0, "0"), (999, "999"), (1000, "1k"), (1234, "1.2k"),
                                          (1_250_000, "1.2M"), (3_000_000_000, "3B")])
def test_counts_fit_a_cell(n: int, words: str) -> None:
    assert count_words(n) == words
