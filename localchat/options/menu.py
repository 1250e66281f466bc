"""The model menu without the UI: every local and catalog model × quant, sized for one setting.

``ModelInventory(catalog, local_models)`` matches the files on disk to catalog entries and quants
and reads each local GGUF header once; ``inventory.rows(profile, settings, loaded_path=)`` then
sizes every row for a context length, GPU layers and KV cache type (cheap: call it again each time
the user changes one). Local rows are exact (from the header); catalog rows not on disk are
estimates from the catalog's architecture figures. ``menu_rows(...)`` does both in one call.

No textual and no llama_cpp here (tests/test_layers.py checks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localchat.errors import ModelFileError
from localchat.loadsettings import DEFAULT_CTX
from localchat.recommend.calibration import Calibration, load_calibration
from localchat.recommend.evaluate import evaluate, read_local_header
from localchat.recommend.profiles import Budget, budget_for
from localchat.recommend.quants import quant_quality
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.download.store import LocalModel
    from localchat.ggufmeta import GGUFHeader
    from localchat.hardware.profile import HardwareProfile
    from localchat.recommend.candidate import Candidate
    from localchat.recommend.catalog import Catalog, CatalogEntry


HeaderReader = Callable[[Path], "tuple[GGUFHeader, int]"]


@dataclass(frozen=True)
class MenuSettings:
    """How the menu sizes every row: context length, KV cache type, GPU layers (None: the most
    that fit; -1: all; a number: exactly that many, in llama.cpp's counting)."""

    ctx: int = DEFAULT_CTX
    kv_type: str = "f16"
    n_gpu_layers: int | None = None

    def describe(self) -> str:
        ngl = self.n_gpu_layers
        gpu = "auto" if ngl is None else "all" if ngl < 0 else str(ngl)
        return f"context {self.ctx} · GPU layers {gpu} · KV cache {self.kv_type}"


@dataclass(frozen=True)
class MenuItem:
    """One model × quant before sizing: a local file (its header read once), a catalog quant not
    on disk, or both (a local file matched to its catalog entry)."""

    model: str  # the name shown: the catalog's, else the file's model name
    quant: str
    entry: CatalogEntry | None = None
    local: LocalModel | None = None
    header: GGUFHeader | None = field(default=None, compare=False, repr=False)
    file_bytes: int | None = None

    @property
    def key(self) -> str:
        return f"file:{self.local.path}" if self.local else f"catalog:{self.model}:{self.quant}"


@dataclass(frozen=True)
class MenuRow:
    """One line of the menu: an item sized for the settings, with what a newcomer needs to know."""

    item: MenuItem
    candidate: Candidate
    loaded: bool = False

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def model(self) -> str:
        return self.item.model

    @property
    def quant(self) -> str:
        return self.candidate.quant or self.item.quant

    @property
    def path(self) -> str | None:
        return str(self.item.local.path) if self.item.local else None

    @property
    def downloaded(self) -> bool:
        return self.item.local is not None

    @property
    def exact(self) -> bool:
        return self.candidate.exact

    @property
    def fit(self) -> str:
        return self.candidate.fit

    @property
    def fits(self) -> bool:
        return self.candidate.fits

    @property
    def repo(self) -> str:
        if self.item.local and self.item.local.repo:
            return self.item.local.repo
        return self.item.entry.repo if self.item.entry else ""

    @property
    def spec(self) -> str:
        """What ``pull`` (and the download screen) fetches for this row: ``REPO:QUANT``."""
        return f"{self.repo}:{self.quant}" if self.repo else self.model

    @property
    def n_ctx_train(self) -> int:
        """The context the model was trained for (0: unknown)."""
        if self.item.header is not None:
            return int(self.item.header.arch_value("context_length", 0) or 0)
        return self.item.entry.n_ctx_train if self.item.entry else 0

    def context_warning(self) -> str:
        """Set when the menu's context is longer than the model was trained for."""
        trained = self.n_ctx_train
        if not trained or self.candidate.ctx <= trained:
            return ""
        return (f"{self.model} was trained for {trained} tokens of context; past that its answers "
                "fall apart: choose a context of at most that")

    @property
    def needs_bytes(self) -> int:
        return self.candidate.footprint.total_bytes

    def _approx(self, text: str) -> str:
        return text if self.exact else f"~{text}"

    @property
    def size_text(self) -> str:
        return self._approx(short_bytes(self.candidate.file_bytes))

    @property
    def memory_text(self) -> str:
        return self._approx(short_bytes(self.needs_bytes))

    @property
    def where_text(self) -> str:
        return self.candidate.where()

    @property
    def tps_text(self) -> str:
        """Measured here ("112"), or the estimate as a range ("60–90"); "-" when it does not fit."""
        return self.candidate.tps_text if self.fits else "-"

    @property
    def quality_short(self) -> str:
        """A column's worth of the quality cost: "92%" of next words the same as 16-bit."""
        return self.candidate.quality.short

    @property
    def quality_words(self) -> str:
        return self.candidate.quality.words

    @property
    def disk_text(self) -> str:
        if self.item.local is None:
            return "download"
        return "loaded" if self.loaded else "on disk"

    def risk(self) -> str:
        """Why a row that does not fit is risky, with the figures (empty when it fits)."""
        c = self.candidate
        if c.fits:
            return ""
        if c.n_gpu_layers > 0 and not c.unified:
            free = fmt_bytes(c.gpu_budget_bytes)
            need = fmt_bytes(c.footprint.gpu.total_bytes)
            where = f"{need} of GPU memory with {c.n_gpu_layers} layers there, and {free} is free"
            outcome = ("llama.cpp will probably fail to load it (out of GPU memory), or the driver "
                       "spills into system RAM and it runs many times slower")
        else:
            free = fmt_bytes(c.ram_budget_bytes)
            need = fmt_bytes(c.footprint.cpu.total_bytes if not c.unified else c.footprint.total_bytes)
            where = f"{need} of RAM, and {free} is available"
            outcome = ("the system will swap to disk (replies slow to a crawl, other apps stall) or "
                       "kill localchat when memory runs out")
        return f"{c.label} at {c.ctx} tokens of context needs {where}: {outcome}."


def short_bytes(n: int) -> str:
    """A table's width of a size: ``138 MiB``, ``1.6 GiB``, ``38.7 GiB`` (fmt_bytes otherwise)."""
    if n < 1 << 30:
        return f"{n / (1 << 20):.0f} MiB"
    return fmt_bytes(n)


def _quant_order(label: str) -> tuple[float, str]:
    q = quant_quality(label)
    return (q.kld if q.known else math.inf, label)


class ModelInventory:
    """Local models and catalog models with their quants, matched once; ``rows()`` sizes them.

    Local files are matched to a catalog entry by repository, then by file name
    (``Catalog.match_file``); a local file's quant replaces the catalog's row for that quant.
    Headers that cannot be read are skipped and listed in ``problems``.
    """

    def __init__(self, catalog: Iterable[CatalogEntry] | Catalog, local_models: Sequence[LocalModel], *,
                 read_header: HeaderReader = read_local_header) -> None:
        self.problems: list[str] = []
        entries = list(catalog)
        by_name = {e.name: e for e in entries}
        match_file = getattr(catalog, "match_file", None)
        get = getattr(catalog, "get", None)
        local_items: dict[str, list[MenuItem]] = {}
        for local in local_models:
            try:
                header, size = read_header(Path(local.path))
            except (ModelFileError, OSError, ValueError) as exc:
                self.problems.append(f"{local.path}: {exc}")
                continue
            entry = None
            if local.repo and get is not None:
                entry = get(local.repo)
            if entry is None and match_file is not None:
                entry = match_file(Path(local.path).name)
            quant = (header.quant or local.quant or "").upper()
            model = entry.name if entry else (header.name or local.name or Path(local.path).stem)
            local_items.setdefault(model, []).append(
                MenuItem(model, quant, entry, local, header, size))
        items: list[MenuItem] = []
        # models with files on disk first (in the order found), then the catalog, smallest first
        for model, found in local_items.items():
            entry = by_name.get(model)
            have = {i.quant for i in found}
            more = [MenuItem(model, q, entry) for q in (entry.quants if entry else ()) if q not in have]
            items += sorted(found + more, key=lambda i: _quant_order(i.quant))
        for entry in sorted(entries, key=lambda e: e.params_b):
            if entry.name in local_items:
                continue
            items += [MenuItem(entry.name, q, entry) for q in sorted(entry.quants, key=_quant_order)]
        self.items = items

    def rows(self, profile: HardwareProfile | Budget, settings: MenuSettings, *,
             loaded_path: str | Path | None = None, calibration: Calibration | None = None,
             models: Iterable[str] | None = None) -> list[MenuRow]:
        """Every item (or those of the ``models`` named) sized for ``settings``; the one at
        ``loaded_path`` is marked loaded."""
        budget = profile if isinstance(profile, Budget) else budget_for(profile)
        calibration = calibration if calibration is not None else load_calibration()
        loaded = _resolved(loaded_path)
        wanted = set(models) if models is not None else None
        out = []
        for item in self.items:
            if wanted is not None and item.model not in wanted:
                continue
            out.append(MenuRow(item, size_item(budget, item, settings, calibration),
                               loaded=loaded is not None and item.local is not None
                               and _resolved(item.local.path) == loaded))
        return out


def size_item(budget: Budget, item: MenuItem, settings: MenuSettings, calibration: Calibration) -> Candidate:
    common = dict(ctx=settings.ctx, kv_type=settings.kv_type, n_gpu_layers=settings.n_gpu_layers,
                  calibration=calibration)
    if item.header is not None and item.local is not None:
        candidate = evaluate(budget, item.header, item.quant or None, local_path=str(item.local.path),
                             file_bytes=item.file_bytes, **common)  # type: ignore[arg-type]
        if item.entry is not None:
            from dataclasses import replace

            candidate = replace(candidate, name=item.entry.name, repo=item.entry.repo,
                                rank_params_b=item.entry.rank_params_b)
        return candidate
    assert item.entry is not None
    return evaluate(budget, item.entry, item.quant, **common)  # type: ignore[arg-type]


def _resolved(path: str | Path | None) -> Path | None:
    if path is None:
        return None
    try:
        return Path(path).expanduser().resolve()
    except OSError:
        return Path(path)


def menu_rows(profile: HardwareProfile | Budget, catalog: Iterable[CatalogEntry] | Catalog,
              local_models: Sequence[LocalModel], *, ctx: int, kv_type: str = "f16",
              n_gpu_layers: int | None = None, loaded_path: str | Path | None = None,
              calibration: Calibration | None = None) -> list[MenuRow]:
    """The menu's rows in one call (the screen keeps a ``ModelInventory`` instead, so each
    header is read once however often the settings change)."""
    inventory = ModelInventory(catalog, local_models)
    return inventory.rows(profile, MenuSettings(ctx, kv_type, n_gpu_layers), loaded_path=loaded_path,
                          calibration=calibration)


def preferred_row(rows: Sequence[MenuRow], budget: Budget, prefer: str | None) -> MenuRow | None:
    """The row the recommender's preference (recommend/policy.py) picks at the menu's settings:
    the menu marks it, so "balanced", "faster" and "quality" mean the same here as in setup."""
    from localchat.recommend.policy import has_headroom, policy_for

    policy = policy_for(prefer)
    fitting = [r for r in rows if r.fits]
    if not fitting:
        return None
    roomy = {r.key: has_headroom(r.candidate, budget) for r in fitting}
    pool = [r for r in fitting if roomy[r.key]] or fitting
    floor = policy.floor([r.candidate for r in pool])
    whole = "gpu" if budget.has_gpu else "cpu"

    def rank(r: MenuRow) -> tuple:
        fit_class = 3 if r.fit == whole else 1 if r.fit == "partial" else 0
        return policy.key(r.candidate, fit_class, floor, roomy[r.key])

    return max(fitting, key=rank)


def memory_notes(rows: Sequence[MenuRow]) -> dict[str, str]:
    """Per row key, why it needs more memory than a larger file of the same model ("KV f16")."""
    from localchat.recommend.candidate import memory_note

    candidates = [r.candidate for r in rows]
    notes = {r.key: memory_note(r.candidate, candidates) for r in rows}
    return {k: v for k, v in notes.items() if v}


def other_quants(rows: Sequence[MenuRow], loaded: MenuRow) -> list[MenuRow]:
    """The rows that are another quant of the loaded model (what "compare quants" offers)."""
    return [r for r in rows if r.model == loaded.model and r.key != loaded.key]


def both_fit(first: Candidate, second: Candidate) -> bool:
    """Whether two models fit in memory at once (compare quants loads the second beside the
    first only then): their GPU shares within the GPU's free memory and their RAM shares within
    the RAM budget (unified memory: the totals within the RAM budget)."""
    if first.unified:
        return first.footprint.total_bytes + second.footprint.total_bytes <= first.ram_budget_bytes
    gpu = first.footprint.gpu.total_bytes + second.footprint.gpu.total_bytes
    ram = first.footprint.cpu.total_bytes + second.footprint.cpu.total_bytes
    return gpu <= first.gpu_budget_bytes and ram <= first.ram_budget_bytes
