"""``CalibrationStore``: where this machine's ``Calibration`` is kept between runs (a JSON file,
``paths.calibration_file()`` for the app and the CLI), and how a load or a reply is recorded in it.

Recording reads the model's GGUF header (the prediction is recomputed from the file for the
settings it was loaded with) and the catalog (a model is also known by its catalog name).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localchat.errors import LocalChatError
from localchat.recommend.calibration import Calibration, Correction, model_key, speed_counts
from localchat.recommend.catalog import load_catalog
from localchat.recommend.evaluate import load_shape
from localchat.recommend.footprint import Footprint, ModelShape, footprint


@dataclass(frozen=True)
class CalibrationStore:
    path: Path

    def load(self) -> Calibration:
        """The stored corrections (none when the file is missing or unreadable)."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return Calibration()
        return Calibration.from_data(data)

    def save(self, calibration: Calibration) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # per thread: the load worker (allocations) and a reply worker (speed) may write at once
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(calibration.to_data(), indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def record(self, keys: list[str], architecture: str, predicted: Footprint, *, weights_bytes: int,
               kv_bytes: int, compute_bytes: int) -> Correction:
        """``Calibration.with_allocation``, stored."""
        calibration, correction = self.load().with_allocation(
            keys, architecture, predicted, weights_bytes=weights_bytes, kv_bytes=kv_bytes,
            compute_bytes=compute_bytes, now=time.time())
        self.save(calibration)
        return correction

    def record_from_info(self, info: Any, *, gpu_backend: str | None = None) -> Correction:
        """Calibrate from a loaded model's ``ModelInfo`` (plain numbers; the engine is not
        imported): the prediction is recomputed from the model file for the settings it was
        loaded with. A model pooled over RPC workers is not (its buffers are on the workers):
        the correction is returned unrecorded."""
        if getattr(info, "rpc_workers", ()):
            return Correction()
        keys, shape = _model_keys(info)
        predicted = footprint(shape, int(info.n_ctx), kv_type=info.kv_type, flash_attn=bool(info.flash_attn),
                              n_gpu_layers=int(info.n_gpu_layers), gpu_backend=gpu_backend)
        return self.record(keys, shape.architecture, predicted,
                           weights_bytes=int(info.allocated_weights_bytes),
                           kv_bytes=int(info.allocated_kv_bytes),
                           compute_bytes=int(info.allocated_compute_bytes))

    def record_speed(self, info: Any, gen_tps: float, completion_tokens: int, *,
                     finish_reason: str = "stop") -> float | None:
        """Keep the generation speed of a reply from the model in ``info`` (ModelInfo), as the
        engine timed it; returns the stored mean, or None when the reply does not count (too
        short, stopped, or no speed)."""
        if not speed_counts(completion_tokens, finish_reason) or gen_tps <= 0:
            return None
        keys, shape = _model_keys(info)
        ngl = int(info.n_gpu_layers)
        ngl = shape.n_layers + 1 if ngl < 0 or ngl > shape.n_layers else ngl  # as evaluate counts
        calibration, tps = self.load().with_speed(keys, ngl, gen_tps,
                                                  n_threads=int(getattr(info, "n_threads", 0)),
                                                  now=time.time())
        self.save(calibration)
        return tps

    def record_reply_speed(self, info: Any, stats: Any) -> None:
        """``record_speed`` of a reply's ``ReplyStats`` for the chat and ``localchat ask``, best
        effort: a model file it cannot read (a scripted test engine) or a read-only data folder
        only loses the figure. A reply from a model on a server measures that server, not this
        machine: it is not kept, nor one pooled over RPC workers (it measures the pool)."""
        if getattr(info, "host", "") or getattr(info, "rpc_workers", ()):
            return
        with contextlib.suppress(LocalChatError, OSError, ValueError):
            self.record_speed(info, stats.gen_tps, stats.completion_tokens,
                              finish_reason=stats.finish_reason)


def _model_keys(info: Any) -> tuple[list[str], ModelShape]:
    """The keys a loaded model is known by (its header's name and its catalog name), and its shape."""
    shape, name, quant = load_shape(info.path)
    keys = [model_key(name, quant)]
    entry = load_catalog().match_file(Path(info.path).name)
    if entry is not None:
        keys.append(model_key(entry.name, quant))
    return keys, shape
