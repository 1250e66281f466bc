"""llama.cpp's RPC backend through ctypes: pool other machines' memory (``add_workers``), ask a
worker for its memory (``worker_memory``), and be a worker (``serve``).

llama-cpp-python binds only ``llama_supports_rpc``; the ggml RPC functions live in libggml-rpc
(built with ``CMAKE_ARGS="-DGGML_RPC=on"``), reached here through libggml, which links it. The
signatures are ggml-rpc.h's and ggml-backend.h's (llama-cpp-python 0.3.36's vendored llama.cpp).

Every ggml RPC call that cannot reach its worker aborts the process (GGML_ABORT in
``rpc_dispatcher::start``), and a worker registered cannot be unregistered: so a worker is first
tried with a plain TCP connection, and a pool is only ever used from an engine process of its
own (engine/process.py), where a lost worker ends that process and not the app.
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path
from typing import Any

from localchat.errors import LocalChatError
from localchat.hardware.build import rpc_reinstall_command
from localchat.rpcpool import accepts_connections, unreachable_error

# enum ggml_backend_dev_type (ggml-backend.h)
DEV_CPU, DEV_GPU, DEV_IGPU = 0, 1, 2
_registered: set[str] = set()  # workers registered in this process (for good: ggml cannot undo it)


def supports_rpc() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_rpc())


def require_rpc() -> None:
    """A one-line error, with the reinstall command, when this build has no RPC backend."""
    if not supports_rpc():
        raise LocalChatError("this llama-cpp-python build has no RPC support",
                             f"reinstall it with RPC: {rpc_reinstall_command()}")


def _loaded(stem: str) -> Any:
    """The copy of ``lib<stem>`` that llama_cpp's libllama loaded. A wheel holds its libraries as
    copies, not symlinks (libggml.so, libggml.so.0, …): opening another name would load a second
    libggml with a registry of its own, whose workers llama.cpp never sees. So each name in the
    folder is asked for with RTLD_NOLOAD, which answers only for a library already loaded."""
    import llama_cpp

    folder = Path(llama_cpp.__file__).parent / "lib"
    mode = getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL
    for path in sorted(folder.glob(f"lib{stem}.*"), key=lambda p: len(p.name), reverse=True):
        try:
            return ctypes.CDLL(path.name, mode=mode)  # by name: matched against the loaded sonames
        except OSError:
            continue
    raise LocalChatError(f"lib{stem} of llama-cpp-python is not loaded", "reinstall llama-cpp-python")


@functools.cache
def _ggml() -> Any:
    """libggml with the prototypes used here (its dependencies' symbols, libggml-base's and
    libggml-rpc's, are found through it)."""
    lib = _loaded("ggml")
    if not hasattr(lib, "ggml_backend_rpc_add_server"):  # not linked into libggml: its own library
        rpc = _loaded("ggml-rpc")
        for name in ("ggml_backend_rpc_add_server", "ggml_backend_rpc_get_device_memory",
                     "ggml_backend_rpc_start_server"):
            setattr(lib, name, getattr(rpc, name))
    c_p, c_size = ctypes.c_void_p, ctypes.c_size_t
    for name, args, res in (
        ("ggml_backend_rpc_add_server", [ctypes.c_char_p], c_p),
        ("ggml_backend_rpc_get_device_memory",
         [ctypes.c_char_p, ctypes.c_uint32, ctypes.POINTER(c_size), ctypes.POINTER(c_size)], None),
        ("ggml_backend_rpc_start_server", [ctypes.c_char_p, ctypes.c_char_p, c_size, c_size,
                                           ctypes.POINTER(c_p)], None),
        ("ggml_backend_register", [c_p], None),
        ("ggml_backend_reg_dev_count", [c_p], c_size),
        ("ggml_backend_reg_name", [c_p], ctypes.c_char_p),
        ("ggml_backend_dev_count", [], c_size),
        ("ggml_backend_dev_get", [c_size], c_p),
        ("ggml_backend_dev_type", [c_p], ctypes.c_int),
        ("ggml_backend_dev_backend_reg", [c_p], c_p),
    ):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


def _check_reachable(workers: tuple[str, ...]) -> None:
    for worker in workers:
        if not accepts_connections(worker):
            raise unreachable_error(worker)


def add_workers(workers: tuple[str, ...]) -> None:
    """Register the workers' devices (after checking each accepts a connection): llama.cpp then
    puts the offloaded layers on them, in proportion to their free memory."""
    require_rpc()
    _check_reachable(workers)
    lib = _ggml()
    for worker in workers:
        if worker in _registered:  # registering twice would list its devices twice
            continue
        reg = lib.ggml_backend_rpc_add_server(worker.encode())
        if not reg:
            raise LocalChatError(f"the RPC worker {worker} offers no device",
                                 "restart `localchat worker` there")
        lib.ggml_backend_register(reg)
        _registered.add(worker)


def local_gpu() -> bool:
    """A GPU on this machine that llama.cpp can use (``llama_supports_gpu_offload`` also says
    yes for any build with RPC, GPU or not)."""
    import llama_cpp

    llama_cpp.llama_supports_gpu_offload()  # loads the backends, as llama.cpp does first
    if not supports_rpc():
        return bool(llama_cpp.llama_supports_gpu_offload())
    return bool(_local_devices((DEV_GPU, DEV_IGPU)))


def _local_devices(types: tuple[int, ...]) -> list[int]:
    lib = _ggml()
    found = []
    for i in range(lib.ggml_backend_dev_count()):
        dev = lib.ggml_backend_dev_get(i)
        reg_name = lib.ggml_backend_reg_name(lib.ggml_backend_dev_backend_reg(dev)) or b""
        if lib.ggml_backend_dev_type(dev) in types and not reg_name.startswith(b"RPC"):
            found.append(dev)
    return found


def worker_memory(worker: str) -> tuple[int, int]:
    """(free, total) bytes over the worker's devices. Blocks while the worker serves another
    client (it serves one at a time): call it with a timeout around it (host.py's
    ``--rpc-memory``, in a process of its own)."""
    require_rpc()
    _check_reachable((worker,))
    lib = _ggml()
    reg = lib.ggml_backend_rpc_add_server(worker.encode())
    devices = lib.ggml_backend_reg_dev_count(reg) if reg else 0
    free_sum = total_sum = 0
    for device in range(devices):
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        lib.ggml_backend_rpc_get_device_memory(worker.encode(), device, ctypes.byref(free),
                                               ctypes.byref(total))
        free_sum += free.value
        total_sum += total.value
    return free_sum, total_sum


def serve(host: str, port: int, threads: int) -> None:
    """Be a worker: serve this machine's GPUs (else its CPU) to one client at a time, until the
    process ends. Returns only when the server could not start (the port is taken)."""
    require_rpc()
    import llama_cpp

    llama_cpp.llama_supports_gpu_offload()  # loads the backends
    devices = _local_devices((DEV_GPU, DEV_IGPU)) or _local_devices((DEV_CPU,))
    array = (ctypes.c_void_p * len(devices))(*devices)
    _ggml().ggml_backend_rpc_start_server(f"{host}:{port}".encode(), None, threads, len(devices), array)
