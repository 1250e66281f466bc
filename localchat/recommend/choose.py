"""``recommend``: the best model, quant, context, GPU layers and KV cache type for a machine.

What "best" means is a preference (policy.py: balanced, faster, quality). Every model × quant is
placed first (``best_option``): whole on the GPU (CPU-only machines: in RAM) at the target context
(8k) with headroom to spare; else the context shrinks (halving, down to 2k, an f16 KV cache before
q8_0) before layers leave the GPU; then a GPU/CPU split. The preference then ranks the placed
options; the first run also weighs the download (``download_budget_bytes``). Whatever the
preference, with ``--ctx`` a model trained for that context ranks above one that is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from localchat.errors import LocalChatError
from localchat.hardware.profile import HardwareProfile
from localchat.loadsettings import DEFAULT_CTX
from localchat.recommend.calibration import Calibration
from localchat.recommend.candidate import Candidate, Recommendation
from localchat.recommend.catalog import Catalog, CatalogEntry, load_catalog
from localchat.recommend.evaluate import evaluate, evaluate_file
from localchat.recommend.explain import explain, no_fit_explanation
from localchat.recommend.policy import (
    ASSUMED_DOWNLOAD_BPS,
    MIN_CHAT_TPS,
    Policy,
    download_minutes,
    has_headroom,
    policy_for,
)
from localchat.recommend.profiles import Budget, budget_for
from localchat.recommend.quants import quant_quality
from localchat.units import fmt_bytes

# a plan shrinks the context by halves to make a model fit, down to this; the engine loads less
# (loadsettings.MIN_CTX), but a chat with a system prompt and a few turns needs about this much
SHORTEST_PLANNED_CTX = 2048
PLANNED_KV_TYPES = ("f16", "q8_0")  # q4_0 costs quality for little memory; the menu offers it
__all__ = ["MIN_CHAT_TPS", "Option", "best_option", "candidates_for", "recommend"]


@dataclass(frozen=True)
class Option:
    """The best way to run one model × quant, and how it ranks."""

    candidate: Candidate
    fit_class: int  # 3: whole at target ctx; 2: whole at a smaller ctx; 1: split; 0: CPU only
    headroom: bool = False  # fits and leaves policy.py's headroom free

    def key(self, policy: Policy | None = None, floor: float = MIN_CHAT_TPS) -> tuple:
        # whatever the preference, a model that cannot use the context asked for (past its
        # trained length its answers fall apart) ranks below every one that can
        ranked = (policy or policy_for(None)).key(self.candidate, self.fit_class, floor, self.headroom)
        return (not self.candidate.beyond_trained_ctx, *ranked)


def _ladder(target: int, fixed: bool) -> list[int]:
    if fixed:
        return [target]
    ctxs = [target]
    while ctxs[-1] // 2 >= SHORTEST_PLANNED_CTX:
        ctxs.append(ctxs[-1] // 2)
    return ctxs


def best_option(budget: Budget, source: CatalogEntry | Path, quant: str, target: int, *,
                fixed_ctx: bool = False, calibration: Calibration) -> Option:
    """Search contexts and KV types for the best placement of one model × quant."""

    def run(ctx: int, kv: str, ngl: int | None = None) -> Candidate:
        if isinstance(source, CatalogEntry):
            return evaluate(budget, source, quant, ctx=ctx, kv_type=kv, n_gpu_layers=ngl,
                            calibration=calibration)
        return evaluate_file(budget, source, ctx=ctx, kv_type=kv, n_gpu_layers=ngl, calibration=calibration)

    whole = "gpu" if budget.has_gpu else "cpu"
    first_whole: Option | None = None
    for i, ctx in enumerate(_ladder(target, fixed_ctx)):
        for kv in PLANNED_KV_TYPES:
            c = run(ctx, kv)
            if c.fit == whole:
                option = Option(c, 3 if i == 0 else 2, has_headroom(c, budget))
                if option.headroom:
                    return option
                first_whole = first_whole or option  # whole but tight: a smaller ctx may leave room
    if first_whole is not None:
        return first_whole
    for kv in PLANNED_KV_TYPES:
        c = run(target, kv)
        if c.fits:
            return Option(c, 1 if c.fit == "partial" else 0, has_headroom(c, budget))
    return Option(run(_ladder(target, fixed_ctx)[-1], PLANNED_KV_TYPES[-1]), -1)  # the least it would need


def _target_ctx(ctx: int | None, n_ctx_train: int) -> int:
    wanted = ctx or DEFAULT_CTX
    return min(wanted, n_ctx_train) if n_ctx_train and not ctx else wanted


def _options(budget: Budget, catalog: Catalog, ctx: int | None, local_files: Iterable[str | Path],
             calibration: Calibration, local_names: Mapping[str, str]) -> list[Option]:
    options = []
    local: dict[tuple[str, str], Option] = {}
    for path in local_files:
        path = Path(path)
        entry = catalog.match_file(path.name)
        try:
            opt = best_option(budget, path, "", _target_ctx(ctx, 0), fixed_ctx=ctx is not None,
                              calibration=calibration)
        except LocalChatError:
            continue  # not a readable GGUF: `localchat models` reports those
        c = opt.candidate
        if entry is not None:
            c = replace(c, name=entry.name, repo=entry.repo, rank_params_b=entry.rank_params_b)
            local[(entry.name, c.quant)] = Option(c, opt.fit_class, opt.headroom)
        else:
            options.append(replace(opt, candidate=replace(c, name=local_names.get(str(path)) or c.name)))
    for entry in catalog:
        target = _target_ctx(ctx, entry.n_ctx_train)
        for quant in entry.quants:
            if not quant_quality(quant).known:
                continue
            on_disk = local.pop((entry.name, quant), None)
            options.append(on_disk or best_option(budget, entry, quant, target, fixed_ctx=ctx is not None,
                                                  calibration=calibration))
    return options + list(local.values())


def _alternatives(choice: Option, options: list[Option], budget: Budget, catalog: Catalog,
                  calibration: Calibration, rank: Callable[[Option], tuple]) -> list[Candidate]:
    """Next quant up and down of the chosen model, the next bigger model and the best smaller one.
    A quant of the chosen model that fits nowhere is shown at the chosen context and KV type."""
    c = choice.candidate
    same = sorted((o for o in options if o.candidate.name == c.name), key=lambda o: o.candidate.quality.kld)
    i = next(k for k, o in enumerate(same) if o is choice)
    picks: list[tuple[Option | None, str]] = [
        (same[i - 1] if i > 0 else None, "higher quality"),
        (same[i + 1] if i + 1 < len(same) else None, "lower quant"),
    ]
    others = [o for o in options if o.candidate.name != c.name]
    bigger = [o for o in others
              if o.candidate.rank_params_b > c.rank_params_b and o.candidate.quality.tier == 2]
    if bigger:
        size = min(o.candidate.rank_params_b for o in bigger)
        # the next size up at its leanest good quant (usually Q4_K_M): the fairest comparison
        nearest = [o for o in bigger if o.candidate.rank_params_b == size]
        picks.append((min(nearest, key=lambda o: (not o.candidate.fits, o.candidate.footprint.total_bytes)),
                      "bigger model"))
    smaller = [o for o in others if o.candidate.rank_params_b < c.rank_params_b and o.candidate.fits]
    if smaller:
        picks.append((max(smaller, key=rank), "next best, smaller"))
    result = []
    for o, note in picks:
        if o is None:
            continue
        alt = o.candidate
        if not alt.fits and alt.name == c.name and alt.local_path is None:
            entry = catalog.get(c.name)
            if entry is not None:
                alt = evaluate(budget, entry, alt.quant, ctx=c.ctx, kv_type=c.kv_type,
                               calibration=calibration)
        result.append(replace(alt, note=note))
    return result


def recommend(profile: HardwareProfile | Budget, *, ctx: int | None = None,
              catalog: Catalog | None = None, local_files: Sequence[str | Path] = (),
              local_names: Mapping[str, str] | None = None,
              calibration: Calibration, prefer: str | None = None,
              download_budget_bytes: int | None = None,
              download_bps: float | None = None) -> Recommendation:
    """The best model for ``profile`` (the probe's, or ``hypothetical_profile(...)``).

    ``ctx``: a context length to plan for exactly (default: 8k, shrunk if needed);
    ``catalog``: defaults to localchat's; ``local_files``: GGUF files already on disk, ranked too
    (a model on disk wins a tie, and with an empty catalog this ranks the files alone, offline);
    ``local_names``: what people call those files (by path) when the catalog does not know them.
    ``calibration``: this machine's corrections and measured speeds (``CalibrationStore.load()``;
    ``Calibration()`` for none).
    ``prefer``: "balanced" (default), "faster" or "quality" (policy.py).
    ``download_budget_bytes``: the first run's limit: an option to download that is larger loses to
    one within it (or on disk) and is listed as an alternative with its download time at
    ``download_bps`` (default: an assumed 100 Mbit/s).
    Never raises for a machine that is too small: the Recommendation then has no choice and says why.
    """
    budget = profile if isinstance(profile, Budget) else budget_for(profile)
    catalog = catalog if catalog is not None else load_catalog()
    policy = policy_for(prefer)
    options = _options(budget, catalog, ctx, local_files, calibration, local_names or {})
    warnings = list(budget.warnings)
    fitting = [o for o in options if o.candidate.fits]
    if not fitting:
        return Recommendation(None, [], no_fit_explanation(budget, [o.candidate for o in options]), warnings)
    pool = [o for o in fitting if o.headroom] or fitting
    floor = policy.floor([o.candidate for o in pool])

    def rank(o: Option) -> tuple:
        return o.key(policy, floor)

    unlimited = max(fitting, key=rank)
    best = unlimited
    if download_budget_bytes is not None:
        small = [o for o in fitting
                 if o.candidate.local_path or o.candidate.file_bytes <= download_budget_bytes]
        if small:
            best = max(small, key=rank)
    choice = best.candidate
    if choice.quality.warning:
        warnings.append(choice.quality.warning)
    if choice.context_warning():
        warnings.append(choice.context_warning())
    if choice.est_tps < MIN_CHAT_TPS:
        warnings.append(f"nothing in the catalog reaches {MIN_CHAT_TPS:.0f} tokens/s here; "
                        f"{choice.label} is estimated at {choice.est_tps:.1f}")
    alternatives = _alternatives(best, options, budget, catalog, calibration, rank)
    bps = download_bps or ASSUMED_DOWNLOAD_BPS
    download_note = ""
    if best is not unlimited:
        big = unlimited.candidate
        same = [a for a in alternatives if (a.label, a.ctx, a.kv_type) == (big.label, big.ctx, big.kv_type)]
        alternatives = [a for a in alternatives if a not in same]  # listed once, for its download
        alternatives.insert(0, replace(big, note="bigger download"))
        how = "measured" if download_bps else "an assumed 100 Mbit/s"
        download_note = (f"{big.label} would rank higher but is a {fmt_bytes(big.file_bytes)} download "
                         f"(about {download_minutes(big.file_bytes, bps):.0f} min at {how}); "
                         f"{choice.label} is {fmt_bytes(choice.file_bytes)} "
                         f"(about {max(1, round(download_minutes(choice.file_bytes, bps)))} min), so the "
                         "first chat starts sooner. The bigger one is listed below.")
    text = explain(choice, alternatives, budget, policy=policy, floor=floor, headroom=best.headroom)
    if download_note:
        text += " " + download_note
    return Recommendation(choice, alternatives, text, warnings)


def candidates_for(profile: HardwareProfile | Budget, ctx: int | None = None, *, kv_type: str = "f16",
                   catalog: Catalog | None = None, calibration: Calibration) -> list[Candidate]:
    """Every catalog model × quant at ``ctx`` (default 8k, capped at the model's trained context)
    with the most GPU layers that fit: the rows of the model menu, biggest model first."""
    budget = profile if isinstance(profile, Budget) else budget_for(profile)
    catalog = catalog if catalog is not None else load_catalog()
    rows = []
    for entry in catalog:
        for quant in entry.quants:
            if quant_quality(quant).known:
                rows.append(evaluate(budget, entry, quant, ctx=_target_ctx(ctx, entry.n_ctx_train),
                                     kv_type=kv_type, calibration=calibration))
    return sorted(rows, key=lambda c: (-c.rank_params_b, c.quality.kld))
