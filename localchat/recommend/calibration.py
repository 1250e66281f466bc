"""Learn from what llama.cpp really allocated: a per-model correction for the next prediction.

After a model loads, the engine reports the buffer sizes llama.cpp logged (ModelInfo's
``allocated_*_bytes``). ``record_from_info`` compares them with the prediction for the same file and
settings and keeps the ratio per component (weights, KV cache, compute) in
``calibration.json`` in the data folder, under the model's key and its catalog name. ``evaluate``
multiplies its prediction by the stored ratios: the model's own when it has been loaded before,
else the median of its architecture's.

After a reply, ``record_speed`` keeps the generation tokens/s the engine measured for the model at
its GPU layers: only replies that ran their course (not stopped, not failed) with at least
``SPEED_MIN_TOKENS`` generated tokens count, and the figure is the mean over the last
``SPEED_WINDOW`` of them. ``evaluate`` then shows it instead of the bandwidth estimate for the
same model and placement.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localchat import paths
from localchat.recommend.footprint import Footprint

# a ratio outside this range means a broken log or a different model, not a correction
RATIO_RANGE = (0.5, 2.0)
COMPONENTS = ("weights", "kv", "compute")
# A reply shorter than this says more about the first tokens (warm-up, the prompt's tail) than
# about generation speed: SmolLM2 replies of 15 and 22 tokens differed by 11% from timing noise.
SPEED_MIN_TOKENS = 64
# the mean of the last this many replies: steady, yet it follows a change of machine load
SPEED_WINDOW = 16
# replies that ran their course; "cancelled" (Esc, Ctrl-C) stopped at a moment of the user's
# choosing, and a failed reply has no stats at all
SPEED_FINISHES = ("stop", "length", "context")


@dataclass(frozen=True)
class Correction:
    weights: float = 1.0
    kv: float = 1.0
    compute: float = 1.0
    samples: int = 0

    @property
    def is_identity(self) -> bool:
        return self.samples == 0

    def apply(self, footprint: Footprint) -> Footprint:
        if self.is_identity:
            return footprint
        return footprint.scaled(self.weights, self.kv, self.compute)


def model_key(name: str, quant: str) -> str:
    return f"{re.sub(r'[^a-z0-9.]', '', name.lower())}:{quant.upper()}"


@dataclass(frozen=True)
class Calibration:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    speeds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def speed_for(self, key: str, n_gpu_layers: int) -> float | None:
        """Generation tokens/s measured for ``key`` with this many GPU layers, if it was."""
        row = self.speeds.get(key)
        if row and int(row["ngl"]) == n_gpu_layers:
            return float(row["tps"])
        return None

    def for_model(self, key: str, architecture: str) -> Correction:
        row = self.models.get(key)
        if row:
            return Correction(row["weights"], row["kv"], row["compute"], int(row.get("samples", 1)))
        same_arch = [r for r in self.models.values() if r.get("arch") == architecture]
        if not same_arch:
            return Correction()
        weights, kv, compute = (statistics.median(r[c] for r in same_arch) for c in COMPONENTS)
        return Correction(weights, kv, compute, samples=sum(int(r.get("samples", 1)) for r in same_arch))


def load_calibration(path: Path | None = None) -> Calibration:
    """The stored corrections (none when the file is missing or unreadable)."""
    path = path or paths.calibration_file()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return Calibration()
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        return Calibration()
    good = {k: v for k, v in models.items()
            if isinstance(v, dict) and all(isinstance(v.get(c), int | float) for c in COMPONENTS)}
    speeds = data.get("speeds") if isinstance(data.get("speeds"), dict) else {}
    good_speeds = {k: v for k, v in speeds.items()
                   if isinstance(v, dict) and isinstance(v.get("tps"), int | float) and v["tps"] > 0
                   and isinstance(v.get("ngl"), int)}
    return Calibration(good, good_speeds)


def _write(path: Path, calibration: Calibration) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # per thread: the load worker (allocations) and a reply worker (speed) may write at once
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps({"models": calibration.models, "speeds": calibration.speeds},
                              indent=1, sort_keys=True))
    os.replace(tmp, path)


def _ratio(actual: int, predicted: int) -> float | None:
    if actual <= 0 or predicted <= 0:
        return None
    ratio = actual / predicted
    return ratio if RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1] else None


def record(keys: list[str], architecture: str, predicted: Footprint, *, weights_bytes: int,
           kv_bytes: int, compute_bytes: int, path: Path | None = None) -> Correction:
    """Store actual/predicted ratios under each of ``keys`` (a running mean over loads).

    ``predicted`` must be the uncorrected prediction for the settings the model was loaded with.
    Components llama.cpp did not report (0) keep their previous ratio."""
    path = path or paths.calibration_file()
    stored = load_calibration(path)
    models = dict(stored.models)
    actual = {"weights": weights_bytes, "kv": kv_bytes, "compute": compute_bytes}
    guess = {"weights": predicted.weights_bytes, "kv": predicted.kv_bytes,
             "compute": predicted.compute_bytes}
    result = Correction()
    for key in keys:
        row = dict(models.get(key) or {c: 1.0 for c in COMPONENTS})
        n = int(row.get("samples", 0))
        for c in COMPONENTS:
            ratio = _ratio(actual[c], guess[c])
            if ratio is not None:
                row[c] = (row[c] * n + ratio) / (n + 1)
        row.update(arch=architecture, samples=n + 1, updated=time.time())
        models[key] = row
        result = Correction(row["weights"], row["kv"], row["compute"], row["samples"])
    _write(path, Calibration(models, stored.speeds))
    return result


def record_from_info(info: Any, *, gpu_backend: str | None = None, path: Path | None = None) -> Correction:
    """Calibrate from a loaded model's ``ModelInfo`` (plain numbers; the engine is not imported):
    the prediction is recomputed from the model file for the settings it was loaded with."""
    from localchat.recommend.footprint import footprint

    keys, shape = _model_keys(info)
    predicted = footprint(shape, int(info.n_ctx), kv_type=info.kv_type, flash_attn=bool(info.flash_attn),
                          n_gpu_layers=int(info.n_gpu_layers), gpu_backend=gpu_backend)
    return record(keys, shape.architecture, predicted, weights_bytes=int(info.allocated_weights_bytes),
                  kv_bytes=int(info.allocated_kv_bytes), compute_bytes=int(info.allocated_compute_bytes),
                  path=path)


def _model_keys(info: Any) -> tuple[list[str], Any]:
    """The keys a loaded model is known by (its header's name and its catalog name), and its shape."""
    from localchat.recommend.catalog import load_catalog
    from localchat.recommend.evaluate import load_shape

    shape, name, quant = load_shape(info.path)
    keys = [model_key(name, quant)]
    entry = load_catalog().match_file(Path(info.path).name)
    if entry is not None:
        keys.append(model_key(entry.name, quant))
    return keys, shape


def speed_counts(completion_tokens: int, finish_reason: str) -> bool:
    """Whether a reply's generation speed is a measurement worth keeping (or comparing)."""
    return finish_reason in SPEED_FINISHES and completion_tokens >= SPEED_MIN_TOKENS


def record_speed(info: Any, gen_tps: float, completion_tokens: int, *, finish_reason: str = "stop",
                 path: Path | None = None) -> float | None:
    """Keep the generation speed of a reply from the model in ``info`` (ModelInfo), as the
    engine timed it; returns the stored mean, or None when the reply does not count (too short,
    stopped, or no speed)."""
    if not speed_counts(completion_tokens, finish_reason) or gen_tps <= 0:
        return None
    path = path or paths.calibration_file()
    keys, shape = _model_keys(info)
    ngl = int(info.n_gpu_layers)
    ngl = shape.n_layers + 1 if ngl < 0 or ngl > shape.n_layers else ngl  # as evaluate counts
    stored = load_calibration(path)
    speeds = dict(stored.speeds)
    tps = gen_tps
    for key in keys:
        row = speeds.get(key) or {}
        same = row.get("ngl") == ngl
        n = int(row.get("samples", 0)) if same else 0
        tps = (float(row["tps"]) * n + gen_tps) / (n + 1) if n else gen_tps
        speeds[key] = {"tps": round(tps, 2), "ngl": ngl, "samples": min(n + 1, SPEED_WINDOW),
                       "replies": int(row.get("replies", n)) + 1 if same else 1,
                       "threads": int(getattr(info, "n_threads", 0)), "updated": time.time()}
    _write(path, Calibration(stored.models, speeds))
    return tps


def record_reply_speed(info: Any, stats: Any) -> None:
    """``record_speed`` of a reply's ``ReplyStats`` for the chat and ``localchat ask``, best
    effort: a model file it cannot read (a scripted test engine) or a read-only data folder only
    loses the figure."""
    from localchat.errors import LocalChatError

    with contextlib.suppress(LocalChatError, OSError, ValueError):
        record_speed(info, stats.gen_tps, stats.completion_tokens, finish_reason=stats.finish_reason)
