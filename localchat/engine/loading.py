"""How a model is loaded, and what a failed load means: the engine's rules beside llama.cpp.

- Memory-map the file, except when llama.cpp's CPU backend repacks some of its weights: then
  read them into RAM, so the repacked copy replaces the file's tensors instead of standing
  beside a resident mapping (``recommend.footprint.load_without_mmap``).
- A mapped file that changes on disk (truncated, rewritten) would fault the process (SIGBUS)
  the next time llama.cpp reads a weight, so each reply first compares the file's stat with the
  one taken at load.
- A failed allocation is said as memory (what the context needs, what is free, what fits), not
  as a damaged file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from localchat.engine import logcapture
from localchat.errors import InsufficientMemoryError, LocalChatError, ModelFileError
from localchat.ggufmeta import GGUFHeader
from localchat.loadsettings import MIN_CTX, LoadSettings
from localchat.units import fmt_bytes

# llama.cpp's log lines when an allocation fails (ggml-backend, llama-context, CUDA/Vulkan/Metal)
MEMORY_MARKERS = ("failed to allocate", "unable to allocate", "out of memory", "cudamalloc failed",
                  "erroroutofdevicememory", "not enough memory")


@dataclass(frozen=True)
class FileStamp:
    """What ``stat`` says of a model file: enough to tell it was truncated or rewritten."""

    size_bytes: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


def check_unchanged(path: Path, loaded: FileStamp) -> None:
    """Raise ModelFileError when the mapped file is not the one that was loaded."""
    try:
        now = FileStamp.of(path)
    except OSError as exc:
        raise ModelFileError(f"the model file {path} is gone since it was loaded ({exc.strerror})",
                             "reload it (F4) or choose another model") from exc
    if now != loaded:
        what = "truncated" if now.size_bytes < loaded.size_bytes else "rewritten or replaced"
        raise ModelFileError(
            f"the model file {path} changed on disk since it was loaded ({what}: "
            f"{fmt_bytes(loaded.size_bytes)} then, {fmt_bytes(now.size_bytes)} now)",
            "reload it (F4) or choose another model",
        )


def import_ahead() -> None:
    """Import what a first load needs (llama_cpp with its Jinja chat formatter: about a quarter
    of a second; the sizing ``choose_mmap`` asks) and probe the CPU once. The engine process does
    it while it waits for a model (spawn.prestart), so the load the user waits for does not."""
    import llama_cpp  # noqa: F401

    from localchat.hardware.cpu import probe_cpu
    from localchat.recommend import footprint, profiles, shape  # noqa: F401

    probe_cpu()


def choose_mmap(header: GGUFHeader, settings: LoadSettings, gpu_offload: bool) -> bool:
    """``settings.use_mmap`` when given, else map the file unless this CPU repacks weights of
    the layers it runs."""
    if settings.use_mmap is not None:
        return settings.use_mmap
    from localchat.hardware.cpu import probe_cpu
    from localchat.recommend.footprint import load_without_mmap
    from localchat.recommend.profiles import cpu_repacks
    from localchat.recommend.shape import shape_from_header

    try:
        shape = shape_from_header(header)
    except ModelFileError:  # not a decoder the footprint can size: llama.cpp's default
        return True
    backend = "gpu" if gpu_offload else None
    return not load_without_mmap(shape, settings.n_gpu_layers, backend, cpu_repacks(probe_cpu()))


def is_memory_failure(detail: str) -> bool:
    text = detail.lower()
    return any(marker in text for marker in MEMORY_MARKERS)


def memory_error(header: GGUFHeader, settings: LoadSettings, flash_attn: bool, on_gpu: bool,
                 detail: str) -> LocalChatError:
    """A failed allocation in words: the context's memory against what is free, and the
    largest ``--ctx`` that would fit (from the footprint the recommender uses)."""
    import psutil

    from localchat.recommend.footprint import CTX_PAD, footprint
    from localchat.recommend.shape import shape_from_header

    n_ctx = settings.n_ctx
    try:
        shape = shape_from_header(header)
    except ModelFileError:
        return InsufficientMemoryError(f"not enough memory for a {n_ctx}-token context ({detail})",
                                       "load it with a smaller --ctx")

    def need(ctx: int) -> int:
        return footprint(shape, ctx, kv_type=settings.kv_type, flash_attn=flash_attn).total_bytes

    kv = footprint(shape, n_ctx, kv_type=settings.kv_type, flash_attn=flash_attn).kv_bytes
    if on_gpu:  # the GPU's free memory is llama.cpp's to tell; say what the cache needs
        return InsufficientMemoryError(
            f"not enough GPU memory or RAM for a {n_ctx}-token context: its KV cache alone needs "
            f"{fmt_bytes(kv)} ({detail})", "use a smaller --ctx, fewer --gpu-layers or --kv-type q8_0")
    free = psutil.virtual_memory().available
    message = (f"not enough memory for a {n_ctx}-token context: it needs {fmt_bytes(need(n_ctx))} "
               f"(the KV cache alone {fmt_bytes(kv)}) and {fmt_bytes(free)} of RAM is free")
    if need(MIN_CTX) > free:
        return InsufficientMemoryError(message, "close other programs, or choose a smaller model or quant")
    # the largest context that fits, in llama.cpp's 256-cell steps (MIN_CTX is one step)
    low, high = 1, max(1, n_ctx // CTX_PAD)
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if need(mid * CTX_PAD) <= free else (low, mid - 1)
    fits = low * CTX_PAD
    if 0 < shape.n_ctx_train < fits:  # longer than the model was trained for helps no one
        return InsufficientMemoryError(message, f"use --ctx {shape.n_ctx_train} (the length the model "
                                       "was trained for) or less")
    return InsufficientMemoryError(message, f"use --ctx {fits} or less (--kv-type q8_0 about halves "
                                   "the cache)")


def load_error(path: Path, header: GGUFHeader, settings: LoadSettings, flash_attn: bool,
               on_gpu: bool, exc: BaseException) -> LocalChatError:
    """What a failed ``llama_cpp.Llama(...)`` means, from llama.cpp's log lines: memory, an
    architecture this build does not know, or a file it could not read."""
    import llama_cpp

    lines = logcapture.snapshot()
    detail = logcapture.last_error(lines)
    if any(is_memory_failure(line) for line in lines):
        return memory_error(header, settings, flash_attn, on_gpu, detail)
    if "unknown model architecture" in detail:
        return ModelFileError(
            f"{path}: this llama.cpp build (llama-cpp-python {llama_cpp.__version__}) "
            f"cannot load architecture '{header.architecture}'",
            "upgrade it with `pip install -U llama-cpp-python`, or choose another model",
        )
    reason = detail or str(exc)
    return ModelFileError(
        f"llama.cpp could not load {path} ({reason})",
        "check the file is a complete GGUF model (localchat pull downloads it again); "
        "LOCALCHAT_DEBUG=1 shows llama.cpp's log",
    )
