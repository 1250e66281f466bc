"""Open a local GGUF file safely and read its header; check that it holds every tensor's bytes.

The parser itself is ``ggufmeta`` (it works on any byte prefix, local or remote).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from localchat.errors import ModelFileError
from localchat.ggufmeta import GGUFHeader, read_header_with


def read_header(path: str | Path) -> GGUFHeader:
    """Read the header of a local GGUF file (missing, unreadable, not a regular file or not GGUF:
    ModelFileError)."""
    path = Path(path)
    with open_model_file(path) as fh:
        def read_prefix(n: int) -> bytes:
            fh.seek(0)
            return fh.read(n)

        return read_header_with(read_prefix, str(path))


def open_model_file(path: Path) -> BinaryIO:
    """Open a model file for reading, refusing anything but a regular file: a FIFO would block
    the read forever, /dev/zero never ends, a folder cannot be read. It is opened without
    blocking (a FIFO's open waits for a writer) and checked on the open descriptor, so what is
    checked is what is read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as exc:
        raise ModelFileError(f"model file not found: {path}", "check the path") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"{path} is a folder, not a GGUF model file") from exc
    except PermissionError as exc:
        raise ModelFileError(f"cannot read model file {path}: permission denied") from exc
    except OSError as exc:  # a name too long, a loop of links, a device that will not open
        raise ModelFileError(f"cannot open model file {path}: {exc.strerror or exc}") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a folder" if stat.S_ISDIR(mode) else "a pipe (FIFO)" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise ModelFileError(f"{path} is {kind}, not a GGUF model file", "give the path of a .gguf file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_complete(path: str | Path) -> GGUFHeader:
    """Read the header and check the file holds every tensor's bytes (not truncated)."""
    header = read_header(path)
    size = Path(path).stat().st_size
    if not header.tensors:
        # a header alone (e.g. 24 bytes of magic, version and two zero counts) is no model
        raise ModelFileError(
            f"{path} is not a complete GGUF model: {size} bytes, a header without any tensors",
            "download the model again (localchat pull resumes a partial download)",
        )
    expected = header.expected_file_bytes
    if size < expected:
        raise ModelFileError(
            f"model file {path} is truncated ({_mb(expected)} expected, {_mb(size)} on disk)",
            "download it again (localchat pull resumes a partial download)",
        )
    return header


def _mb(n: int) -> str:
    if n < 100_000:  # "0.0 MB" says nothing about a file of a few bytes
        return f"{n:,} bytes"
    return f"{n / 1e6:,.1f} MB"
