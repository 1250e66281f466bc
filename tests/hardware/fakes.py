"""OS-boundary stand-ins fed with values recorded on real machines.

Only the library/OS call surface is replaced (the pynvml functions, sysctl values, sysfs and
cgroup files); the probe code under test is the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class NVMLError(Exception):
    pass


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's spelling
    pass


class NVMLError_Unknown(NVMLError):  # noqa: N801
    pass


@dataclass
class _Mem:
    total: int
    free: int
    used: int


class FakeNvml:
    """pynvml's surface, answering with one machine's recorded values."""

    NVMLError = NVMLError

    def __init__(self, devices: list[dict], driver: str = "550.54.14",
                 init_error: type[Exception] | None = None, fail_at_device: int | None = None):
        self.devices, self.driver = devices, driver
        self.init_error, self.fail_at_device = init_error, fail_at_device
        self.shutdown_called = False

    def nvmlInit(self):
        if self.init_error:
            raise self.init_error("recorded failure")

    def nvmlShutdown(self):
        self.shutdown_called = True

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlDeviceGetCount(self):
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, i):
        if self.fail_at_device == i:
            raise NVMLError_Unknown("GPU is lost")
        return i

    def nvmlDeviceGetName(self, h):
        return self.devices[h]["name"]

    def nvmlDeviceGetMemoryInfo(self, h):
        d = self.devices[h]
        return _Mem(d["total"], d["free"], d["total"] - d["free"])

    def nvmlDeviceGetCudaComputeCapability(self, h):
        return self.devices[h]["cc"]


# nvidia-smi -q on the machines named; NVML reports the same figures in bytes
RTX_4090 = {"name": "NVIDIA GeForce RTX 4090", "total": 25757220864, "free": 25223495680,
            "cc": (8, 9)}
RTX_3050_LAPTOP_4GB = {"name": "NVIDIA GeForce RTX 3050 Laptop GPU", "total": 4294967296,
                       "free": 3959422976, "cc": (8, 6)}
RTX_3060_12GB = {"name": "NVIDIA GeForce RTX 3060", "total": 12884901888, "free": 12463439872,
                 "cc": (8, 6)}

# `sysctl -a` on a MacBook Air M2, 16 GB
MAC_M2_16GB = {
    "hw.optional.arm64": "1", "hw.memsize": "17179869184", "machdep.cpu.brand_string": "Apple M2",
    "hw.optional.neon": "1", "hw.optional.arm.FEAT_DotProd": "1", "hw.optional.arm.FEAT_I8MM": "1",
    "hw.optional.arm.FEAT_FP16": "1", "iogpu.wired_limit_mb": "0",
}
MAC_M1_8GB = {**MAC_M2_16GB, "hw.memsize": "8589934592", "machdep.cpu.brand_string": "Apple M1",
              "hw.optional.arm.FEAT_I8MM": "0"}


def sysctl_from(values: dict[str, str]):
    return values.get


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# a Docker container started with --memory=4g on a cgroup v2 host
CGROUP_V2_4GB = {
    "proc/self/cgroup": "0::/\n",
    "sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
    "sys/fs/cgroup/memory.max": "4294967296\n",
    "sys/fs/cgroup/memory.current": "1073741824\n",
}
# the same on a cgroup v1 host (Docker names the cgroup after the container id)
CGROUP_V1_4GB = {
    "proc/self/cgroup": "12:pids:/docker/3f2a\n5:memory:/docker/3f2a\n1:name=systemd:/docker/3f2a\n",
    "sys/fs/cgroup/memory/docker/3f2a/memory.limit_in_bytes": "4294967296\n",
    "sys/fs/cgroup/memory/docker/3f2a/memory.usage_in_bytes": "536870912\n",
}
# an unlimited v1 cgroup reports PAGE_COUNTER_MAX pages
CGROUP_V1_UNLIMITED = {
    "proc/self/cgroup": "5:memory:/user.slice\n",
    "sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes": "9223372036854771712\n",
    "sys/fs/cgroup/memory/user.slice/memory.usage_in_bytes": "536870912\n",
}
# an RX 7800 XT (16 GB) under amdgpu
AMD_RX7800XT = {
    "sys/class/drm/card1/device/vendor": "0x1002\n",
    "sys/class/drm/card1/device/mem_info_vram_total": "17163091968\n",
    "sys/class/drm/card1/device/mem_info_vram_used": "451264512\n",
    "sys/class/drm/card1/device/product_name": "Radeon RX 7800 XT\n",
    "sys/class/drm/card1-DP-1/status": "connected\n",
    "sys/class/drm/card0/device/vendor": "0x8086\n",
    "sys/class/drm/card0/device/mem_info_vram_total": "0\n",
}
