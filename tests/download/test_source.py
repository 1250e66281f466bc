"""What to pull, typed (``HubModel``, ``Starter``), and the CLI's text for it (``parse_source``)."""

from __future__ import annotations

import dataclasses

import pytest

from localchat.cli import main
from localchat.commands._source import catalog_repo, parse_hub_model, parse_source
from localchat.download import HubModel, Starter, hfcache, pull
from localchat.download.store import find_models, list_local_models
from localchat.errors import LocalChatError, NotFoundError
from localchat.recommend.catalog import Catalog, load_catalog
from tests.download.test_store import SHA_A, put_in_hf_cache

SMOL = next(e for e in load_catalog() if e.name == "SmolLM2-135M-Instruct")
# a catalog name that is not the name its repository gives (bartowski/Qwen_Qwen3-8B-GGUF)
QWEN = next(e for e in load_catalog() if e.name == "Qwen3-8B")


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text, text
    return text


@pytest.mark.parametrize("repo", ["a/b/c", "../../etc/passwd", "org/na--me", "org/-name", "org/x.git",
                                  "NoSlash", "", "org/", "org/na me"])
def test_a_hub_model_refuses_a_name_the_hub_would_refuse_in_one_line(repo):
    with pytest.raises(LocalChatError) as err:
        HubModel(repo, "Q4_K_M")
    assert f"{repo!r} is not a Hub repository name" in one_line(err.value)


def test_a_hub_model_upper_cases_its_quant_and_says_what_it_is():
    assert HubModel("org/Name-GGUF", "q4_k_m") == HubModel("org/Name-GGUF", "Q4_K_M")
    assert HubModel("org/Name-GGUF", "q4_k_m").spec == "org/Name-GGUF:Q4_K_M"
    assert HubModel("org/Name-GGUF").spec == HubModel("org/Name-GGUF", " ").spec == "org/Name-GGUF"
    assert HubModel("org/Name-GGUF", "").quant is None
    assert Starter().spec == "starter"


@pytest.mark.parametrize(("text", "expected"), [
    ("org/Name-GGUF:q4_k_m", HubModel("org/Name-GGUF", "Q4_K_M")),
    ("  org/Name-GGUF  ", HubModel("org/Name-GGUF")),
    ("https://huggingface.co/org/Name-GGUF", HubModel("org/Name-GGUF")),
    ("hf.co/org/Name-GGUF/:Q8_0", HubModel("org/Name-GGUF", "Q8_0")),
    ("huggingface.co/org/Name-GGUF:", HubModel("org/Name-GGUF")),
    ("starter", Starter()),
    (" Starter ", Starter()),
])
def test_parse_source_reads_a_repository_a_url_and_the_starter(text, expected):
    assert parse_source(text) == expected


def test_parse_source_maps_a_catalog_name_to_its_repository():
    # case and punctuation do not matter, and the quant is kept
    assert parse_source("smollm2 135m instruct:q8_0") == HubModel(SMOL.repo, "Q8_0")
    mine = Catalog((dataclasses.replace(SMOL, name="Tiny-Chat", repo="org/Tiny-Chat-GGUF"),))
    assert parse_source("tiny-chat", catalog=mine) == HubModel("org/Tiny-Chat-GGUF")
    assert catalog_repo("Tiny-Chat", mine) == "org/Tiny-Chat-GGUF"
    assert catalog_repo("SmolLM2-135M-Instruct", mine) is None  # only the catalog given is asked


@pytest.mark.parametrize(("text", "error"), [
    ("NoSuchModel-9000B:Q4_K_M", "'NoSuchModel-9000B' is neither a Hub repository (ORG/NAME) nor a model"),
    ("", "no model named in ''"),
    ("hf.co/", "no model named in 'hf.co/'"),
    (":Q4_K_M", "no model named in ':Q4_K_M'"),
    ("a/b/c", "'a/b/c' is not a Hub repository name"),
    ("https://huggingface.co/org/na--me", "'org/na--me' is not a Hub repository name"),
])
def test_parse_source_refuses_junk_in_one_line(text, error):
    with pytest.raises(LocalChatError) as err:
        parse_source(text)
    assert error in one_line(err.value)


def test_commands_that_need_a_hub_repository_refuse_the_starter_with_its_repository():
    with pytest.raises(NotFoundError) as err:
        parse_hub_model("starter")
    assert "not a Hub repository" in one_line(err.value) and "QuantFactory/SmolLM2-135M" in str(err.value)
    assert parse_hub_model("org/Name-GGUF:q4_1") == HubModel("org/Name-GGUF", "Q4_1")


def test_a_catalog_name_is_pulled_from_its_repository(hub, smollm2_path):
    hub.state.add_repo(SMOL.repo, {"Model-Q4_1.gguf": smollm2_path})
    path = pull(parse_source(f"{SMOL.name.lower()}:q4_1"))
    assert path.name == "Model-Q4_1.gguf" and path.read_bytes() == smollm2_path.read_bytes()
    assert path.resolve().parent == hfcache.repo_folder(SMOL.repo) / "blobs"


def test_rm_finds_a_model_by_its_catalog_name_only_through_the_lookup_it_is_given(fake_home, capsys):
    put_in_hf_cache(QWEN.repo, "Model-Q4_K_M.gguf", SHA_A)
    models = list_local_models(include_config_dirs=False)
    # the store knows no catalog: the repository alone names it Qwen_Qwen3-8B
    assert find_models("Qwen3-8B", models) == []
    [found] = find_models("Qwen3-8B:q4_k_m", models, repo_for_name=catalog_repo)
    assert found.repo == QWEN.repo
    assert main(["rm", "Qwen3-8B"]) == 0
    assert capsys.readouterr().out.startswith("removed Qwen3-8B: ")
    assert not hfcache.repo_folder(QWEN.repo).exists()
