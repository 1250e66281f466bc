"""User configuration: a TOML file in the platformdirs config directory.

``load_config()`` reads it when called (never at import). A file that cannot be parsed is moved
aside to ``config.toml.corrupt-<timestamp>`` and the defaults are used, with a note the caller
shows to the user: a broken config never silently disappears and never stops localchat starting.
"""

from __future__ import annotations

import dataclasses
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localchat import paths
from localchat.errors import ConfigError

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."


@dataclass(frozen=True)
class ChatDefaults:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024


@dataclass(frozen=True)
class ModelChoice:
    """The model the chat opens with; empty ``path`` means first-run setup."""

    path: str = ""
    repo: str = ""
    quant: str = ""
    ctx: int = 8192
    n_gpu_layers: int = 0
    kv_type: str = "f16"
    flash_attn: bool = False


@dataclass(frozen=True)
class UiSettings:
    theme: str = "textual-dark"


@dataclass(frozen=True)
class Config:
    chat: ChatDefaults = field(default_factory=ChatDefaults)
    model: ModelChoice = field(default_factory=ModelChoice)
    ui: UiSettings = field(default_factory=UiSettings)
    # extra folders searched for GGUF files (besides the HF cache, LM Studio, Ollama, llama.cpp)
    model_dirs: tuple[str, ...] = ()
    # set when the file on disk was unreadable and moved aside; the UI shows it once
    notice: str = ""


_SECTIONS = {"chat": ChatDefaults, "model": ModelChoice, "ui": UiSettings}


def _build_section(cls: type, raw: Any, name: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"config section [{name}] must be a table")
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            continue  # unknown keys are kept on disk but ignored (forward compatibility)
        default = getattr(cls(), key)
        expected = type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"config value {name}.{key} = {value!r} should be {expected.__name__}",
                f"fix or remove it in {paths.config_file()}",
            )
        values[key] = value
    return cls(**values)


def config_from_dict(raw: dict[str, Any]) -> Config:
    kwargs: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        if name in raw:
            kwargs[name] = _build_section(cls, raw[name], name)
    dirs = raw.get("models", {}).get("dirs", []) if isinstance(raw.get("models"), dict) else []
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise ConfigError("config value models.dirs should be a list of folder paths")
    kwargs["model_dirs"] = tuple(dirs)
    return Config(**kwargs)


def config_to_dict(config: Config) -> dict[str, Any]:
    return {
        "chat": dataclasses.asdict(config.chat),
        "model": dataclasses.asdict(config.model),
        "ui": dataclasses.asdict(config.ui),
        "models": {"dirs": list(config.model_dirs)},
    }


def _move_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    path.replace(target)
    return target


def load_config(path: Path | None = None) -> Config:
    """Read the config file; defaults when it does not exist; move a corrupt one aside."""
    path = path or paths.config_file()
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        return config_from_dict(tomllib.loads(raw_bytes.decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ConfigError) as exc:
        moved = _move_aside(path)
        return Config(notice=f"config file was unreadable ({exc}); moved it to {moved}, using defaults")


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write atomically (temp file + fsync + rename) so a crash never leaves half a config."""
    import tomli_w

    path = path or paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        tomli_w.dump(config_to_dict(config), fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def update_config(config: Config, **sections: Any) -> Config:
    """Return a copy with whole sections replaced, e.g. ``update_config(c, model=ModelChoice(...))``."""
    return dataclasses.replace(config, **sections)
