"""The model menu without the UI: every local and catalog model × quant, sized for one setting.

``ModelInventory(catalog, local_models)`` matches the files on disk to catalog entries and quants
and reads each local GGUF header once; ``inventory.rows(profile, settings, loaded_path=)`` then
sizes every row for a context length, GPU layers and KV cache type (cheap: call it again each time
the user changes one) into ``ModelOption``s. Local rows are exact (from the header); catalog rows
not on disk are estimates from the catalog's architecture figures.

No textual and no llama_cpp here (tests/test_layers.py checks).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localchat.download.source import HubModel
from localchat.errors import ModelFileError
from localchat.loadsettings import DEFAULT_CTX
from localchat.options.option import LocalFile, ModelOption, found_in
from localchat.recommend.calibration import Calibration
from localchat.recommend.candidate import memory_note
from localchat.recommend.evaluate import evaluate, read_local_header
from localchat.recommend.profiles import Budget, budget_for
from localchat.recommend.quants import quant_quality

if TYPE_CHECKING:
    from localchat.download.store import LocalModel, PartialDownload
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

    def source(self) -> LocalFile | HubModel:
        if self.local is not None:
            return LocalFile(str(self.local.path), found_in(self.local.source), self.local.repo or "")
        assert self.entry is not None
        return HubModel(self.entry.repo, self.quant)


def quant_order(label: str) -> tuple[float, str]:
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
            items += sorted(found + more, key=lambda i: quant_order(i.quant))
        for entry in sorted(entries, key=lambda e: e.params_b):
            if entry.name in local_items:
                continue
            items += [MenuItem(entry.name, q, entry) for q in sorted(entry.quants, key=quant_order)]
        self.items = items

    def rows(self, profile: HardwareProfile | Budget, settings: MenuSettings, calibration: Calibration, *,
             loaded_path: str | Path | None = None, models: Iterable[str] | None = None,
             partials: Mapping[str, PartialDownload] | None = None) -> list[ModelOption]:
        """Every item (or those of the ``models`` named) sized for ``settings``: the one at
        ``loaded_path`` is marked loaded, one not on disk carries its stopped download from
        ``partials`` (by spec, lower case), and each says why it needs more memory than a larger
        file of the same model, when it does."""
        budget = profile if isinstance(profile, Budget) else budget_for(profile)
        loaded = _resolved(loaded_path)
        wanted = set(models) if models is not None else None
        out = []
        for item in self.items:
            if wanted is not None and item.model not in wanted:
                continue
            source = item.source()
            partial = None if isinstance(source, LocalFile) else (partials or {}).get(source.spec.lower())
            out.append(ModelOption(size_item(budget, item, settings, calibration), source, item.model,
                                   partial=partial, loaded=loaded is not None and item.local is not None
                                   and _resolved(item.local.path) == loaded))
        candidates = [o.candidate for o in out]
        return [dataclasses.replace(o, memory_note=memory_note(o.candidate, candidates)) for o in out]


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


def preferred_row(rows: Sequence[ModelOption], budget: Budget, prefer: str | None) -> ModelOption | None:
    """The row the recommender's preference (recommend/policy.py) picks at the menu's settings:
    the menu marks it, so "balanced", "faster" and "quality" mean the same here as in setup."""
    from localchat.recommend.policy import has_headroom, policy_for

    policy = policy_for(prefer)
    fitting = [r for r in rows if r.fits and not r.remote]  # the pick is for this machine
    if not fitting:
        return None
    roomy = {r.key: has_headroom(r.candidate, budget) for r in fitting}
    pool = [r for r in fitting if roomy[r.key]] or fitting
    floor = policy.floor([r.candidate for r in pool])
    whole = "gpu" if budget.has_gpu else "cpu"

    def rank(r: ModelOption) -> tuple:
        fit_class = 3 if r.fit == whole else 1 if r.fit == "partial" else 0
        return policy.key(r.candidate, fit_class, floor, roomy[r.key])

    return max(fitting, key=rank)
