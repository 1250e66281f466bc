"""GPUs: NVIDIA through NVML, Apple Silicon through sysctl, AMD through sysfs.

Each reader takes its OS boundary as a parameter (the pynvml module, a sysctl reader, a sysfs
root) so tests feed it values recorded on real machines. A missing driver means no GPU of that
kind; a driver that fails part-way is a note, never a crash.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from localchat.hardware.profile import GpuDevice

GIB = 1 << 30


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def nvidia_gpus(nvml: ModuleType | Any | None, notes: list[str]) -> list[GpuDevice]:
    """NVIDIA devices via NVML (``pynvml`` from nvidia-ml-py); [] when there is no driver."""
    if nvml is None:
        return []
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        # no libnvidia-ml / no driver: simply no NVIDIA GPU; anything else is worth a note
        if type(exc).__name__ not in ("NVMLError_LibraryNotFound", "NVMLError_DriverNotLoaded"):
            notes.append(f"cuda: NVML failed to start ({exc}); NVIDIA GPUs unknown")
        return []
    devices: list[GpuDevice] = []
    try:
        driver = _text(nvml.nvmlSystemGetDriverVersion())
        for i in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
            devices.append(GpuDevice(
                backend="cuda", name=_text(nvml.nvmlDeviceGetName(handle)), index=i,
                total_bytes=int(mem.total), free_bytes=int(mem.free),
                compute_capability=f"{major}.{minor}", driver_version=driver,
                budget_rule="NVML free memory",
            ))
    except nvml.NVMLError as exc:
        notes.append(f"cuda: NVML failed while reading devices ({exc}); list may be incomplete")
    finally:
        with contextlib.suppress(nvml.NVMLError):
            nvml.nvmlShutdown()
    return devices


def load_nvml() -> ModuleType | None:
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def sysctl_reader(name: str) -> str | None:
    """Read one sysctl value on macOS (with a timeout, so it can never hang the probe)."""
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=1)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def metal_budget(ram_bytes: int, wired_limit_mb: int | None) -> tuple[int, str]:
    """Metal's GPU working-set budget on Apple Silicon, and the rule that gave it.

    macOS lets the GPU wire about 2/3 of unified memory below 36 GiB and 3/4 above (its
    recommendedMaxWorkingSetSize; llama.cpp logs 5.7 GB on 8 GB Macs and 21.8 GB on 32 GB);
    ``sudo sysctl iogpu.wired_limit_mb=N`` raises it, and then N is the budget."""
    if wired_limit_mb:
        return wired_limit_mb * (1 << 20), f"iogpu.wired_limit_mb = {wired_limit_mb}"
    if ram_bytes < 36 * GIB:
        return ram_bytes * 2 // 3, "Metal default: 2/3 of RAM (below 36 GiB)"
    return ram_bytes * 3 // 4, "Metal default: 3/4 of RAM (36 GiB and up)"


def apple_gpus(sysctl: Any, available_bytes: int, notes: list[str]) -> list[GpuDevice]:
    """The Apple Silicon GPU (unified memory) from sysctl values; [] on Intel Macs."""
    if (sysctl("hw.optional.arm64") or "0") != "1":
        return []
    memsize = sysctl("hw.memsize")
    if not memsize:
        notes.append("metal: sysctl hw.memsize unreadable; GPU memory unknown")
        return []
    ram = int(memsize)
    wired_raw = sysctl("iogpu.wired_limit_mb")
    wired = int(wired_raw) if wired_raw and wired_raw.isdigit() and int(wired_raw) > 0 else None
    budget, rule = metal_budget(ram, wired)
    brand = sysctl("machdep.cpu.brand_string") or "Apple Silicon"
    return [GpuDevice(backend="metal", name=f"{brand} GPU", total_bytes=budget,
                      free_bytes=min(budget, available_bytes), unified_memory=True,
                      budget_rule=rule)]


def amd_gpus(sysfs_root: Path, notes: list[str]) -> list[GpuDevice]:
    """AMD cards from /sys/class/drm/card*/device (amdgpu exposes VRAM totals there)."""
    drm = sysfs_root / "sys" / "class" / "drm"
    if not drm.is_dir():
        return []
    devices: list[GpuDevice] = []
    for card in sorted(drm.glob("card[0-9]*")):
        dev = card / "device"
        total_file = dev / "mem_info_vram_total"
        if "-" in card.name or not total_file.exists():
            continue
        try:
            if (dev / "vendor").read_text().strip() != "0x1002":
                continue
            total = int(total_file.read_text())
            used_file = dev / "mem_info_vram_used"
            used = int(used_file.read_text()) if used_file.exists() else 0
            name_file = dev / "product_name"
            name = name_file.read_text().strip() if name_file.exists() else ""
        except (OSError, ValueError) as exc:
            notes.append(f"rocm: cannot read {dev} ({exc})")
            continue
        devices.append(GpuDevice(backend="rocm", name=name or f"AMD GPU ({card.name})",
                                 index=len(devices), total_bytes=total,
                                 free_bytes=max(total - used, 0), budget_rule="sysfs VRAM"))
    return devices


def probe_gpus(available_bytes: int, notes: list[str], nvml: Any = "load",
               sysctl: Any = None, sysfs_root: Path = Path("/")) -> list[GpuDevice]:
    gpus: list[GpuDevice] = []
    gpus += nvidia_gpus(load_nvml() if nvml == "load" else nvml, notes)
    if sys.platform == "darwin" or sysctl is not None:
        gpus += apple_gpus(sysctl or sysctl_reader, available_bytes, notes)
    if sys.platform.startswith("linux") or sysfs_root != Path("/"):
        gpus += amd_gpus(sysfs_root, notes)
    return gpus
