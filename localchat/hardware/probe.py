"""``probe()``: one HardwareProfile of this machine, in well under a second.

Every step degrades to "unknown" with a note instead of failing, so a broken NVML or an
unreadable cgroup file never stops localchat.
"""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable
from pathlib import Path

from localchat.hardware.build import with_reinstall_hint
from localchat.hardware.cpu import probe_cpu
from localchat.hardware.gpus import probe_gpus, sysctl_reader
from localchat.hardware.memory import probe_memory
from localchat.hardware.profile import DiskInfo, HardwareProfile, LlamaBuildInfo


def disk_info(path: Path) -> DiskInfo:
    """Free space on the file system that holds ``path`` (or its nearest existing parent)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return DiskInfo(path=str(path), free_bytes=int(usage.free), total_bytes=int(usage.total))


def probe(*, build_info: Callable[[], LlamaBuildInfo], models_dir: Path | None = None,
          measure_bandwidth: bool = True) -> HardwareProfile:
    """``build_info``: what the llama-cpp-python build can do, asked of llama_cpp, which only the
    engine imports (``engine.buildinfo.llama_build_info``, or ``llama_build_info_in_child`` for a
    process that must not import it)."""
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
        build = build_info()
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
