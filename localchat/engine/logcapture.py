"""Capture llama.cpp's log: keep it off the user's terminal and read buffer sizes from it.

llama-cpp-python prints llama.cpp errors straight to stderr, which would break localchat's
one-line error promise. This replaces its log callback with one that keeps the recent lines in
memory (the engine turns the last error into a message) and prints them only when
``LOCALCHAT_DEBUG`` is set. At load llama.cpp logs what it allocated, e.g.
``CPU_Mapped model buffer size =    93.08 MiB`` - the real figures the recommender's calibration
compares its prediction with.
"""

from __future__ import annotations

import collections
import ctypes
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

_lines: collections.deque[str] = collections.deque(maxlen=2000)
# ggml_log_level: NONE=0, DEBUG=1, INFO=2, WARN=3, ERROR=4, CONT=5 (ggml.h)
_DEBUG, _CONT = 1, 5
_lock = threading.Lock()
_installed = False
_callback = None  # keep a reference: ctypes callbacks must outlive their registration
_partial: list[str] = []
_buffer_lines: list[str] = []  # "... buffer size = N MiB" lines since the last clear()
_last_level = 2
_listeners: list[Callable[[str], None]] = []  # called with each complete line (the engine host forwards them)

_BUFFER_RE = re.compile(r"(\S+) (model|KV|compute|output) buffer size\s*=\s*([\d.]+) MiB")


def install() -> None:
    """Route llama.cpp logging through this module (idempotent; imports llama_cpp)."""
    global _installed, _callback
    if _installed:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        global _last_level
        message = text.decode("utf-8", errors="replace")
        if os.environ.get("LOCALCHAT_DEBUG", "") not in ("", "0"):
            print(message, end="", file=sys.stderr, flush=True)
        if level != _CONT:
            _last_level = level
        if _last_level == _DEBUG:  # graph dumps: thousands of lines per load
            return
        line = None
        with _lock:
            _partial.append(message)
            if message.endswith("\n"):
                line = "".join(_partial).rstrip("\n")
                _partial.clear()
                _lines.append(line)
                if "buffer size" in line:
                    _buffer_lines.append(line)
        if line is not None:
            for listener in _listeners:
                listener(line)

    _callback = _log
    llama_cpp.llama_log_set(_log, ctypes.c_void_p(0))
    _installed = True


def add_listener(listener: Callable[[str], None]) -> None:
    """Call ``listener(line)`` with every complete llama.cpp log line from now on (from
    whichever thread llama.cpp logs on; debug-level lines excepted)."""
    _listeners.append(listener)


def snapshot() -> list[str]:
    with _lock:
        return list(_lines)


def clear() -> None:
    with _lock:
        _lines.clear()
        _partial.clear()
        _buffer_lines.clear()


def buffer_lines() -> list[str]:
    with _lock:
        return list(_buffer_lines)


def last_error(lines: list[str]) -> str:
    """The most telling llama.cpp error line, for a one-line message: the specific
    "error loading model: ..." over the generic "failed to load model" that follows it."""
    for marker in ("unknown model architecture", "error loading model", "error", "failed"):
        for line in reversed(lines):
            if marker in line.lower():
                return line.strip()
    return ""


@dataclass(frozen=True)
class AllocatedBuffers:
    weights_bytes: int = 0
    kv_bytes: int = 0
    compute_bytes: int = 0
    output_bytes: int = 0


def parse_buffers(lines: list[str]) -> AllocatedBuffers:
    """Sum the buffer sizes llama.cpp logged at load (all devices)."""
    sums = {"model": 0.0, "KV": 0.0, "compute": 0.0, "output": 0.0}
    for line in lines:
        for _device, kind, mib in _BUFFER_RE.findall(line):
            sums[kind] += float(mib)
    mib = 1024 * 1024
    return AllocatedBuffers(
        weights_bytes=int(sums["model"] * mib),
        kv_bytes=int(sums["KV"] * mib),
        compute_bytes=int(sums["compute"] * mib),
        output_bytes=int(sums["output"] * mib),
    )
