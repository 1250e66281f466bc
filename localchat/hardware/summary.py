"""The hardware profile in words (`localchat probe` and the first-run setup screen)."""

from __future__ import annotations

from localchat.hardware.build import rpc_reinstall_command
from localchat.hardware.profile import HardwareProfile
from localchat.units import fmt_bytes


def summary(profile: HardwareProfile, *, rpc: bool = False) -> str:
    """The profile in a few aligned lines: `localchat probe` prints it, the setup screen shows it
    (``rpc``: with whether the build has RPC, and the workers asked; `localchat probe` only)."""
    cpu, mem = profile.cpu, profile.memory
    lines = [f"CPU        {cpu.brand} ({cpu.arch}), {cpu.physical_cores} physical / "
             f"{cpu.logical_cores} logical cores; {' '.join(cpu.flags) or 'no SIMD features found'}"]
    limit = f" (container limit {fmt_bytes(mem.cgroup_limit_bytes)})" if mem.cgroup_limit_bytes else ""
    bw = f"; read bandwidth {mem.bandwidth_gbps:.1f} GB/s" if mem.bandwidth_gbps else ""
    lines.append(f"Memory     {fmt_bytes(mem.total_bytes)} total{limit}, "
                 f"{fmt_bytes(mem.available_bytes)} available, swap {fmt_bytes(mem.swap_total_bytes)}{bw}")
    if not profile.gpus:
        lines.append("GPU        none found")
    for gpu in profile.gpus:
        extra = [x for x in (f"compute {gpu.compute_capability}" if gpu.compute_capability else "",
                             f"driver {gpu.driver_version}" if gpu.driver_version else "",
                             gpu.budget_rule) if x]
        lines.append(f"GPU {gpu.index:<6} {gpu.name} [{gpu.backend}]: {fmt_bytes(gpu.total_bytes)}, "
                     f"{fmt_bytes(gpu.free_bytes)} free ({'; '.join(extra)})")
    build = profile.llama_cpp
    offload = "GPU offload: " + (", ".join(b for b in build.backends if b != "cpu")
                                 if build.gpu_offload else "no (CPU only)")
    lines.append(f"llama.cpp  llama-cpp-python {build.version or 'unknown'}; {offload}")
    if build.reinstall_command:
        lines.append("           this build cannot use the GPU above; rebuild it with:")
        lines.append(f"           {build.reinstall_command}")
    if rpc and build.version:
        lines.append("RPC        " + ("yes: `localchat worker` serves, `--rpc` pools" if build.rpc else
                                      "not in this build; to pool machines, rebuild it with: "
                                      f"{build.rpc_reinstall_command or rpc_reinstall_command()}"))
    for worker in profile.rpc_workers:
        lines.append(f"Worker     {worker.endpoint}: {fmt_bytes(worker.free_bytes)} free of "
                     f"{fmt_bytes(worker.total_bytes)}")
    if profile.disk:
        lines.append(f"Disk       {fmt_bytes(profile.disk.free_bytes)} free in {profile.disk.path}")
    for note in profile.notes:
        lines.append(f"Note       {note}")
    return "\n".join(lines)
