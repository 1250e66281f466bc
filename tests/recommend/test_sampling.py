"""Recommended sampling: every family's source is in the catalog, a model file finds its family,
and the precedence is the user's value > the family's recommendation > localchat's default."""

import pytest

from localchat.config import ChatDefaults
from localchat.errors import ConfigError
from localchat.recommend.catalog import load_catalog, parse_catalog
from localchat.recommend.sampling import (
    DEFAULT,
    RECOMMENDED,
    SAMPLING_KEYS,
    YOURS,
    choose_sampling,
    thinks,
)

DEFAULTS = {key: getattr(ChatDefaults(), key) for key in SAMPLING_KEYS}
QWEN3_THINKING = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0}
QWEN3_NO_THINKING = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "min_p": 0.0}


def test_every_catalog_family_has_a_sampling_table_with_its_source():
    catalog = load_catalog()
    for entry in catalog:
        rule = catalog.family_sampling(f"{entry.name}-Q4_K_M.gguf")
        assert rule is not None, f"{entry.name}: no [[sampling]] for family {entry.family}"
        assert rule.source.startswith("https://huggingface.co/"), rule.name
        assert rule.recommended or "publishes no" in rule.note or "recommend no" in rule.note, (
            f"{rule.name}: an empty recommendation must say the authors publish none")
    assert {r.family for r in catalog.sampling if r.family} == {e.family for e in catalog}


@pytest.mark.parametrize(("filename", "name", "arch", "family"), [
    ("Qwen3-0.6B-Q8_0.gguf", "", "", "Qwen 3"),  # a catalog entry
    ("Qwen_Qwen3-8B-Q4_K_M.gguf", "", "", "Qwen 3"),
    ("Qwen3-235B-A22B-Q4_K_M.gguf", "", "", "Qwen 3"),  # not in the catalog: by its name
    ("Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf", "", "qwen3moe", None),  # other recommendations
    ("Qwen3.5-9B-Q4_K_M.gguf", "", "qwen35", None),
    ("model.gguf", "Qwen3 14B", "qwen3", "Qwen 3"),  # by the GGUF general.name
    ("DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "", "qwen2", "DeepSeek-R1 distills"),
    ("qwen2.5-7b-instruct-q4_k_m.gguf", "", "", "Qwen 2.5"),
    ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "", "", "Llama 3"),
    ("gemma-3-4b-it-Q4_K_M.gguf", "", "", "Gemma 3"),
    ("my-finetune.gguf", "", "gemma3", "Gemma 3"),  # an architecture only Gemma 3 uses
    ("Mistral-Nemo-Instruct-2407-Q4_K_M.gguf", "", "", "Mistral NeMo"),  # the model's own
    ("Mistral-Small-24B-Instruct-2501-Q4_K_M.gguf", "", "", "Mistral Small 3"),
    ("Mistral-7B-Instruct-v0.3-Q4_K_M.gguf", "", "", "Mistral 7B"),
    ("SmolLM2-135M-Instruct.Q4_1.gguf", "", "llama", "SmolLM2"),
    ("unrelated.Q4_K_M.gguf", "", "llama", None),
])
def test_a_model_file_finds_its_family(filename, name, arch, family):
    rule = load_catalog().family_sampling(filename, name, arch)
    assert (rule.name if rule else None) == family


@pytest.mark.parametrize(("filename", "thinking", "expected"), [
    ("Qwen3-4B-Q4_K_M.gguf", True, QWEN3_THINKING),
    ("Qwen3-4B-Q4_K_M.gguf", False, QWEN3_NO_THINKING),
    ("Llama-3.2-3B-Instruct-Q4_K_M.gguf", False, {"temperature": 0.6, "top_p": 0.9}),
    ("gemma-3-1b-it-Q4_K_M.gguf", False,
     {"temperature": 1.0, "top_k": 64, "top_p": 0.95, "min_p": 0.0}),
    ("Qwen2.5-3B-Instruct-Q4_K_M.gguf", False,
     {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repeat_penalty": 1.05}),
    ("Mistral-Nemo-Instruct-2407-Q4_K_M.gguf", False, {"temperature": 0.3}),
    ("phi-4-Q4_K_M.gguf", False, {}),  # Microsoft publishes none: localchat's defaults
    ("SmolLM2-360M-Instruct-Q4_K_M.gguf", False, {}),
])
def test_the_family_values_fill_in_what_the_user_did_not_set(filename, thinking, expected):
    family = load_catalog().family_sampling(filename)
    chosen = choose_sampling(DEFAULTS, set(), family, thinking)
    assert chosen.values == {**DEFAULTS, **expected}
    assert {k for k, o in chosen.origin.items() if o == RECOMMENDED} == set(expected)
    assert {k for k, o in chosen.origin.items() if o == DEFAULT} == set(SAMPLING_KEYS) - set(expected)


def test_the_users_value_wins_over_the_recommendation():
    family = load_catalog().family_sampling("Qwen3-8B-Q4_K_M.gguf")
    own = {**DEFAULTS, "temperature": 0.9, "top_k": 40}
    chosen = choose_sampling(own, {"temperature", "top_k"}, family, thinking=True)
    assert chosen.values == {**DEFAULTS, **QWEN3_THINKING, "temperature": 0.9, "top_k": 40}
    assert chosen.origin["temperature"] == chosen.origin["top_k"] == YOURS
    assert chosen.describe() == "Qwen 3's recommendation with thinking"


def test_without_a_family_the_chats_own_values_are_used():
    own = {**DEFAULTS, "min_p": 0.1}
    chosen = choose_sampling(own, set(), None, thinking=False)
    assert chosen.values == own and set(chosen.origin.values()) == {DEFAULT}
    assert "localchat's defaults" in chosen.describe()


@pytest.mark.parametrize(("switch", "model", "expected"), [
    (None, "switchable", True),  # Qwen3 thinks unless told not to
    (False, "switchable", False),
    (True, "switchable", True),
    (None, "always", True),
    (True, "none", False),  # no thinking in the template: the switch changes nothing
])
def test_whether_a_reply_thinks(switch, model, expected):
    assert thinks(switch, model) is expected


@pytest.mark.parametrize(("table", "said"), [
    ('name = "X"\nrecommended = { temperature = 0.5 }', "needs a source"),
    ('name = "X"\nsource = "https://a"\nrecommended = { temperature = 5.0 }', "temperature must be"),
    ('name = "X"\nsource = "https://a"\nrecommended = { seed = 1 }', "seed is not one of"),
    ('name = "X"\nsource = "https://a"\nmatch = "("', "not a regular expression"),
])
def test_a_wrong_sampling_table_is_refused(table, said):
    with pytest.raises(ConfigError, match=said):
        parse_catalog(f"[[sampling]]\n{table}\n")
