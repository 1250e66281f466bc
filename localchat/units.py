"""Human-readable sizes, rates and durations (one place, so every screen agrees)."""

from __future__ import annotations

GIB = 1 << 30
MIB = 1 << 20


def fmt_bytes(n: float | None) -> str:
    """Binary units, as memory is sold and as llama.cpp logs: 1.5 GiB, 512 MiB, 3.0 KiB."""
    if n is None:
        return "unknown"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def fmt_rate(bytes_per_s: float) -> str:
    return fmt_bytes(bytes_per_s) + "/s"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
