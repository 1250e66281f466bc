"""``probe()``: one HardwareProfile of this machine, in well under a second.

Every step degrades to "unknown" with a note instead of failing, so a broken NVML or an
unreadable cgroup file never stops localchat.
"""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable
from pathlib import Path

from localchat.hardware.cpu import probe_cpu
from localchat.hardware.gpus import probe_gpus, sysctl_reader
from localchat.hardware.memory import probe_memory
from localchat.hardware.profile import DiskInfo, GpuDevice, HardwareProfile, LlamaBuildInfo


def _default_build_info() -> LlamaBuildInfo:
    # The one upward call in this package: only localchat.engine may import llama_cpp, so the
    # build is inspected there, lazily, and only when a real probe asks.
    from localchat.engine.buildinfo import llama_build_info

    return llama_build_info()


def disk_info(path: Path) -> DiskInfo:
    """Free space on the file system that holds ``path`` (or its nearest existing parent)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return DiskInfo(path=str(path), free_bytes=int(usage.free), total_bytes=int(usage.total))


def with_reinstall_hint(build: LlamaBuildInfo, gpus: list[GpuDevice]) -> LlamaBuildInfo:
    """When the machine has a GPU this build cannot use, say how to rebuild for it."""
    from dataclasses import replace

    from localchat.engine.buildinfo import reinstall_command  # pure string, no llama_cpp

    usable = {b for b in build.backends if b != "cpu"} if build.gpu_offload else set()
    for gpu in gpus:
        if gpu.backend not in usable:
            return replace(build, reinstall_command=reinstall_command(gpu.backend))
    return build


def probe(models_dir: Path | None = None, measure_bandwidth: bool = True,
          build_info: Callable[[], LlamaBuildInfo] | None = None) -> HardwareProfile:
    from dataclasses import replace

    from localchat import paths

    notes: list[str] = []
    cpu = probe_cpu(sysctl=sysctl_reader if platform.system() == "Darwin" else None, notes=notes)
    memory = probe_memory(notes=notes)
    gpus = probe_gpus(memory.available_bytes, notes)
    if measure_bandwidth:
        from localchat.hardware.bandwidth import measure_bandwidth_gbps

        try:
            memory = replace(memory, bandwidth_gbps=round(measure_bandwidth_gbps(), 1))
        except (ImportError, MemoryError) as exc:
            notes.append(f"memory: bandwidth not measured ({exc})")
    try:
        build = (build_info or _default_build_info)()
    except (ImportError, OSError, AttributeError) as exc:
        notes.append(f"llama.cpp: build unknown ({exc})")
        build = LlamaBuildInfo()
    build = with_reinstall_hint(build, gpus)
    try:
        disk = disk_info(models_dir or paths.hf_hub_cache())
    except OSError as exc:
        notes.append(f"disk: free space unknown ({exc.strerror})")
        disk = None
    return HardwareProfile(cpu=cpu, memory=memory, gpus=tuple(gpus), llama_cpp=build, disk=disk,
                           os=f"{platform.system()} {platform.release()}", notes=tuple(notes))
