"""What a quant label costs in quality, in llama.cpp's figures and in plain words.

The figures live in ``assets/quants.toml`` (cited there): llama.cpp's Llama 3 8B scoreboard of
perplexity increase, KL-divergence and same-top-token rate against the 16-bit model, and bits per
weight for offline size estimates.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from localchat.errors import NotFoundError

# "Q4_K_M or better" is the default floor (llama.cpp's quantize help calls Q4_K_M/Q4_K_S
# "recommended"); other 4-bit types are acceptable; anything smaller comes with a warning.
GOOD_ENOUGH = "Q4_K_M"
FOUR_BIT = ("Q4_K_S", "IQ4_XS", "IQ4_NL", "Q4_0", "Q4_1")
# KV cache element sizes in bytes: ggml's type sizes (f16: 2 bytes; q8_0: 34-byte blocks of 32
# values; q4_0: 18-byte blocks of 32), as in gguf.constants.GGML_QUANT_SIZES
KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


@dataclass(frozen=True)
class QuantQuality:
    """Quality cost of one quant label against the 16-bit model (llama.cpp, Llama 3 8B).

    ``ppl_delta``: perplexity increase on Wikitext-2 (lower is better); ``kld``: mean KL
    divergence; ``same_top_p``: % of positions where the top token matches the 16-bit model's
    (``same_top_measured`` says whether llama.cpp published it or it is interpolated from KLD);
    ``words``: one sentence for a newcomer; ``warning``: set for types below 4 bits.
    """

    label: str
    bpw: float
    ppl_delta: float
    kld: float
    same_top_p: float
    same_top_measured: bool
    repack_share: float = 0.0  # of layer weights llama.cpp's CPU backend keeps a repacked copy of
    known: bool = True  # False: a label localchat has no figures for (ranked last)

    @property
    def tier(self) -> int:
        """2: Q4_K_M or better; 1: another 4-bit type; 0: below 4 bits (warned about)."""
        if self.label in FOUR_BIT:
            return 1
        return 2 if self.known and self.kld <= _table()[GOOD_ENOUGH].kld else 0

    @property
    def short(self) -> str:
        """A table cell's worth of ``words``: how often it picks the 16-bit model's next word,
        "92%" (~ when interpolated from the KL divergence, ⚠ below 4 bits)."""
        if self.label in ("F16", "BF16", "F32"):
            return "100%"
        if not self.known:
            return "?"
        text = f"{'' if self.same_top_measured else '~'}{self.same_top_p:.0f}%"
        return f"{text} ⚠" if self.warning else text

    @property
    def words(self) -> str:
        if not self.known:
            return f"{self.label}: localchat has no quality figures for this type"
        about = "" if self.same_top_measured else "about "
        share = f"{about}{self.same_top_p:.0f}%"
        if self.label in ("F16", "BF16"):
            return "the original 16-bit weights: full quality, twice the size of Q8_0"
        return (f"picks the same next word as the 16-bit model {share} of the time "
                f"(perplexity +{self.ppl_delta:.2f} on Llama 3 8B)")

    @property
    def warning(self) -> str | None:
        if self.tier > 0 or not self.known:
            return None
        return (f"{self.label} is below 4 bits: answers get noticeably worse (perplexity "
                f"+{self.ppl_delta:.2f}, same top word {self.same_top_p:.0f}% of the time); "
                "use it only when nothing at Q4 fits")


@cache
def _raw() -> dict[str, dict[str, float]]:
    text = resources.files("localchat.assets").joinpath("quants.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def _table() -> dict[str, QuantQuality]:
    raw = _raw()
    measured = sorted((row["kld"], row["same_top_p"]) for row in raw.values() if "same_top_p" in row)
    table = {}
    for label, row in raw.items():
        top = row.get("same_top_p")
        table[label] = QuantQuality(
            label=label, bpw=float(row["bpw"]), ppl_delta=float(row["ppl_delta"]),
            kld=float(row["kld"]),
            same_top_p=float(top) if top is not None else _interpolate(measured, row["kld"]),
            same_top_measured=top is not None, repack_share=float(row.get("repack", 0.0)),
        )
    return table


def _interpolate(points: list[tuple[float, float]], kld: float) -> float:
    """Same-top-token % at ``kld``, linear in log(KLD) between llama.cpp's published points."""
    x = math.log(kld)
    xs = [(math.log(k), p) for k, p in points]
    if x <= xs[0][0]:
        return xs[0][1]
    for (x0, p0), (x1, p1) in zip(xs, xs[1:], strict=False):
        if x <= x1:
            return p0 + (p1 - p0) * (x - x0) / (x1 - x0)
    # beyond the last point (IQ1/IQ2): extend the last segment's slope, floored at 30%
    (x0, p0), (x1, p1) = xs[-2], xs[-1]
    return max(30.0, p1 + (p1 - p0) * (x - x1) / (x1 - x0))


def normalize_label(label: str) -> str:
    return label.strip().upper()


def quant_quality(label: str) -> QuantQuality:
    """The quality figures for a quant label (case-insensitive); unknown labels rank last."""
    key = normalize_label(label)
    table = _table()
    if key in table:
        return table[key]
    return QuantQuality(label=key, bpw=0.0, ppl_delta=math.inf, kld=math.inf, same_top_p=0.0,
                        same_top_measured=False, known=False)


def known_labels() -> list[str]:
    """Every label with figures, best quality first."""
    return sorted(_table(), key=lambda label: _table()[label].kld)


def bits_per_weight(label: str) -> float:
    quality = quant_quality(label)
    if not quality.known:
        raise NotFoundError(f"no size figures for quant type {label}",
                            f"use one of {', '.join(known_labels())}")
    return quality.bpw


def kv_bytes_per_element(kv_type: str) -> float:
    try:
        return KV_BYTES_PER_ELEMENT[kv_type]
    except KeyError:
        raise NotFoundError(f"unknown KV cache type {kv_type!r}", "use f16, q8_0 or q4_0") from None
