"""The sampling a model's authors recommend, and which value a reply uses.

The catalog's ``[[sampling]]`` tables hold, per family, what the authors publish (Qwen3's model
cards, Meta's and Google's ``generation_config.json``, Mistral's cards), with the source. A reply
uses, for each setting: the user's own value (the config's ``[chat]`` sets it, F3 changed it in
this chat, or a command-line flag gave it), else the family's recommendation, else localchat's
default (``choose_sampling``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from localchat.config import check_value
from localchat.errors import ConfigError

# the settings a family can recommend (max tokens and the seed are the user's alone)
SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty")

Number = float | int

# where a value came from, in the user's words
YOURS, RECOMMENDED, DEFAULT = "yours", "recommended", "default"


@dataclass(frozen=True)
class FamilySampling:
    """One ``[[sampling]]`` table: ``recommended`` applies with thinking on (or for a model that
    does not think), ``no_thinking`` (where the authors publish a second set, as for Qwen3) with
    thinking off. Empty ``recommended``: the authors publish nothing, localchat's defaults stay."""

    name: str
    source: str
    family: str = ""  # the catalog family it covers
    models: tuple[str, ...] = ()  # only these catalog entries (Mistral's models differ)
    match: str = ""  # a regular expression for GGUF names of models outside the catalog
    arch: tuple[str, ...] = ()  # GGUF general.architecture values that are this family only
    note: str = ""
    recommended: Mapping[str, Number] = field(default_factory=dict)
    no_thinking: Mapping[str, Number] | None = None

    def values(self, thinking: bool) -> dict[str, Number]:
        """The recommendation for a reply with thinking on or off."""
        if not thinking and self.no_thinking is not None:
            return dict(self.no_thinking)
        return dict(self.recommended)

    def matches_name(self, text: str) -> bool:
        return bool(self.match) and re.search(self.match, text, re.IGNORECASE) is not None


def parse_family_sampling(raw: dict[str, Any]) -> FamilySampling:
    """A ``[[sampling]]`` table, checked: known keys, a source, values the config would accept."""
    name = str(raw.get("name", "?"))
    known = {"name", "source", "family", "models", "match", "arch", "note", "recommended",
             "no_thinking"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"catalog sampling {name} has unknown keys {sorted(unknown)}")
    if not str(raw.get("source", "")).startswith("https://"):
        raise ConfigError(f"catalog sampling {name} needs a source (an https:// address)")
    sets = {key: _checked(name, raw[key]) for key in ("recommended", "no_thinking") if key in raw}
    try:
        re.compile(raw.get("match", ""))
    except re.error as exc:
        raise ConfigError(f"catalog sampling {name}: match is not a regular expression ({exc})") from exc
    return FamilySampling(
        name=name, source=raw["source"], family=raw.get("family", ""),
        models=tuple(raw.get("models", ())), match=raw.get("match", ""),
        arch=tuple(raw.get("arch", ())), note=raw.get("note", ""),
        recommended=sets.get("recommended", {}), no_thinking=sets.get("no_thinking"),
    )


def _checked(name: str, values: Any) -> dict[str, Number]:
    if not isinstance(values, dict):
        raise ConfigError(f"catalog sampling {name}: values must be a table")
    out: dict[str, Number] = {}
    for key, value in values.items():
        if key not in SAMPLING_KEYS:
            raise ConfigError(f"catalog sampling {name}: {key} is not one of {SAMPLING_KEYS}")
        checked, problem = check_value("chat", key, value)  # what the config would accept
        if problem:
            raise ConfigError(f"catalog sampling {name}: {problem}")
        out[key] = checked
    return out


@dataclass(frozen=True)
class ChosenSampling:
    """The values a reply uses and where each came from (``YOURS``, ``RECOMMENDED``, ``DEFAULT``)."""

    values: dict[str, Number]
    origin: dict[str, str]
    family: FamilySampling | None = None
    thinking: bool = False  # which of the family's sets applied

    def describe(self) -> str:
        """Where the values the user did not set come from, in a few words."""
        if self.family is None:
            return "localchat's defaults"
        if not self.family.recommended:
            return f"localchat's defaults ({self.family.name}: none published)"
        mode = ""
        if self.family.no_thinking is not None:
            mode = " with thinking" if self.thinking else " without thinking"
        return f"{self.family.name}'s recommendation{mode}"


def choose_sampling(own: Mapping[str, Number], user_set: Collection[str],
                    family: FamilySampling | None, thinking: bool) -> ChosenSampling:
    """Each setting of ``SAMPLING_KEYS``: the user's value when ``user_set`` names it, else the
    family's recommendation (``thinking``: whether this reply thinks), else ``own`` (the chat's
    value, which is localchat's default when the user set none)."""
    recommended = family.values(thinking) if family is not None else {}
    values: dict[str, Number] = {}
    origin: dict[str, str] = {}
    for key in SAMPLING_KEYS:
        if key in user_set:
            values[key], origin[key] = own[key], YOURS
        elif key in recommended:
            values[key], origin[key] = recommended[key], RECOMMENDED
        else:
            values[key], origin[key] = own[key], DEFAULT
    return ChosenSampling(values, origin, family, thinking)


def thinks(switch: bool | None, model_thinking: str) -> bool:
    """Whether a reply thinks, from the model's template (``ModelInfo.thinking``: "always",
    "none", or "switchable", which thinks unless the chat's switch says off, as Qwen3's does)."""
    if model_thinking == "switchable":
        return switch is not False
    return model_thinking == "always"
