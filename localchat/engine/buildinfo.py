"""What this llama-cpp-python build can do: GPU offload, backends, CPU features (asked of
llama_cpp, here or in an engine process; the probe takes these as its ``build_info``)."""

from __future__ import annotations

import json

from localchat.hardware.build import backends_from_system_info, rpc_reinstall_command
from localchat.hardware.profile import LlamaBuildInfo


def llama_build_info() -> LlamaBuildInfo:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    from localchat.engine.rpc import local_gpu, supports_rpc

    return LlamaBuildInfo(
        version=llama_cpp.__version__,
        gpu_offload=local_gpu(),
        rpc=supports_rpc(),
        rpc_reinstall_command=None if supports_rpc() else rpc_reinstall_command(),
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
