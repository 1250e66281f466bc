"""The memory budgets a recommendation works within, and hypothetical machines to ask about.

A budget is what the model may use: RAM the OS reports *available* (not total) minus 1 GiB kept
free for the system and other apps, and the GPU's free memory (Apple Silicon: Metal's working-set
limit, out of the same RAM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from localchat.hardware.gpu_bandwidth import assumed_card, card_bandwidth_gbps
from localchat.hardware.gpus import metal_budget
from localchat.hardware.profile import (
    CpuInfo,
    GpuDevice,
    HardwareProfile,
    LlamaBuildInfo,
    MemoryInfo,
    RpcWorkerInfo,
)
from localchat.units import GIB

# RAM left free beyond the model, for the system and other apps to grow into: 1 GiB (the issue's
# own example: "Q5_K_M would not leave 1 GB free"), at most a fifth of what is available
RAM_HEADROOM_BYTES = 1 * GIB
RAM_HEADROOM_SHARE = 0.2
# A hypothetical machine: the OS, a browser and a few apps hold about a fifth of RAM
HYPOTHETICAL_AVAILABLE_SHARE = 0.8
# A hypothetical discrete GPU: the display and driver hold about 5% of VRAM
HYPOTHETICAL_VRAM_FREE_SHARE = 0.95
# Memory bandwidth when nothing better is known (GB/s): dual-channel DDR4-3200 is 51.2 GB/s
# (JEDEC); an RTX 3060 has 360 GB/s (NVIDIA spec); Apple M1 68 GB/s, M2/M3 100 GB/s (Apple).
DEFAULT_BANDWIDTH_GBPS = {"cpu": 50.0, "cuda": 360.0, "rocm": 360.0, "vulkan": 300.0, "metal": 100.0}
DEFAULT_BANDWIDTH_WORDS = {"cpu": "dual-channel DDR4-3200", "cuda": "an RTX 3060-class card",
                           "rocm": "an RX 6700-class card", "vulkan": "a mid-range card",
                           "metal": "an Apple M2 or M3"}
# Share of that bandwidth llama.cpp's decode achieves: ~0.7 in llama.cpp's Apple Silicon
# benchmark thread (discussion #4167: M1 68 GB/s → 7B Q4_0 (3.56 GiB) at ~14 t/s ≈ 53 GB/s)
DECODE_EFFICIENCY = 0.7
# ...of a bandwidth this machine measured (hardware/bandwidth.py: one thread summing a buffer):
# that is already a figure achieved, not a spec, and llama.cpp's threads read at least as fast.
# benchmarks/estimate_vs_bench.py on this project's 2-core test machines (quiet, the new token
# loop): probe 10.2 / 9.0 GB/s, SmolLM2-135M Q4_1 and gemma-3-270m Q4_K_M measured 71.0 / 36.8
# tok/s, estimated at 1.0 as 72 / 32 (at 0.7: 56 / 23, 0.79 / 0.63); on a faster one (probe
# 35 GB/s, 110–139 / 72–82 measured) 1.0 gives 141 / 88.
MEASURED_DECODE_EFFICIENCY = 1.0
MEASURED = "measured"  # a bandwidth's source when the probe measured it here


@dataclass(frozen=True)
class Budget:
    """What one machine offers a model (bytes, GB/s)."""

    ram_bytes: int  # for the CPU part (and, on unified memory, for everything)
    gpu_bytes: int = 0  # 0: no usable GPU
    gpu_backend: str | None = None
    gpu_name: str = ""
    unified: bool = False  # Apple Silicon: GPU memory is RAM
    ram_bandwidth_gbps: float = DEFAULT_BANDWIDTH_GBPS["cpu"]
    gpu_bandwidth_gbps: float = 0.0
    headroom_bytes: int = 0  # RAM kept free (already taken out of ram_bytes)
    ram_total_bytes: int = 0  # the machine's RAM (the policy's headroom is a share of it)
    # where the bandwidths come from, in words: "measured", "assumed: …", "RTX 4090 spec"
    ram_bandwidth_source: str = "assumed"
    gpu_bandwidth_source: str = ""
    warnings: tuple[str, ...] = ()
    # a pool (gpu_backend "rpc"): the llama.cpp RPC workers that take the offloaded layers, and
    # the network to them as assumed (recommend/network.py)
    rpc_workers: tuple[RpcWorkerInfo, ...] = ()
    link_round_trip_s: float = 0.0
    link_gbps: float = 0.0
    link_words: str = ""

    @property
    def has_gpu(self) -> bool:
        return self.gpu_backend is not None and self.gpu_bytes > 0

    def fits(self, gpu_part: int, cpu_part: int) -> bool:
        if gpu_part > self.gpu_bytes:
            return False
        if self.unified:
            return gpu_part + cpu_part <= self.ram_bytes
        return cpu_part <= self.ram_bytes


def ram_headroom(available_bytes: int) -> int:
    return min(RAM_HEADROOM_BYTES, int(available_bytes * RAM_HEADROOM_SHARE))


def cpu_repacks(cpu: CpuInfo) -> bool:
    """Whether llama.cpp's CPU backend repacks Q4_0/Q4_K/IQ4_NL weights on this CPU
    (ggml-cpu/repack.cpp: AVX2 on x86, NEON on ARM)."""
    arch = cpu.arch.lower()
    if arch in ("arm64", "aarch64"):
        return True
    return arch in ("x86_64", "amd64") and "avx2" in cpu.flags


def budget_for(profile: HardwareProfile) -> Budget:
    """The budget of a probed or hypothetical machine; GPUs this llama.cpp build cannot use are
    left out with a warning that says how to rebuild it."""
    mem = profile.memory
    headroom = ram_headroom(mem.available_bytes)
    ram = max(0, mem.available_bytes - headroom)
    warnings: list[str] = []
    build = profile.llama_cpp
    usable = []
    for gpu in profile.gpus:
        if profile.hypothetical or (build.gpu_offload and gpu.backend in build.backends):
            usable.append(gpu)
        else:
            fix = f": {build.reinstall_command}" if build.reinstall_command else ""
            warnings.append(f"this llama.cpp build cannot use the {gpu.name} ({gpu.backend}), so the "
                            f"recommendation is for the CPU alone; rebuild llama-cpp-python for it{fix}")
    ram_bw = mem.bandwidth_gbps or DEFAULT_BANDWIDTH_GBPS["cpu"]
    if mem.bandwidth_gbps:
        ram_source = "given" if profile.hypothetical else MEASURED
    else:
        ram_source = f"assumed: {DEFAULT_BANDWIDTH_WORDS['cpu']}"
    base = Budget(ram_bytes=ram, ram_bandwidth_gbps=ram_bw, headroom_bytes=headroom,
                  ram_total_bytes=mem.total_bytes, ram_bandwidth_source=ram_source, warnings=tuple(warnings))
    if profile.rpc_workers:
        return pooled_budget(base, profile.rpc_workers, bool(usable))
    if not usable:
        return base
    gpu = max(usable, key=lambda g: g.free_bytes)
    if len(usable) > 1:
        warnings.append(f"{len(usable)} GPUs found; localchat plans for the one with the most free "
                        f"memory ({gpu.name})")
    gpu_bw, gpu_source = gpu_bandwidth(gpu, profile.hypothetical)
    gpu_bytes = min(gpu.free_bytes, ram) if gpu.unified_memory else gpu.free_bytes
    return replace(base, gpu_bytes=gpu_bytes, gpu_backend=gpu.backend, gpu_name=gpu.name,
                   unified=gpu.unified_memory, gpu_bandwidth_gbps=gpu_bw, gpu_bandwidth_source=gpu_source,
                   warnings=tuple(warnings))


def pooled_budget(base: Budget, workers: tuple[RpcWorkerInfo, ...], local_gpu: bool) -> Budget:
    """This machine's RAM for the first layers and the token embeddings, and the workers' free
    memory (each less the same headroom as here) for the offloaded layers, read at this
    machine's RAM bandwidth (the workers' is not known) over the assumed link."""
    from localchat.recommend.network import LOOPBACK, assumed_link

    link = assumed_link(workers)
    warnings = list(base.warnings)
    if local_gpu:
        warnings.append("with RPC workers the plan puts the offloaded layers on the workers and "
                        "the rest on this machine's CPU; its GPU is left out of the estimate")
    if link is LOOPBACK:
        warnings.append("the workers run on this machine and share its memory: the pool is no "
                        "bigger than the machine (a test setup)")
    offload = sum(max(0, w.free_bytes - ram_headroom(w.free_bytes)) for w in workers)
    return replace(base, gpu_bytes=offload, gpu_backend="rpc",
                   gpu_name=f"{len(workers)} RPC worker{'s' if len(workers) > 1 else ''}",
                   gpu_bandwidth_gbps=base.ram_bandwidth_gbps,
                   gpu_bandwidth_source="assumed: like this machine's RAM", rpc_workers=workers,
                   link_round_trip_s=link.round_trip_s, link_gbps=link.bandwidth_gbps,
                   link_words=link.words, warnings=tuple(warnings))


def gpu_bandwidth(gpu: GpuDevice, hypothetical: bool) -> tuple[float, str]:
    """(GB/s, where the figure comes from): given, the known card's spec, a typical card of a
    hypothetical one's memory size, or the backend's default."""
    if gpu.bandwidth_gbps:
        return gpu.bandwidth_gbps, "given"
    known = card_bandwidth_gbps(gpu.name)
    if known:
        return known, f"{gpu.name} spec"
    if hypothetical and not gpu.unified_memory:
        gbps, card = assumed_card(gpu.total_bytes)
        return gbps, f"assumed: {card}"
    words = DEFAULT_BANDWIDTH_WORDS.get(gpu.backend, "a mid-range card")
    return DEFAULT_BANDWIDTH_GBPS.get(gpu.backend, 300.0), f"assumed: {words}"


MAX_HYPOTHETICAL_GIB = 65536.0  # 64 TiB: larger is a typo, and float('inf') cannot be sized


def _check_gib(label: str, value: float, *, allow_zero: bool) -> None:
    from localchat.errors import LocalChatError

    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_HYPOTHETICAL_GIB):
        least = "0" if allow_zero else "more than 0"
        raise LocalChatError(f"{label} must be {least} and at most {MAX_HYPOTHETICAL_GIB:g} GiB "
                             f"(got {value:g})", "give the size in GiB, e.g. --ram 16")


def hypothetical_profile(ram_gib: float, vram_gib: float | None = None, gpu: str = "none", *,
                         ram_bandwidth_gbps: float | None = None,
                         gpu_bandwidth_gbps: float | None = None,
                         gpu_name: str | None = None, cores: int = 8) -> HardwareProfile:
    """A machine to ask about (``localchat recommend --ram 16 --gpu cuda --vram 12``).

    Assumes 80% of ``ram_gib`` available and, for a discrete GPU, 95% of ``vram_gib`` free.
    ``gpu``: "none", "cuda", "rocm", "vulkan" or "metal" (Apple Silicon: the GPU budget is Metal's
    default working-set limit of the RAM; ``vram_gib`` overrides it, like iogpu.wired_limit_mb).
    """
    from localchat.errors import LocalChatError

    _check_gib("RAM", ram_gib, allow_zero=False)
    if vram_gib is not None:
        # 0 is the natural way to say "no GPU memory" (--vram 0 --gpu none)
        _check_gib("VRAM", vram_gib, allow_zero=True)
        if vram_gib > 0 and gpu == "none":
            raise LocalChatError(f"--vram {vram_gib:g} was given with --gpu none",
                                 "name the GPU's kind (--gpu cuda|metal|rocm|vulkan) or drop --vram")
    total = int(ram_gib * GIB)
    available = int(total * HYPOTHETICAL_AVAILABLE_SHARE)
    memory = MemoryInfo(total_bytes=total, available_bytes=available, bandwidth_gbps=ram_bandwidth_gbps)
    gpus: tuple[GpuDevice, ...] = ()
    if gpu == "metal":
        cpu = CpuInfo(brand="Apple Silicon (hypothetical)", arch="arm64", physical_cores=cores,
                      logical_cores=cores, flags=("neon", "dotprod"))
        if vram_gib:
            limit, rule = int(vram_gib * GIB), f"given: {vram_gib:g} GiB"
        else:
            limit, rule = metal_budget(total, None)
        gpus = (GpuDevice(backend="metal", name=gpu_name or "Apple GPU", total_bytes=limit,
                          free_bytes=min(limit, available), unified_memory=True, budget_rule=rule,
                          bandwidth_gbps=gpu_bandwidth_gbps or ram_bandwidth_gbps),)
    else:
        cpu = CpuInfo(brand="CPU (hypothetical)", arch="x86_64", physical_cores=cores,
                      logical_cores=cores * 2, flags=("sse4_2", "avx", "avx2", "fma", "f16c"))
        if gpu != "none":
            if not vram_gib:
                raise LocalChatError(f"--gpu {gpu} needs --vram (the card's memory in GiB)")
            vram = int(vram_gib * GIB)
            gpus = (GpuDevice(backend=gpu, name=gpu_name or f"{gpu.upper()} GPU ({vram_gib:g} GiB)",  # type: ignore[arg-type]
                              total_bytes=vram, free_bytes=int(vram * HYPOTHETICAL_VRAM_FREE_SHARE),
                              budget_rule="hypothetical: 95% of VRAM free",
                              bandwidth_gbps=gpu_bandwidth_gbps),)
    backends = (gpu, "cpu") if gpu != "none" else ("cpu",)
    return HardwareProfile(
        cpu=cpu, memory=memory, gpus=gpus,
        llama_cpp=LlamaBuildInfo(gpu_offload=gpu != "none", backends=backends),
        os="hypothetical", hypothetical=True,
        notes=(f"hypothetical machine: {ram_gib:g} GiB RAM (80% assumed available)"
               + (f", {gpu}" + (f" {vram_gib:g} GiB" if vram_gib else "") if gpu != "none" else ""),),
    )
