"""From a chosen model to what the engine loads and what the config remembers."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from localchat.config import Config, ModelChoice, save_config
from localchat.loadsettings import LoadSettings

if TYPE_CHECKING:
    from localchat.recommend.candidate import Candidate


def settings_for(candidate: Candidate, base: LoadSettings | None = None) -> LoadSettings:
    """The load settings a candidate was sized for: its context, GPU layers, KV cache type and
    flash attention (a quantized KV cache needs it); threads and batch stay as in ``base``."""
    base = base or LoadSettings()
    return dataclasses.replace(
        base, n_ctx=candidate.ctx, n_gpu_layers=candidate.n_gpu_layers,
        kv_type=candidate.kv_type,  # type: ignore[arg-type]
        flash_attn=candidate.flash_attn or candidate.kv_type != "f16",
    )


def choice_for(path: str | Path, settings: LoadSettings, *, repo: str = "", quant: str = "") -> ModelChoice:
    return ModelChoice(path=str(path), repo=repo, quant=quant, ctx=settings.n_ctx,
                       n_gpu_layers=settings.n_gpu_layers, kv_type=settings.kv_type,
                       flash_attn=settings.flash_attn)


def remember_choice(config: Config, path: str | Path, settings: LoadSettings, *, repo: str = "",
                    quant: str = "", config_path: Path | None = None) -> Config:
    """Save the model (and how it is loaded) as the one the next start opens; returns the new
    config. Raises OSError when the config folder cannot be written, ConfigError when the file
    there is not valid TOML (the caller says so and goes on: the chat works, only the next
    start asks again)."""
    new = dataclasses.replace(config, model=choice_for(path, settings, repo=repo, quant=quant), notice="")
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
