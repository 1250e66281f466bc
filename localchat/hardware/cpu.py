"""CPU: brand, architecture, cores and the SIMD features llama.cpp uses.

Linux: /proc/cpuinfo (instant). macOS: sysctl. Elsewhere, or when those fail: py-cpuinfo,
whose full probe can take a second, so it is the fallback, not the first try.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from pathlib import Path

from localchat.hardware.profile import CpuInfo

# SIMD features llama.cpp's CPU backend selects kernels by (ggml-cpu feature list)
X86_FEATURES = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16",
                "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
ARM_FEATURES = ("neon", "dotprod", "i8mm", "sve", "sve2", "fp16")

# /proc/cpuinfo spells some features differently from llama.cpp's names
_LINUX_ALIASES = {"avx512vnni": "avx512_vnni", "avx512bf16": "avx512_bf16", "avxvnni": "avx_vnni",
                  "asimd": "neon", "asimddp": "dotprod", "asimdhp": "fp16"}
# macOS sysctl hw.optional.* keys for Apple Silicon features
MAC_ARM_SYSCTLS = {"neon": "hw.optional.neon", "dotprod": "hw.optional.arm.FEAT_DotProd",
                   "i8mm": "hw.optional.arm.FEAT_I8MM", "fp16": "hw.optional.arm.FEAT_FP16",
                   "sve": "hw.optional.arm.FEAT_SVE"}

SysctlReader = Callable[[str], str | None]


def normalise_arch(machine: str) -> str:
    m = machine.lower()
    if m in ("amd64", "x86_64", "x64"):
        return "x86_64"
    if m in ("arm64", "aarch64", "armv8"):
        return "arm64"
    return m or "unknown"


def flags_from_proc_cpuinfo(text: str) -> tuple[str, str]:
    """(brand, space-separated flags) from the first processor block of /proc/cpuinfo."""
    brand, flags = "", ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not brand:
            brand = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = value.strip()
        if not line.strip() and brand and flags:
            break
    return brand, flags


def select_flags(raw: str | list[str], arch: str) -> tuple[str, ...]:
    have = {_LINUX_ALIASES.get(f.lower(), f.lower()) for f in (raw.split() if isinstance(raw, str) else raw)}
    if arch == "arm64":
        have.add("neon")  # mandatory in AArch64
    wanted = ARM_FEATURES if arch == "arm64" else X86_FEATURES
    return tuple(f for f in wanted if f in have)


def probe_cpu(proc_root: Path = Path("/"), sysctl: SysctlReader | None = None,
              machine: str | None = None, notes: list[str] | None = None) -> CpuInfo:
    import psutil

    notes = notes if notes is not None else []
    arch = normalise_arch(machine or platform.machine())
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    brand: str = ""
    flags: tuple[str, ...] = ()
    cpuinfo = proc_root / "proc" / "cpuinfo"
    if cpuinfo.exists():
        try:
            brand, raw = flags_from_proc_cpuinfo(cpuinfo.read_text(errors="replace"))
            flags = select_flags(raw, arch)
        except OSError as exc:
            notes.append(f"cpu: cannot read {cpuinfo} ({exc.strerror}); trying py-cpuinfo")
    elif sysctl is not None:
        brand = sysctl("machdep.cpu.brand_string") or ""
        if arch == "arm64":
            flags = tuple(f for f, key in MAC_ARM_SYSCTLS.items() if (sysctl(key) or "0") == "1")
        else:
            raw = " ".join(filter(None, (sysctl("machdep.cpu.features"),
                                         sysctl("machdep.cpu.leaf7_features"))))
            flags = select_flags(raw.replace(".", "_"), arch)
    if not brand or not flags:
        brand, flags = _py_cpuinfo(brand, flags, arch, notes)
    return CpuInfo(brand=brand or "unknown CPU", arch=arch, physical_cores=physical,
                   logical_cores=logical, flags=flags)


def _py_cpuinfo(brand: str, flags: tuple[str, ...], arch: str,
                notes: list[str]) -> tuple[str, tuple[str, ...]]:
    try:
        import cpuinfo

        info = cpuinfo.get_cpu_info()
    except Exception as exc:  # py-cpuinfo raises assorted errors on odd platforms
        notes.append(f"cpu: features unknown (py-cpuinfo failed: {exc})")
        return brand, flags
    return (brand or str(info.get("brand_raw", ""))), (flags or select_flags(info.get("flags", []), arch))
