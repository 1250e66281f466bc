"""Learn from what llama.cpp really allocated and how fast it ran: the ``Calibration`` value.

After a model loads, the engine reports the buffer sizes llama.cpp logged (ModelInfo's
``allocated_*_bytes``). ``Calibration.with_allocation`` compares them with the prediction for the
same file and settings and keeps the ratio per component (weights, KV cache, compute) under the
model's key and its catalog name. ``evaluate`` multiplies its prediction by the stored ratios: the
model's own when it has been loaded before, else the median of its architecture's.

After a reply, ``Calibration.with_speed`` keeps the generation tokens/s the engine measured for
the model at its GPU layers: only replies that ran their course (not stopped, not failed) with at
least ``SPEED_MIN_TOKENS`` generated tokens count, and the figure is the mean over the last
``SPEED_WINDOW`` of them. ``evaluate`` then shows it instead of the bandwidth estimate for the
same model and placement.

A plain value, no I/O: ``calibration_store.CalibrationStore`` keeps it in ``calibration.json`` and
callers pass the one they loaded (``Calibration()`` is none at all).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any

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


def speed_counts(completion_tokens: int, finish_reason: str) -> bool:
    """Whether a reply's generation speed is a measurement worth keeping (or comparing)."""
    return finish_reason in SPEED_FINISHES and completion_tokens >= SPEED_MIN_TOKENS


def _ratio(actual: int, predicted: int) -> float | None:
    if actual <= 0 or predicted <= 0:
        return None
    ratio = actual / predicted
    return ratio if RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1] else None


@dataclass(frozen=True)
class Calibration:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    speeds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: object) -> Calibration:
        """The rows of ``data`` (calibration.json's content) that make sense; none when it is
        not what the file holds."""
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            return cls()
        models = data["models"]
        good = {k: v for k, v in models.items()
                if isinstance(v, dict) and all(isinstance(v.get(c), int | float) for c in COMPONENTS)}
        speeds = data.get("speeds")
        speeds = speeds if isinstance(speeds, dict) else {}
        good_speeds = {k: v for k, v in speeds.items()
                       if isinstance(v, dict) and isinstance(v.get("tps"), int | float) and v["tps"] > 0
                       and isinstance(v.get("ngl"), int)}
        return cls(good, good_speeds)

    def to_data(self) -> dict[str, Any]:
        return {"models": self.models, "speeds": self.speeds}

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

    def with_allocation(self, keys: list[str], architecture: str, predicted: Footprint, *,
                        weights_bytes: int, kv_bytes: int, compute_bytes: int,
                        now: float) -> tuple[Calibration, Correction]:
        """This calibration with the actual/predicted ratios of one load under each of ``keys``
        (a running mean over loads), and the correction now stored.

        ``predicted`` must be the uncorrected prediction for the settings the model was loaded
        with. Components llama.cpp did not report (0) keep their previous ratio."""
        models = dict(self.models)
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
            row.update(arch=architecture, samples=n + 1, updated=now)
            models[key] = row
            result = Correction(row["weights"], row["kv"], row["compute"], row["samples"])
        return Calibration(models, self.speeds), result

    def with_speed(self, keys: list[str], n_gpu_layers: int, gen_tps: float, *, n_threads: int,
                   now: float) -> tuple[Calibration, float]:
        """This calibration with one counted reply's generation speed under each of ``keys`` at
        ``n_gpu_layers`` (a mean over the last ``SPEED_WINDOW`` replies at that placement; another
        placement starts afresh), and the mean now stored."""
        speeds = dict(self.speeds)
        tps = gen_tps
        for key in keys:
            row = speeds.get(key) or {}
            same = row.get("ngl") == n_gpu_layers
            n = int(row.get("samples", 0)) if same else 0
            tps = (float(row["tps"]) * n + gen_tps) / (n + 1) if n else gen_tps
            speeds[key] = {"tps": round(tps, 2), "ngl": n_gpu_layers, "samples": min(n + 1, SPEED_WINDOW),
                           "replies": int(row.get("replies", n)) + 1 if same else 1,
                           "threads": n_threads, "updated": now}
        return Calibration(self.models, speeds), tps
