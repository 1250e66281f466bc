"""``evaluate``: one model, one quant, one setting on one machine → a ``Candidate``.

The model menu calls it again as the user changes the context, GPU layers or KV cache type.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from localchat.gguffile import read_header
from localchat.ggufmeta import GGUFHeader, quant_label_from_filename
from localchat.hardware.profile import HardwareProfile
from localchat.recommend.calibration import Calibration, Correction, model_key
from localchat.recommend.candidate import Candidate, Fit
from localchat.recommend.catalog import CatalogEntry
from localchat.recommend.footprint import Footprint, ModelShape, footprint
from localchat.recommend.profiles import Budget, budget_for
from localchat.recommend.quants import quant_quality
from localchat.recommend.shape import shape_from_entry, shape_from_header
from localchat.recommend.speed import estimate_tps

_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def merge_split_headers(headers: list[GGUFHeader]) -> GGUFHeader:
    """One header for a model split over several files (``-0000i-of-0000N.gguf``): the metadata
    of the first part and the tensors of all of them."""
    first = headers[0]
    tensors = tuple(t for h in headers for t in h.tensors)
    return GGUFHeader(first.version, first.metadata, tensors, first.header_bytes, first.alignment)


def read_local_header(path: str | Path) -> tuple[GGUFHeader, int]:
    """The header of a local GGUF (all parts of a split model) and the bytes on disk."""
    path = Path(path).expanduser()
    m = _SPLIT.search(path.name)
    if not m:
        return read_header(path), path.stat().st_size
    count = int(m.group(2))
    parts = [path.with_name(_SPLIT.sub(f"-{i:05d}-of-{count:05d}.gguf", path.name))
             for i in range(1, count + 1)]
    headers = [read_header(p) for p in parts]  # a missing part is a ModelFileError naming it
    return merge_split_headers(headers), sum(p.stat().st_size for p in parts)


def load_shape(path: str | Path) -> tuple[ModelShape, str, str]:
    """(shape, model name, quant label) of a local GGUF file."""
    header, _size = read_local_header(path)
    name = header.name or Path(path).stem
    return shape_from_header(header), name, header.quant or quant_label_from_filename(str(path))


def _placement(shape: ModelShape, budget: Budget, ctx: int, kv_type: str, flash_attn: bool,
               correction: Correction, n_gpu_layers: int | None) -> tuple[int, Footprint, Fit]:
    def at(ngl: int) -> Footprint:
        raw = footprint(shape, ctx, kv_type=kv_type, flash_attn=flash_attn, n_gpu_layers=ngl,
                        gpu_backend=budget.gpu_backend if budget.has_gpu else None)
        return correction.apply(raw)

    def fits(fp: Footprint) -> bool:
        return budget.fits(fp.gpu.total_bytes, fp.cpu.total_bytes)

    full = shape.n_layers + 1
    if n_gpu_layers is None:
        if budget.has_gpu:
            # the GPU share grows with every layer moved there: find the most that fit
            lo, hi = 0, full
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if at(mid).gpu.total_bytes <= budget.gpu_bytes:
                    lo = mid
                else:
                    hi = mid - 1
            ngl = lo
        else:
            ngl = 0
    else:
        ngl = max(0, min(n_gpu_layers if n_gpu_layers >= 0 else full, full)) if budget.has_gpu else 0
    fp = at(ngl)
    if not fits(fp):
        if n_gpu_layers is None and budget.has_gpu:
            ngl, fp = full, at(full)  # show what running it all on the GPU would take
        return ngl, fp, "none"
    fit: Fit = "gpu" if ngl >= full else "partial" if ngl > 0 else "cpu"
    return ngl, fp, fit


def evaluate(profile: HardwareProfile | Budget, entry_or_header: CatalogEntry | GGUFHeader,
             quant: str | None = None, *, ctx: int, kv_type: str = "f16",
             n_gpu_layers: int | None = None, flash_attn: bool | None = None,
             calibration: Calibration, local_path: str | None = None,
             file_bytes: int | None = None, shape: ModelShape | None = None) -> Candidate:
    """One model at one setting on one machine.

    ``entry_or_header``: a catalog entry (sizes estimated from its figures and ``quant``'s bits per
    weight) or a GGUF header (exact; ``quant`` defaults to the header's). ``n_gpu_layers`` None
    picks the most layers that fit the GPU (-1: all). ``flash_attn`` None: on (it shrinks the
    compute buffer; a quantized KV cache needs it anyway). ``calibration``: this machine's
    corrections and measured speeds (``Calibration()``: none). ``shape``: size this instead of the
    header's (another quant of the same model, scaled from it: ``recommend.shape.scaled_to``).
    """
    budget = profile if isinstance(profile, Budget) else budget_for(profile)
    if isinstance(entry_or_header, CatalogEntry):
        entry = entry_or_header
        label = (quant or "Q4_K_M").upper()
        shape = shape_from_entry(entry, label)
        name, repo, params, rank = entry.name, entry.repo, entry.params_b, entry.rank_params_b
        size = file_bytes or shape.weights_bytes
    else:
        header = entry_or_header
        label = (quant or header.quant or "").upper()
        shape = shape or shape_from_header(header)
        name, repo = header.name or (Path(local_path).stem if local_path else "model"), ""
        params = _params_b(header)
        rank = params * (shape.active_fraction ** 0.5)  # MoE: see CatalogEntry.rank_params_b
        size = file_bytes or header.expected_file_bytes
    fa = True if flash_attn is None else flash_attn or kv_type != "f16"
    key = model_key(name, label)
    correction = calibration.for_model(key, shape.architecture)
    ngl, fp, fit = _placement(shape, budget, ctx, kv_type, fa, correction, n_gpu_layers)
    measured_tps = calibration.speed_for(key, ngl)  # this model, placed so, has run here
    on_gpu = fit in ("gpu", "partial") or (fit == "none" and ngl > 0)
    return Candidate(
        name=name, repo=repo, quant=label, file_bytes=int(size), ctx=ctx, n_gpu_layers=ngl,
        n_layers=shape.n_layers, kv_type=kv_type, flash_attn=fa, footprint=fp, fit=fit,
        est_tps=measured_tps or estimate_tps(shape, ngl, budget), quality=quant_quality(label),
        budget_bytes=budget.gpu_bytes if on_gpu and not budget.unified else budget.ram_bytes,
        local_path=local_path, exact=shape.exact, params_b=params, rank_params_b=rank,
        gpu_budget_bytes=budget.gpu_bytes, ram_budget_bytes=budget.ram_bytes,
        gpu_backend=budget.gpu_backend, unified=budget.unified,
        calibrated=not correction.is_identity, tps_measured=measured_tps is not None,
        n_ctx_train=shape.n_ctx_train,
    )


def _params_b(header: GGUFHeader) -> float:
    return sum(t.n_elements for t in header.tensors) / 1e9


def evaluate_file(profile: HardwareProfile | Budget, path: str | Path, *, ctx: int, kv_type: str = "f16",
                  n_gpu_layers: int | None = None, flash_attn: bool | None = None,
                  calibration: Calibration) -> Candidate:
    """A local GGUF file (split models: any part) at one setting: exact sizes from its header."""
    header, size = read_local_header(path)
    candidate = evaluate(profile, header, None, ctx=ctx, kv_type=kv_type, n_gpu_layers=n_gpu_layers,
                         flash_attn=flash_attn, calibration=calibration, local_path=str(path),
                         file_bytes=size)
    if not candidate.quant:
        candidate = replace(candidate, quant=quant_label_from_filename(str(path)),
                            quality=quant_quality(quant_label_from_filename(str(path))))
    return candidate
