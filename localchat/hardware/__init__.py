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

__all__ = ["CpuInfo", "DiskInfo", "GpuDevice", "HardwareProfile", "LlamaBuildInfo", "MemoryInfo"]
