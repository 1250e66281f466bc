"""The probe: real on this machine, and through recorded OS values for what this machine lacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from localchat.engine.buildinfo import llama_build_info
from localchat.hardware.build import backends_from_system_info, with_reinstall_hint
from localchat.hardware.cpu import flags_from_proc_cpuinfo, probe_cpu, select_flags
from localchat.hardware.gpus import amd_gpus, apple_gpus, metal_budget, nvidia_gpus, probe_gpus
from localchat.hardware.memory import cgroup_limit, probe_memory
from localchat.hardware.probe import probe
from localchat.hardware.profile import HardwareProfile, LlamaBuildInfo
from tests.hardware import fakes

GIB = 1 << 30
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ this machine, for real
@pytest.fixture(scope="module")
def here() -> HardwareProfile:
    return probe(build_info=llama_build_info)


def test_cpu_agrees_with_proc_and_psutil(here):
    assert here.cpu.logical_cores == os.cpu_count()
    assert here.cpu.physical_cores == psutil.cpu_count(logical=False)
    brand, raw = flags_from_proc_cpuinfo(Path("/proc/cpuinfo").read_text())
    assert here.cpu.brand == brand
    assert here.cpu.arch == "x86_64"
    assert "avx2" in here.cpu.flags and "avx2" in raw.split()  # this machine has AVX2
    assert set(here.cpu.flags) <= set(select_flags(raw, "x86_64"))


def test_memory_agrees_with_psutil(here):
    vm = psutil.virtual_memory()
    assert here.memory.total_bytes == vm.total or here.memory.cgroup_limit_bytes
    assert abs(here.memory.available_bytes - vm.available) < 0.1 * vm.total
    assert here.memory.bandwidth_gbps and here.memory.bandwidth_gbps > 0.5


def test_no_gpu_here_and_build_is_cpu_only(here):
    assert here.gpus == ()
    assert here.llama_cpp.gpu_offload is False and "cpu" in here.llama_cpp.backends
    assert "AVX2 = 1" in here.llama_cpp.system_info
    assert here.llama_cpp.reinstall_command is None
    assert here.notes == ()


def test_disk_agrees_with_shutil(here):
    assert here.disk is not None
    existing = Path(here.disk.path)
    while not existing.exists():
        existing = existing.parent
    assert abs(here.disk.free_bytes - shutil.disk_usage(existing).free) < 2 * GIB


def test_real_nvml_without_a_driver_means_no_gpu_and_no_note():
    import pynvml

    notes: list[str] = []
    assert nvidia_gpus(pynvml, notes) == [] and notes == []


def test_profile_round_trips_through_json(here):
    data = json.loads(json.dumps(here.to_dict()))
    assert HardwareProfile.from_dict(data) == here


def test_probe_command_json_has_the_documented_keys():
    out = subprocess.run([sys.executable, "-m", "localchat", "probe", "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("brand", "arch", "physical_cores", "logical_cores", "flags"):
        assert key in data["cpu"]
    for key in ("total_bytes", "available_bytes", "bandwidth_gbps"):
        assert key in data["memory"]
    assert isinstance(data["gpus"], list) and isinstance(data["llama_cpp"]["gpu_offload"], bool)
    assert isinstance(data["llama_cpp"]["system_info"], str) and data["disk"]["free_bytes"] > 0


def test_probe_command_summary():
    out = subprocess.run([sys.executable, "-m", "localchat", "probe", "--no-bandwidth"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0
    assert "avx2" in out.stdout and "GPU        none found" in out.stdout


# ------------------------------------------------------------------ NVIDIA, recorded
def test_rtx_4090():
    nvml = fakes.FakeNvml([fakes.RTX_4090])
    notes: list[str] = []
    (gpu,) = nvidia_gpus(nvml, notes)
    assert gpu.backend == "cuda" and gpu.name == "NVIDIA GeForce RTX 4090"
    assert gpu.total_bytes == 25757220864 and gpu.free_bytes == 25223495680
    assert gpu.compute_capability == "8.9" and gpu.driver_version == "550.54.14"
    assert notes == [] and nvml.shutdown_called


def test_laptop_gpu_4gb_and_second_card():
    gpus = nvidia_gpus(fakes.FakeNvml([fakes.RTX_3050_LAPTOP_4GB, fakes.RTX_3060_12GB]), [])
    assert [g.total_bytes for g in gpus] == [4 * GIB, 12 * GIB] and [g.index for g in gpus] == [0, 1]


def test_nvml_missing_library_is_silent_but_broken_nvml_is_a_note():
    notes: list[str] = []
    assert nvidia_gpus(fakes.FakeNvml([], init_error=fakes.NVMLError_LibraryNotFound), notes) == []
    assert notes == []
    assert nvidia_gpus(fakes.FakeNvml([], init_error=fakes.NVMLError_Unknown), notes) == []
    assert len(notes) == 1 and "NVML failed" in notes[0]


def test_nvml_failing_midway_keeps_what_it_read():
    notes: list[str] = []
    gpus = nvidia_gpus(fakes.FakeNvml([fakes.RTX_4090, fakes.RTX_4090], fail_at_device=1), notes)
    assert len(gpus) == 1 and "incomplete" in notes[0]


def test_gpu_the_build_cannot_use_gets_the_reinstall_command():
    gpus = nvidia_gpus(fakes.FakeNvml([fakes.RTX_4090]), [])
    cpu_build = LlamaBuildInfo(version="0.3.36", gpu_offload=False, backends=("cpu",))
    hinted = with_reinstall_hint(cpu_build, gpus)
    assert hinted.reinstall_command == (
        'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python')
    cuda_build = LlamaBuildInfo(gpu_offload=True, backends=("cuda", "cpu"))
    assert with_reinstall_hint(cuda_build, gpus).reinstall_command is None


@pytest.mark.parametrize(("system_info", "backends"), [
    ("CPU : SSE3 = 1 | AVX2 = 1 | ", ("cpu",)),
    ("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : AVX2 = 1 | ", ("cuda", "cpu")),
    ("Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 | ", ("metal", "cpu")),
    ("ROCm : NO_VMM = 1 | HIP : x = 1 | ", ("rocm", "cpu")),
])
def test_backends_named_in_the_system_info(system_info, backends):
    assert backends_from_system_info(system_info) == backends


def test_summary_shows_the_reinstall_command():
    from localchat.hardware.profile import CpuInfo, MemoryInfo
    from localchat.hardware.summary import summary

    gpus = tuple(nvidia_gpus(fakes.FakeNvml([fakes.RTX_4090]), []))
    profile = HardwareProfile(
        cpu=CpuInfo("Ryzen", "x86_64", 8, 16, ("avx2",)), memory=MemoryInfo(32 * GIB, 20 * GIB),
        gpus=gpus, llama_cpp=with_reinstall_hint(LlamaBuildInfo(backends=("cpu",)), list(gpus)))
    text = summary(profile)
    assert "RTX 4090 [cuda]: 24.0 GiB" in text and "-DGGML_CUDA=on" in text


# ------------------------------------------------------------------ Apple Silicon, recorded
@pytest.mark.parametrize(("ram_gib", "expected_gb", "rule"), [
    (8, 5.7, "2/3"), (16, 11.5, "2/3"), (32, 22.9, "2/3"), (64, 51.5, "3/4"),
])
def test_metal_budget_default_rule(ram_gib, expected_gb, rule):
    budget, why = metal_budget(ram_gib * GIB, None)
    assert round(budget / 1e9, 1) == expected_gb and rule in why


def test_m2_16gb():
    notes: list[str] = []
    (gpu,) = apple_gpus(fakes.sysctl_from(fakes.MAC_M2_16GB), 9 * GIB, notes)
    assert gpu.backend == "metal" and gpu.unified_memory and gpu.name == "Apple M2 GPU"
    assert 0.65 < gpu.total_bytes / (16 * GIB) < 0.75  # the seen 11.8 GB of 16 GB
    assert gpu.free_bytes == 9 * GIB  # capped by what RAM has free
    assert "2/3" in gpu.budget_rule and notes == []


def test_raised_wired_limit_wins():
    values = {**fakes.MAC_M2_16GB, "iogpu.wired_limit_mb": "14336"}
    (gpu,) = apple_gpus(fakes.sysctl_from(values), 15 * GIB, [])
    assert gpu.total_bytes == 14 * GIB and gpu.budget_rule == "iogpu.wired_limit_mb = 14336"


def test_apple_cpu_features_from_sysctl(tmp_path):
    cpu = probe_cpu(proc_root=tmp_path, sysctl=fakes.sysctl_from(fakes.MAC_M1_8GB), machine="arm64")
    assert cpu.brand == "Apple M1" and cpu.arch == "arm64"
    assert "dotprod" in cpu.flags and "neon" in cpu.flags and "i8mm" not in cpu.flags


def test_missing_sysctl_is_a_note():
    notes: list[str] = []
    assert apple_gpus(fakes.sysctl_from({"hw.optional.arm64": "1"}), GIB, notes) == []
    assert "hw.memsize" in notes[0]


# ------------------------------------------------------------------ containers, recorded files
def test_cgroup_v2_limit_wins_over_host_ram(tmp_path):
    root = fakes.write_tree(tmp_path, fakes.CGROUP_V2_4GB)
    assert cgroup_limit(root) == (4 * GIB, GIB)
    mem = probe_memory(root)
    assert mem.total_bytes == 4 * GIB and mem.cgroup_limit_bytes == 4 * GIB
    assert mem.available_bytes <= 3 * GIB


def test_cgroup_v1_limit(tmp_path):
    root = fakes.write_tree(tmp_path, fakes.CGROUP_V1_4GB)
    assert cgroup_limit(root) == (4 * GIB, 512 << 20)
    assert probe_memory(root).total_bytes == 4 * GIB


def test_unlimited_cgroup_means_host_ram(tmp_path):
    root = fakes.write_tree(tmp_path, fakes.CGROUP_V1_UNLIMITED)
    assert cgroup_limit(root)[0] is None
    assert probe_memory(root).total_bytes == psutil.virtual_memory().total


def test_unreadable_cgroup_file_is_a_note(tmp_path):
    files = {**fakes.CGROUP_V2_4GB, "sys/fs/cgroup/memory.max": "garbage\n"}
    notes: list[str] = []
    mem = probe_memory(fakes.write_tree(tmp_path, files), notes)
    assert mem.total_bytes == psutil.virtual_memory().total
    assert "container limit unknown" in notes[0]


# ------------------------------------------------------------------ AMD, recorded sysfs
def test_amd_card_from_sysfs(tmp_path):
    root = fakes.write_tree(tmp_path, fakes.AMD_RX7800XT)
    (gpu,) = amd_gpus(root, [])
    assert gpu.backend == "rocm" and gpu.name == "Radeon RX 7800 XT"
    assert gpu.total_bytes == 17163091968 and gpu.free_bytes == 17163091968 - 451264512
    assert len(probe_gpus(GIB, [], nvml=None, sysfs_root=root)) == 1
