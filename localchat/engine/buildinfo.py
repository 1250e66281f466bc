"""What this llama-cpp-python build can do: GPU offload, backends, CPU features."""

from __future__ import annotations

import json
import re

from localchat.hardware.profile import LlamaBuildInfo

REINSTALL_FLAGS = {"cuda": "-DGGML_CUDA=on", "metal": "-DGGML_METAL=on", "rocm": "-DGGML_HIP=on",
                   "vulkan": "-DGGML_VULKAN=on"}


def reinstall_command(backend: str) -> str:
    return (f'CMAKE_ARGS="{REINSTALL_FLAGS[backend]}" pip install --force-reinstall '
            "--no-cache-dir llama-cpp-python")


def backends_from_system_info(info: str) -> tuple[str, ...]:
    """Backends named in llama_print_system_info(), e.g. "CUDA : ARCHS = 890 | ..."."""
    found = []
    for name, key in (("cuda", "CUDA"), ("metal", "Metal"), ("rocm", "ROCm"), ("rocm", "HIP"),
                      ("vulkan", "Vulkan"), ("sycl", "SYCL")):
        if re.search(rf"(^|\|)\s*{key}\s*:", info) and name not in found:
            found.append(name)
    found.append("cpu")
    return tuple(found)


def llama_build_info() -> LlamaBuildInfo:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    return LlamaBuildInfo(
        version=llama_cpp.__version__,
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        system_info=text.strip(),
        backends=backends_from_system_info(text),
    )


def llama_build_info_in_child() -> LlamaBuildInfo:
    """``llama_build_info()`` asked of a short-lived engine process (about a second): for the
    app, which never imports llama_cpp itself. OSError when it cannot say."""
    from localchat.engine.spawn import build_info_json

    data = json.loads(build_info_json())
    data["backends"] = tuple(data.get("backends", ()))
    return LlamaBuildInfo(**data)
