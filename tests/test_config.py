"""Config: defaults, round trip, edits that keep the user's file, and wrong values named in one
line (the file is never moved or rewritten for them)."""

from __future__ import annotations

import dataclasses

import pytest

from localchat import paths
from localchat.config import (
    ChatDefaults,
    Config,
    ModelChoice,
    UiSettings,
    load_config,
    save_config,
    update_config,
)
from localchat.errors import ConfigError


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


USER_FILE = """# my localchat settings
[chat]
temperature = 0.2   # low: I want it terse
future_option = true

[mine]
note = "keep me"

[ui]
theme = "nord"
"""


def _write(text: str):
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_save_changes_only_the_changed_key_and_keeps_comments_and_unknown_sections():
    path = _write(USER_FILE)
    config = load_config()
    save_config(dataclasses.replace(config, ui=UiSettings(theme="gruvbox")))
    assert path.read_text() == USER_FILE.replace('theme = "nord"', 'theme = "gruvbox"')
    save_config(update_config(load_config(), model=ModelChoice(path="/m/a.gguf")))
    text = path.read_text()
    assert text.startswith(USER_FILE.replace("nord", "gruvbox"))  # nothing above was touched
    assert '[model]\npath = "/m/a.gguf"' in text and "ctx" not in text  # defaults stay unwritten
    assert load_config().model.path == "/m/a.gguf"


BAD_VALUES = [
    ('[chat]\ntemperature = "warm"\n', '[chat] temperature must be a number from 0 to 2 (got "warm")'),
    ("[chat]\ntemperature = -1\n", "[chat] temperature must be a number from 0 to 2 (got -1)"),
    ("[chat]\ntemperature = nan\n", "[chat] temperature must be a number from 0 to 2 (got nan)"),
    ("[chat]\ntop_p = 1.5\n", "[chat] top_p must be a number from 0 to 1 (got 1.5)"),
    ("[chat]\nmax_tokens = -1\n", "[chat] max_tokens must be a whole number of 1 or more (got -1)"),
    ("[chat]\nmax_tokens = 1.5\n", "[chat] max_tokens must be a whole number of 1 or more (got 1.5)"),
    ("[model]\nn_gpu_layers = -3\n", "[model] n_gpu_layers must be a whole number of 0 or more"),
    ("[model]\nctx = 10\n", "[model] ctx must be a whole number from 256 to 16777216 (got 10)"),
    ('[model]\nkv_type = "q3"\n', '[model] kv_type must be one of f16, q8_0, q4_0 (got "q3")'),
    ('[model]\nflash_attn = "yes"\n', "[model] flash_attn must be true or false"),
    ("[models]\ndirs = 'not a list'\n", "[models] dirs must be a list of folder paths"),
    ("chat = 3\n", "[chat] must be a table (got 3)"),
]


@pytest.mark.parametrize(("text", "said"), BAD_VALUES)
def test_a_wrong_value_is_named_in_one_line_and_the_file_is_kept(text, said):
    path = _write("# mine\n" + text)
    config = load_config()
    assert said in config.notice and str(path) in config.notice and "\n" not in config.notice
    assert config.chat == ChatDefaults() and config.model == ModelChoice()  # defaults stand in
    assert path.read_text() == "# mine\n" + text
    assert list(path.parent.glob("*.corrupt-*")) == []


def test_good_values_at_the_edges_are_accepted():
    _write("[chat]\ntemperature = 0\ntop_p = 1\nmax_tokens = 1\n"
           "[model]\nn_gpu_layers = -1\nctx = 256\nkv_type = \"q4_0\"\n")
    config = load_config()
    assert config.notice == "" and config.model.n_gpu_layers == -1 and config.chat.top_p == 1.0


def test_only_the_wrong_key_falls_back_to_its_default():
    _write('[chat]\ntemperature = "warm"\nmax_tokens = 64\n')
    config = load_config()
    assert config.chat.max_tokens == 64 and config.chat.temperature == ChatDefaults().temperature


def test_saving_keeps_a_wrong_value_for_the_user_to_fix():
    path = _write('[chat]\ntemperature = "warm"\n')
    save_config(dataclasses.replace(load_config(), ui=UiSettings(theme="nord")))
    assert 'temperature = "warm"' in path.read_text() and load_config().ui.theme == "nord"


def test_a_file_that_is_not_toml_is_kept_and_never_overwritten():
    path = _write("this is not toml = = =")
    config = load_config()
    assert config == Config(notice=config.notice)
    assert "is not valid TOML" in config.notice and "line 1" in config.notice
    with pytest.raises(ConfigError, match="did not overwrite it"):
        save_config(dataclasses.replace(config, ui=UiSettings(theme="nord")))
    assert path.read_text() == "this is not toml = = ="
    assert list(path.parent.glob("*.corrupt-*")) == []


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


def test_every_command_says_what_is_wrong_on_stderr_and_goes_on(fake_home):
    import os
    import subprocess
    import sys

    path = _write('[chat]\ntemperature = "warm"\n')
    result = subprocess.run([sys.executable, "-m", "localchat", "models"], capture_output=True,
                            text=True, timeout=120, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("localchat: warning: ") and "[chat] temperature must be a number" in line
    assert path.read_text() == '[chat]\ntemperature = "warm"\n'


def test_the_keys_the_file_sets_are_the_users_and_a_chosen_value_is_written_even_at_its_default():
    """A [chat] value the file sets is the user's (a model's recommended sampling never replaces
    it); one chosen in F3 and saved as default is written even when it equals localchat's
    default, so that it stays the user's after the next start."""
    _write("[chat]\ntemperature = 0.2\n")
    config = load_config()
    assert config.chat.user_set == {"temperature"}
    chosen = dataclasses.replace(config.chat, top_p=0.95, user_set=frozenset({"temperature", "top_p"}))
    save_config(update_config(config, chat=chosen))
    text = paths.config_file().read_text()
    assert "top_p = 0.95" in text and "top_k" not in text
    assert load_config().chat.user_set == {"temperature", "top_p"}


def test_presets_from_the_config_and_a_default_preset():
    _write('[chat]\npreset = "tutor"\n\n[[chat.presets]]\nname = "Pirate"\nprompt = "Talk like a pirate."\n'
           '\n[[chat.presets]]\nname = "Coder"\nprompt = "Only Rust."\n')
    config = load_config()
    assert config.notice == ""
    assert [(p.name, p.prompt) for p in config.presets] == [("Pirate", "Talk like a pirate."),
                                                             ("Coder", "Only Rust.")]
    assert config.chat.preset == "Tutor" and config.chat.system_prompt.startswith("You are a patient tutor")
    from localchat.presets import all_presets, find_preset

    names = [p.name for p in all_presets(config.presets)]
    assert names == ["Helpful assistant", "Concise", "Coder", "Tutor", "Translator", "Pirate"]
    assert find_preset("coder", config.presets).prompt == "Only Rust."  # the user's replaces it


@pytest.mark.parametrize(("text", "said"), [
    ('[chat]\npreset = "Shouty"\n', "[chat] preset: unknown preset 'Shouty': choose one of "
                                    "Helpful assistant, Concise, Coder, Tutor, Translator; using none"),
    ('[[chat.presets]]\nname = "No prompt"\n', "[[chat.presets]] number 1 needs a name and a prompt"),
])
def test_a_wrong_preset_is_named_in_one_line(text, said):
    _write(text)
    config = load_config()
    assert said in config.notice and "\n" not in config.notice
    assert config.chat.preset == "" and config.presets == ()


def test_a_value_other_than_the_default_is_the_users_choice_without_a_file():
    assert ChatDefaults(temperature=0.5, top_k=5).chosen == {"temperature", "top_k"}
    assert ChatDefaults().chosen == frozenset()
