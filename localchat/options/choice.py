"""What the config remembers of a choice: the model the next start opens, and the preference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from localchat.config import Config, ModelChoice, save_config


def remember_model(config: Config, choice: ModelChoice, config_path: Path | None = None) -> Config:
    """Save the model (and how it is loaded) as the one the next start opens; returns the new
    config. Raises OSError when the config folder cannot be written, ConfigError when the file
    there is not valid TOML (the caller says so and goes on: the chat works, only the next
    start asks again)."""
    new = dataclasses.replace(config, model=choice, notice="")
    save_config(new, config_path)
    return new


def remember_preference(config: Config, prefer: str, config_path: Path | None = None) -> Config:
    """Save the recommender's preference (balanced, faster, quality); returns the new config.
    Raises OSError when the config folder cannot be written, ConfigError when the file is not
    valid TOML (it is not overwritten)."""
    new = dataclasses.replace(config, recommend=dataclasses.replace(config.recommend, prefer=prefer),
                              notice="")
    save_config(new, config_path)
    return new
