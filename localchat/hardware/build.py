"""What the probe knows about a llama-cpp-python build without importing it: the backends named
in its system info, and the reinstall command for a GPU it was not built for.

Asking the build itself needs llama_cpp, which only localchat.engine imports
(``engine.buildinfo.llama_build_info``); the probe takes that as its ``build_info`` argument.
"""

from __future__ import annotations

import re
from dataclasses import replace

from localchat.hardware.profile import GpuDevice, LlamaBuildInfo

# llama.cpp's CMake switches per backend (docs/build.md)
REINSTALL_FLAGS = {"cuda": "-DGGML_CUDA=on", "metal": "-DGGML_METAL=on", "rocm": "-DGGML_HIP=on",
                   "vulkan": "-DGGML_VULKAN=on"}


def reinstall_command(backend: str) -> str:
    return (f'CMAKE_ARGS="{REINSTALL_FLAGS[backend]}" pip install --force-reinstall '
            "--no-cache-dir llama-cpp-python")


def rpc_reinstall_command() -> str:
    """llama-cpp-python rebuilt with llama.cpp's RPC backend (pooled memory, ``localchat
    worker``); ``--no-cache-dir`` because pip caches the wheel by version, not by CMAKE_ARGS."""
    return ('CMAKE_ARGS="-DGGML_RPC=on" pip install --force-reinstall --no-cache-dir --no-deps '
            "llama-cpp-python")


def backends_from_system_info(info: str) -> tuple[str, ...]:
    """Backends named in llama_print_system_info(), e.g. "CUDA : ARCHS = 890 | ..."."""
    found = []
    for name, key in (("cuda", "CUDA"), ("metal", "Metal"), ("rocm", "ROCm"), ("rocm", "HIP"),
                      ("vulkan", "Vulkan"), ("sycl", "SYCL")):
        if re.search(rf"(^|\|)\s*{key}\s*:", info) and name not in found:
            found.append(name)
    found.append("cpu")
    return tuple(found)


def with_reinstall_hint(build: LlamaBuildInfo, gpus: list[GpuDevice]) -> LlamaBuildInfo:
    """When the machine has a GPU this build cannot use, say how to rebuild for it."""
    usable = {b for b in build.backends if b != "cpu"} if build.gpu_offload else set()
    for gpu in gpus:
        if gpu.backend not in usable:
            return replace(build, reinstall_command=reinstall_command(gpu.backend))
    return build
