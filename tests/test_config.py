"""Config: defaults, round trip, bad values, and a corrupt file moved aside (never lost)."""

from __future__ import annotations

import pytest

from localchat import paths
from localchat.config import (
    ChatDefaults,
    Config,
    ModelChoice,
    load_config,
    save_config,
    update_config,
)


def test_no_file_gives_defaults_and_touches_nothing():
    assert load_config() == Config()
    assert not paths.config_file().exists()


def test_round_trip(tmp_path):
    config = update_config(Config(), chat=ChatDefaults(system_prompt="Be terse.", temperature=0.2),
                           model=ModelChoice(path="/m/a.gguf", ctx=4096, kv_type="q8_0"))
    config = update_config(config, model_dirs=("/models",))
    save_config(config)
    assert load_config() == config


def test_int_accepted_where_float_expected():
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text("[chat]\ntemperature = 1\n")
    assert load_config().chat.temperature == 1.0


@pytest.mark.parametrize("text", [
    "this is not toml = = =",
    "[chat]\ntemperature = 'hot'\n",
    "[models]\ndirs = 'not a list'\n",
    "chat = 3\n",
])
def test_bad_file_is_moved_aside_with_a_notice(text):
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text(text)
    config = load_config()
    assert config.chat == ChatDefaults() and "moved it to" in config.notice
    moved = list(path.parent.glob("config.toml.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_text() == text  # the user's text is kept
    assert not path.exists()


def test_unknown_keys_are_ignored():
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text("[chat]\nfuture_option = true\nmax_tokens = 64\n")
    assert load_config().chat.max_tokens == 64


def test_localchat_home_moves_every_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCALCHAT_HOME", str(tmp_path / "x"))
    assert paths.config_dir() == tmp_path / "x" / "config"
    assert paths.data_dir() == tmp_path / "x" / "data"
    assert paths.database_file().parent == paths.data_dir()


def test_hf_cache_follows_hf_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert paths.hf_hub_cache() == tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "c"))
    assert paths.hf_hub_cache() == tmp_path / "c"
