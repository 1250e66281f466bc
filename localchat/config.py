"""User configuration: a TOML file in the platformdirs config directory.

``load_config()`` reads it when called (never at import) and never changes it. Every value is
checked against one table (``RULES``): a wrong one is replaced by its default and named in the
config's ``notice``, one line the CLI prints on stderr and the TUI shows, e.g.
``config.toml: [chat] temperature must be a number from 0 to 2 (got "warm"), using 0.7``. A file
that is not TOML at all gives the defaults and such a notice too; the user's file stays as it is.

``save_config()`` edits only the keys whose value changed, with tomlkit, so the user's comments,
layout, unknown keys and sections are kept.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localchat import paths
from localchat.endpoints import Endpoint, is_url, parse_endpoints
from localchat.errors import ConfigError, LocalChatError
from localchat.loadsettings import (
    DEFAULT_CTX,
    KV_TYPES,
    MAX_CTX,
    MIN_CTX,
    LoadOverrides,
    LoadSettings,
    kv_type,
)
from localchat.presets import DEFAULT_SYSTEM_PROMPT, Preset, find_preset, parse_presets
from localchat.rpcpool import parse_rpc_table
from localchat.safetext import quoted


@dataclass(frozen=True)
class ChatDefaults:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024
    top_k: int = 40  # 0: no limit
    min_p: float = 0.05
    repeat_penalty: float = 1.0  # 1: off
    seed: int = -1  # -1: a new random seed for every reply
    thinking: str = "default"  # "on" / "off": the template's switch, where it has one
    preset: str = ""  # the preset whose prompt system_prompt is ("": none named)
    # the keys the config file sets: a model's recommended sampling never replaces these
    # (where a value came from, not part of the value: two configs with the same values are equal)
    user_set: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def chosen(self) -> frozenset[str]:
        """The keys the user chose: those the file sets, and any whose value is not localchat's
        default (a config built in code, or a value changed in the chat and saved)."""
        default = ChatDefaults()
        return self.user_set | {f.name for f in dataclasses.fields(self)
                                if f.name != "user_set" and getattr(self, f.name) != getattr(default, f.name)}


@dataclass(frozen=True)
class ModelChoice:
    """The model the chat opens with; empty ``path`` means first-run setup."""

    path: str = ""
    repo: str = ""
    quant: str = ""
    ctx: int = DEFAULT_CTX
    n_gpu_layers: int = 0
    kv_type: str = "f16"
    flash_attn: bool = False
    # a model on a server instead (``[[endpoints]]``): the endpoint's name (or URL) and the model
    # as the server names it; the chat opens on it, ``path`` stays the last local model
    endpoint: str = ""
    endpoint_model: str = ""

    def load_settings(self, overrides: LoadOverrides | None = None) -> LoadSettings:
        """How the chat, ``ask`` and ``bench`` load this model: the saved choice, then what the
        user asked for on the command line (``overrides``) on top."""
        saved = LoadSettings(n_ctx=self.ctx, n_gpu_layers=self.n_gpu_layers,
                             kv_type=kv_type(self.kv_type), flash_attn=self.flash_attn)
        return (overrides or LoadOverrides()).apply(saved)


@dataclass(frozen=True)
class RecommendSettings:
    """How the recommender ranks (recommend/policy.py): "balanced", "faster" or "quality"."""

    prefer: str = "balanced"


@dataclass(frozen=True)
class UiSettings:
    theme: str = "textual-dark"


@dataclass(frozen=True)
class Config:
    chat: ChatDefaults = field(default_factory=ChatDefaults)
    model: ModelChoice = field(default_factory=ModelChoice)
    ui: UiSettings = field(default_factory=UiSettings)
    recommend: RecommendSettings = field(default_factory=RecommendSettings)
    # extra folders searched for GGUF files (besides the HF cache, LM Studio, Ollama, llama.cpp)
    model_dirs: tuple[str, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()  # [[endpoints]]: never written by localchat
    presets: tuple[Preset, ...] = ()  # the user's own system-prompt presets ([[chat.presets]])
    # [rpc] workers: llama.cpp RPC workers ("host:port") whose memory local models pool
    rpc_workers: tuple[str, ...] = ()
    # what is wrong in the file on disk (one line; the defaults stand in): shown once
    notice: str = ""


_SECTIONS = {"chat": ChatDefaults, "model": ModelChoice, "ui": UiSettings, "recommend": RecommendSettings}
PREFERENCES = ("balanced", "faster", "quality")  # recommend/policy.py's, without importing it

THINKING = ("default", "on", "off")


@dataclass(frozen=True)
class Rule:
    """What one config value must be: its type, a check, and the words for both."""

    kind: type
    must_be: str
    ok: Callable[[Any], bool] = lambda value: True


def _finite_between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda value: math.isfinite(value) and low <= value <= high


RULES: dict[tuple[str, str], Rule] = {
    ("chat", "system_prompt"): Rule(str, "text"),
    ("chat", "temperature"): Rule(float, "a number from 0 to 2", _finite_between(0.0, 2.0)),
    ("chat", "top_p"): Rule(float, "a number from 0 to 1", _finite_between(0.0, 1.0)),
    ("chat", "max_tokens"): Rule(int, "a whole number of 1 or more", lambda v: v >= 1),
    ("chat", "top_k"): Rule(int, "a whole number of 0 or more (0: no limit)", lambda v: v >= 0),
    ("chat", "min_p"): Rule(float, "a number from 0 to 1", _finite_between(0.0, 1.0)),
    # llama.cpp's penalty divides the logits of repeated tokens: 1 is off, below 1 invites loops
    ("chat", "repeat_penalty"): Rule(float, "a number from 1 to 2 (1: off)",
                                     _finite_between(1.0, 2.0)),
    # llama.cpp seeds are 32-bit; -1 (LLAMA_DEFAULT_SEED's spelling in its CLI) draws one each time
    ("chat", "seed"): Rule(int, "a whole number from -1 (random) to 4294967295",
                           lambda v: -1 <= v < 2**32),
    ("chat", "thinking"): Rule(str, "one of " + ", ".join(THINKING), lambda v: v in THINKING),
    ("chat", "preset"): Rule(str, "text (a preset's name)"),
    ("model", "path"): Rule(str, "text (a GGUF file's path)"),
    ("model", "repo"): Rule(str, "text"),
    ("model", "quant"): Rule(str, "text"),
    ("model", "ctx"): Rule(int, f"a whole number from {MIN_CTX} to {MAX_CTX}",
                          lambda v: MIN_CTX <= v <= MAX_CTX),
    # llama.cpp's convention: -1 offloads every layer
    ("model", "n_gpu_layers"): Rule(int, "a whole number of 0 or more (-1: all layers)",
                                    lambda v: v >= -1),
    ("model", "kv_type"): Rule(str, "one of " + ", ".join(KV_TYPES), lambda v: v in KV_TYPES),
    ("model", "flash_attn"): Rule(bool, "true or false"),
    ("model", "endpoint"): Rule(str, "text (an [[endpoints]] name or a URL)"),
    ("model", "endpoint_model"): Rule(str, "text (a model's name on the server)"),
    ("ui", "theme"): Rule(str, "text (a theme name)"),
    ("recommend", "prefer"): Rule(str, "one of " + ", ".join(PREFERENCES), lambda v: v in PREFERENCES),
    ("models", "dirs"): Rule(list, "a list of folder paths",
                             lambda v: all(isinstance(d, str) for d in v)),
}


def check_value(section: str, key: str, value: Any) -> tuple[Any, str]:
    """The value as the config holds it (an int where a float is wanted becomes a float), and
    "" when it is fine, else what is wrong with it in words."""
    rule, given = RULES[(section, key)], value
    if rule.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    right_type = isinstance(value, rule.kind) and not (rule.kind is not bool and isinstance(value, bool))
    if right_type and rule.ok(value):
        return value, ""
    return value, f"[{section}] {key} must be {rule.must_be} (got {quoted(given)})"


def parse_config(raw: dict[str, Any]) -> tuple[Config, list[str]]:
    """The config a parsed TOML document describes, and a line for each value that was wrong
    (its default is used instead). Unknown keys and sections are ignored (kept on disk)."""
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    for name in (*_SECTIONS, "models"):
        table = raw.get(name, {})
        if not isinstance(table, dict):
            problems.append(f"[{name}] must be a table (got {quoted(table)}), using its defaults")
            continue
        values: dict[str, Any] = {}
        for (section, key), _rule in RULES.items():
            if section != name or key not in table:
                continue
            value, problem = check_value(section, key, table[key])
            if problem:
                default = _default(section, key)
                problems.append(f"{problem}, using {quoted(default)}")
            else:
                values[key] = value
        if name == "models":
            kwargs["model_dirs"] = tuple(values.get("dirs", ()))
        elif name == "chat":
            kwargs["presets"] = parse_presets(table.get("presets", []), problems)
            user_set = frozenset(values)
            if values.get("preset"):  # a preset named here gives new chats its prompt
                try:
                    preset = find_preset(values["preset"], kwargs["presets"])
                    values.update(preset=preset.name, system_prompt=preset.prompt)
                except LocalChatError as exc:
                    problems.append(f"[chat] preset: {exc}; using none")
                    del values["preset"]
            kwargs[name] = ChatDefaults(**values, user_set=user_set)
        else:
            kwargs[name] = _SECTIONS[name](**values)
    kwargs["endpoints"] = parse_endpoints(raw.get("endpoints", []), problems)
    kwargs["rpc_workers"] = parse_rpc_table(raw.get("rpc", {}), problems)
    return Config(**kwargs), problems


def find_endpoint(config: Config, name_or_url: str) -> Endpoint:
    """The ``[[endpoints]]`` entry of that name, or one of that URL; a URL that no entry has is an
    endpoint of its own, named by its host (and with no API key: one needs an entry)."""
    text = name_or_url.strip()
    for endpoint in config.endpoints:
        if text in (endpoint.name, endpoint.base_url) or text.rstrip("/") == endpoint.base_url:
            return endpoint
    if is_url(text):
        host = text.split("://", 1)[1].split("/", 1)[0]
        return Endpoint(host, text.rstrip("/"))
    names = ", ".join(e.name for e in config.endpoints) or "none are configured"
    raise ConfigError(f"no endpoint named {quoted(text)} ({names})",
                      f"add an [[endpoints]] entry to {paths.config_file()}, or pass the server's "
                      "URL, e.g. --endpoint http://192.168.1.20:8080")


def _default(section: str, key: str) -> Any:
    if section == "models":
        return list(Config().model_dirs)
    return getattr(_SECTIONS[section](), key)


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Strict: a ``ConfigError`` naming the first wrong value."""
    config, problems = parse_config(raw)
    if problems:
        raise ConfigError(f"config {problems[0]}", f"fix or remove it in {paths.config_file()}")
    return config


def config_to_dict(config: Config) -> dict[str, Any]:
    """The keys ``save_config`` writes (not ``user_set``, which says which of them the file
    sets, nor the user's presets, which only the user edits)."""
    chat = dataclasses.asdict(config.chat)
    del chat["user_set"]
    return {
        "chat": chat,
        "model": dataclasses.asdict(config.model),
        "ui": dataclasses.asdict(config.ui),
        "recommend": dataclasses.asdict(config.recommend),
        "models": {"dirs": list(config.model_dirs)},
    }


def load_config(path: Path | None = None) -> Config:
    """Read the config file; defaults when it does not exist. Never changes the file: what is
    wrong in it is said in ``notice`` and the defaults stand in for it."""
    path = path or paths.config_file()
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        return Config(notice=f"{path} cannot be read ({exc.strerror}), using the defaults")
    except UnicodeDecodeError:
        return Config(notice=f"{path} is not UTF-8 text, using the defaults until it is fixed")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Config(notice=f"{path} is not valid TOML ({exc}), using the defaults until it is fixed")
    config, problems = parse_config(raw)
    if problems:
        config = dataclasses.replace(config, notice=f"{path}: " + "; ".join(problems))
    return config


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write only the keys whose value differs from what the file says now, keeping the rest of
    the file (comments, unknown keys and sections, a wrong value the user has yet to fix) as it
    is. Atomic (temp file + fsync + rename), so a crash never leaves half a config. A file that
    is not valid TOML is not overwritten: ``ConfigError``."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    path = path or paths.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} to update it ({exc})",
                          "fix or delete it, then try again") from exc
    try:
        doc = tomlkit.parse(text)
        current, _ = parse_config(tomllib.loads(text))
    except (ParseError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}), so localchat did not overwrite it",
                          "fix or delete it, then try again") from exc
    before, after = config_to_dict(current), config_to_dict(config)
    # a [chat] value the user chose is written even when it equals the default, so that it
    # stays theirs (a model's recommended sampling never replaces it)
    chosen = {("chat", key) for key in config.chat.user_set - current.chat.user_set}
    for section, values in after.items():
        for key, value in values.items():
            if before[section][key] == value and (section, key) not in chosen:
                continue
            table = doc.get(section)
            if not isinstance(table, dict):
                table = tomlkit.table()
                doc[section] = table
            table[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(tomlkit.dumps(doc))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def update_config(config: Config, **sections: Any) -> Config:
    """Return a copy with whole sections replaced, e.g. ``update_config(c, model=ModelChoice(...))``."""
    return dataclasses.replace(config, **sections)
