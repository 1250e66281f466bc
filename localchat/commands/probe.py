"""``localchat probe``: what this machine has, and what this llama.cpp build can use."""

from __future__ import annotations

import argparse
import json

ORDER = 30


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="show the CPU, memory, GPUs and llama.cpp build found here",
                       description="Probe this machine's hardware and llama.cpp build.")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.add_argument("--no-bandwidth", action="store_true",
                   help="skip the memory bandwidth measurement (0.1 s)")
    p.set_defaults(func=run)


def summary(profile) -> str:  # HardwareProfile -> str
    from localchat.units import fmt_bytes

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
    if profile.disk:
        lines.append(f"Disk       {fmt_bytes(profile.disk.free_bytes)} free in {profile.disk.path}")
    for note in profile.notes:
        lines.append(f"Note       {note}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from localchat.hardware import probe

    profile = probe(measure_bandwidth=not args.no_bandwidth)
    print(json.dumps(profile.to_dict(), indent=2) if args.json else summary(profile))
    return 0
