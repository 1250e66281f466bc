"""Hardware probe: what this machine has and what this llama.cpp build can use.

No textual, no llama_cpp at import time (the llama.cpp build is inspected lazily).
"""

from localchat.hardware.profile import (
    CpuInfo,
    DiskInfo,
    GpuDevice,
    HardwareProfile,
    LlamaBuildInfo,
    MemoryInfo,
)


def probe(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See localchat.hardware.probe.probe (imported lazily: psutil and numpy load on use)."""
    from localchat.hardware.probe import probe as _probe

    return _probe(*args, **kwargs)


__all__ = ["probe", "CpuInfo", "DiskInfo", "GpuDevice", "HardwareProfile", "LlamaBuildInfo", "MemoryInfo"]
