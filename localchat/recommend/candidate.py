"""``Candidate`` (one model × quant × settings, with its memory and speed) and ``Recommendation``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from localchat.recommend.footprint import Footprint
from localchat.recommend.quants import QuantQuality
from localchat.recommend.speed import tps_range, tps_text
from localchat.units import fmt_bytes

Fit = Literal["gpu", "partial", "cpu", "none", "remote"]


def ctx_words(ctx: int) -> str:
    return f"{ctx // 1024}k" if ctx % 1024 == 0 else str(ctx)


@dataclass(frozen=True)
class Candidate:
    """One way to run one model on one machine.

    ``n_gpu_layers`` counts like llama.cpp's: n_layers + 1 puts every layer and the output head on
    the GPU; 0 runs on the CPU. ``fit``: "gpu" (all on the GPU), "partial" (split), "cpu" (all
    in RAM), "none" (does not fit: the footprint then shows what it would need), "remote" (it runs
    on a server: no footprint here).
    ``budget_bytes``: the memory the fit was judged against (GPU free memory for gpu/partial,
    RAM available minus 1 GiB headroom otherwise). ``exact``: sizes from the GGUF header (True)
    or estimated from the catalog's architecture figures (False).
    """

    name: str
    repo: str
    quant: str
    file_bytes: int
    ctx: int
    n_gpu_layers: int
    n_layers: int
    kv_type: str
    flash_attn: bool
    footprint: Footprint
    fit: Fit
    est_tps: float
    quality: QuantQuality
    budget_bytes: int
    local_path: str | None = None
    exact: bool = False
    params_b: float = 0.0
    rank_params_b: float = 0.0
    gpu_budget_bytes: int = 0
    ram_budget_bytes: int = 0
    gpu_backend: str | None = None
    unified: bool = False
    calibrated: bool = False
    tps_measured: bool = False  # est_tps is what replies from this model measured here
    note: str = ""  # why this alternative is shown ("higher quality", "bigger model", ...)
    n_ctx_train: int = 0  # the context the model was trained for (0: unknown)

    @property
    def fits(self) -> bool:
        return self.fit != "none"

    @property
    def label(self) -> str:
        return f"{self.name} {self.quant}"

    @property
    def free_after_bytes(self) -> int:
        """Memory left in the tighter of the budgets used (negative: the shortfall)."""
        fp = self.footprint
        if self.unified:
            return self.ram_budget_bytes - fp.total_bytes
        ram_left = self.ram_budget_bytes - fp.cpu.total_bytes
        if self.n_gpu_layers > 0:
            return min(self.gpu_budget_bytes - fp.gpu.total_bytes, ram_left)
        return ram_left

    @property
    def device(self) -> str:
        """Where offloaded layers go: "GPU", or "workers" for a pool of llama.cpp RPC workers."""
        return "workers" if self.gpu_backend == "rpc" else "GPU"

    def where(self) -> str:
        if self.fit == "gpu":
            return self.device
        if self.fit == "partial":
            return f"{self.device} {self.n_gpu_layers}/{self.n_layers + 1} layers + CPU"
        if self.fit == "cpu":
            return "CPU"
        if self.fit == "remote":
            return "on a server"
        return "does not fit"

    def where_short(self) -> str:
        """``where()`` for a table column: "GPU 22/29 + CPU"."""
        if self.fit == "partial":
            return f"{self.device} {self.n_gpu_layers}/{self.n_layers + 1} + CPU"
        return self.where()

    @property
    def tps_text(self) -> str:
        """The speed for a table cell: "112" as measured here, "60–90" where it is an estimate."""
        return tps_text(self.est_tps, self.tps_measured) if self.fits else "—"

    def ctx_short(self) -> str:
        """The context and a quantized KV cache, for a table column: "8k", "4k q8_0"."""
        return ctx_words(self.ctx) + ("" if self.kv_type == "f16" else f" {self.kv_type}")

    def summary(self) -> str:
        """The memory arithmetic in words: "Llama-3.2-3B-Instruct Q4_K_M, 8k context: 1.9 GiB
        weights + 0.9 GiB KV cache + 0.3 GiB compute + 0.3 GiB overhead = 3.4 GiB of 5.1 GiB
        free on the GPU"."""
        fp = self.footprint
        head = f"{self.label}, {ctx_words(self.ctx)} context"
        if self.kv_type != "f16":
            head += f" ({self.kv_type} KV cache)"
        weights = f"{fmt_bytes(fp.weights_bytes)} weights"
        parts = (f"{weights} + {fmt_bytes(fp.kv_bytes)} KV cache + "
                 f"{fmt_bytes(fp.compute_bytes)} compute + {fmt_bytes(fp.overhead_bytes)} overhead "
                 f"= {fmt_bytes(fp.total_bytes)}")
        if self.fit == "partial":
            return (f"{head}: {parts}, split {fmt_bytes(fp.gpu.total_bytes)} on the {self.device} (of "
                    f"{fmt_bytes(self.gpu_budget_bytes)} free, {self.n_gpu_layers} of "
                    f"{self.n_layers + 1} layers) + {fmt_bytes(fp.cpu.total_bytes)} in RAM (of "
                    f"{fmt_bytes(self.ram_budget_bytes)} available)")
        if self.unified:
            return f"{head}: {parts} of {fmt_bytes(self.ram_budget_bytes)} available (unified memory)"
        if self.n_gpu_layers > 0:
            return (f"{head}: {parts}: {fmt_bytes(fp.gpu.total_bytes)} on the {self.device} (of "
                    f"{fmt_bytes(self.gpu_budget_bytes)} free) + {fmt_bytes(fp.cpu.total_bytes)} in RAM")
        return f"{head}: {parts} of {fmt_bytes(self.ram_budget_bytes)} RAM available"

    @property
    def beyond_trained_ctx(self) -> bool:
        return 0 < self.n_ctx_train < self.ctx

    def context_warning(self) -> str:
        """Set when the context is longer than the model was trained for: llama.cpp runs it,
        but past the trained length the answers fall apart."""
        if not self.beyond_trained_ctx:
            return ""
        return (f"{self.label} was trained for {self.n_ctx_train:,} tokens of context, not "
                f"{self.ctx:,}: past that its answers fall apart; plan for --ctx {self.n_ctx_train} "
                "or less, or pick a model trained for longer texts")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``localchat recommend --json`` (one choice or alternative)."""
        fp = self.footprint

        def part(p: Any) -> dict[str, int]:
            return {"weights_bytes": p.weights_bytes, "kv_bytes": p.kv_bytes,
                    "compute_bytes": p.compute_bytes, "overhead_bytes": p.overhead_bytes,
                    "total_bytes": p.total_bytes}

        return {
            "model": self.name, "repo": self.repo, "quant": self.quant, "ctx": self.ctx,
            "n_gpu_layers": self.n_gpu_layers, "n_layers": self.n_layers, "kv_type": self.kv_type,
            "flash_attn": self.flash_attn, "est_tps": round(self.est_tps, 1),
            "est_tps_range": [round(x, 1) for x in tps_range(self.est_tps)] if not self.tps_measured
            else [round(self.est_tps, 1)] * 2,
            "tps_text": self.tps_text, "tps_measured": self.tps_measured, "fit": self.fit,
            "file_bytes": self.file_bytes, "budget_bytes": self.budget_bytes,
            "footprint": {**part(fp), "gpu": part(fp.gpu), "cpu": part(fp.cpu)},
            "quality": {"label": self.quality.label, "ppl_delta": self.quality.ppl_delta,
                        "kld": self.quality.kld, "same_top_p": round(self.quality.same_top_p, 1),
                        "words": self.quality.words, "warning": self.quality.warning},
            "exact": self.exact, "local_path": self.local_path, "note": self.note,
            "n_ctx_train": self.n_ctx_train,
            "summary": self.summary(),
        }


def memory_note(c: Candidate, others: Sequence[Candidate]) -> str:
    """Why ``c`` needs more memory than a larger file of the same model among ``others``, in a word
    or two for a table row ("KV f16", "8k context"); "" when no larger file needs less. (Weights
    count once: llama.cpp's repacked CPU copy replaces the file's tensors, engine/llama.py.)"""
    leaner = [o for o in others if o.name == c.name and o.file_bytes > c.file_bytes
              and o.footprint.total_bytes < c.footprint.total_bytes]
    if not leaner:
        return ""
    o = min(leaner, key=lambda o: o.footprint.total_bytes)
    if c.kv_type != o.kv_type:
        return f"KV {c.kv_type}"
    if c.ctx > o.ctx:
        return f"{ctx_words(c.ctx)} context"
    return ""  # a different placement: the "runs on" column says it


@dataclass(frozen=True)
class Recommendation:
    """The pick for a machine, with alternatives and the reasons in words.

    ``choice`` is None when nothing fits; ``explanation`` then says what the smallest model
    would need and how much memory there is.
    """

    choice: Candidate | None
    alternatives: list[Candidate] = field(default_factory=list)
    explanation: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.choice is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "choice": self.choice.to_dict() if self.choice else None,
            "alternatives": [c.to_dict() for c in self.alternatives],
            "explanation": self.explanation,
            "warnings": list(self.warnings),
        }
