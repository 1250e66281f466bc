"""Where localchat keeps its files.

Everything is computed when asked (no I/O or environment captured at import). ``LOCALCHAT_HOME``
puts config, data and cache under one folder: tests use it, and so can a portable install.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "localchat"


def _home_override() -> Path | None:
    home = os.environ.get("LOCALCHAT_HOME")
    return Path(home).expanduser() if home else None


def config_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "config"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "data"
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def database_file() -> Path:
    return data_dir() / "conversations.sqlite3"


def calibration_file() -> Path:
    """Per-model corrections learned by comparing predicted and real allocations."""
    return data_dir() / "calibration.json"


def hf_hub_cache() -> Path:
    """The standard Hugging Face hub cache (shared with huggingface_hub and llama.cpp's -hf)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    hf_home = os.environ.get("HF_HOME")
    if hf_home:
        return Path(hf_home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"
