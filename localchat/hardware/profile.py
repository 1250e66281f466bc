"""The typed hardware profile every other layer takes as input.

It is plain data: the recommender runs on the probe's profile or on a hypothetical one
(``localchat recommend --ram 16 --gpu cuda --vram 12``). ``to_dict()`` is the JSON shape of
``localchat probe --json``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

GpuBackend = Literal["cuda", "metal", "rocm", "vulkan"]


@dataclass(frozen=True)
class CpuInfo:
    brand: str
    arch: str  # "x86_64", "arm64", ...
    physical_cores: int
    logical_cores: int
    flags: tuple[str, ...] = ()  # lower-case SIMD features llama.cpp uses, e.g. "avx2"


@dataclass(frozen=True)
class MemoryInfo:
    total_bytes: int
    available_bytes: int
    swap_total_bytes: int = 0
    swap_free_bytes: int = 0
    cgroup_limit_bytes: int | None = None  # a container's memory limit, when one applies
    bandwidth_gbps: float | None = None  # measured RAM read bandwidth (GB/s, 1e9)


@dataclass(frozen=True)
class GpuDevice:
    backend: GpuBackend
    name: str
    total_bytes: int
    free_bytes: int
    index: int = 0
    compute_capability: str | None = None  # CUDA "8.9"
    driver_version: str | None = None
    unified_memory: bool = False  # Apple Silicon: the GPU shares RAM
    budget_rule: str = ""  # how total_bytes was found, e.g. "Metal recommendedMaxWorkingSetSize"
    bandwidth_gbps: float | None = None


@dataclass(frozen=True)
class LlamaBuildInfo:
    version: str = ""
    gpu_offload: bool = False
    system_info: str = ""
    backends: tuple[str, ...] = ()  # e.g. ("cpu",), ("cuda", "cpu")
    # set when the machine has a GPU this build cannot use
    reinstall_command: str | None = None
    rpc: bool = False  # built with llama.cpp's RPC backend (pooled memory, `localchat worker`)
    rpc_reinstall_command: str | None = None  # set when it was not: how to rebuild it with RPC


@dataclass(frozen=True)
class RpcWorkerInfo:
    """A llama.cpp RPC worker's memory, as it reports it (``localchat probe --rpc``)."""

    endpoint: str  # host:port
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class DiskInfo:
    path: str
    free_bytes: int
    total_bytes: int = 0


@dataclass(frozen=True)
class HardwareProfile:
    cpu: CpuInfo
    memory: MemoryInfo
    gpus: tuple[GpuDevice, ...] = ()
    llama_cpp: LlamaBuildInfo = field(default_factory=LlamaBuildInfo)
    disk: DiskInfo | None = None
    os: str = ""
    notes: tuple[str, ...] = ()  # parts that degraded to "unknown", and why
    hypothetical: bool = False  # built from --ram/--vram/--gpu, not probed
    rpc_workers: tuple[RpcWorkerInfo, ...] = ()  # the pool's other machines (--rpc)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["cpu"]["flags"] = list(self.cpu.flags)
        data["gpus"] = [dataclasses.asdict(g) for g in self.gpus]
        data["llama_cpp"]["backends"] = list(self.llama_cpp.backends)
        data["notes"] = list(self.notes)
        data["rpc_workers"] = [dataclasses.asdict(w) for w in self.rpc_workers]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HardwareProfile:
        cpu = dict(data["cpu"])
        cpu["flags"] = tuple(cpu.get("flags", ()))
        llama = dict(data.get("llama_cpp") or {})
        llama["backends"] = tuple(llama.get("backends", ()))
        disk = data.get("disk")
        return cls(
            cpu=CpuInfo(**cpu),
            memory=MemoryInfo(**data["memory"]),
            gpus=tuple(GpuDevice(**g) for g in data.get("gpus", ())),
            llama_cpp=LlamaBuildInfo(**llama),
            disk=DiskInfo(**disk) if disk else None,
            os=data.get("os", ""),
            notes=tuple(data.get("notes", ())),
            hypothetical=bool(data.get("hypothetical", False)),
            rpc_workers=tuple(RpcWorkerInfo(**w) for w in data.get("rpc_workers", ())),
        )
