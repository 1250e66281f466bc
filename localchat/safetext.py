"""Text from models, files, titles and users, made safe to show on a terminal.

A terminal obeys the control characters in what it is sent: ``ESC ] 52`` writes the clipboard,
``ESC ] 2`` retitles the window, ``ESC [ 2J`` clears the screen, a C1 ``CSI`` (0x9b) does what
``ESC [`` does on many terminals. Model output, a prompt, a pasted file or a stored conversation
can hold any of them, so every string bound for the terminal or a widget passes through
``for_terminal`` first: each control character except newline and tab is shown as a visible
symbol instead (ESC as ``␛``, BEL as ``␇``; C1 controls and lone surrogates as U+FFFD), never
sent. Stateless, character by character, so a stream can be cleaned chunk by chunk.

Standard library only: the CLI, the core and the TUI all use it.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
# C0 controls but newline and tab, DEL, C1 controls, and lone surrogates (which cannot be encoded)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's control pictures: ␀ … ␛ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT  # C1 controls, lone surrogates


def _replace(match: re.Match[str]) -> str:
    return _visible(match.group())


def visible(text: str) -> str:
    """Every control character except newline and tab made visible, one character for one (so
    styled spans over the text stay in place)."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_replace, text)


def for_terminal(text: str) -> str:
    """``text`` with every control character except newline and tab made visible (inert).

    A carriage return before a newline is dropped (Windows line ends); any other one is shown.
    """
    if not _UNSAFE.search(text):
        return text
    return visible(text.replace("\r\n", "\n"))


def one_line(text: str) -> str:
    """``for_terminal`` for a single line (a title, a path, an error message): newlines and tabs
    are shown as symbols too, so the text cannot spill onto further lines."""
    if not _UNSAFE_LINE.search(text):
        return text
    return _UNSAFE_LINE.sub(_replace, text)


def from_os(text: str) -> str:
    """A string decoded by Python from the OS (argv, environment, a text stdin) with invalid
    UTF-8 bytes kept as lone surrogates (``surrogateescape``): the bytes made U+FFFD, so the text
    can be encoded, stored and sent to a model. Any other lone surrogate becomes U+FFFD too."""
    if not _SURROGATE.search(text):
        return text
    try:
        raw = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate that surrogateescape did not make
        return _SURROGATE.sub(REPLACEMENT, text)
    return raw.decode("utf-8", errors="replace")


def json_line(value: object) -> str:
    """One line of JSON for a terminal: non-ASCII text kept readable (``ensure_ascii=False``),
    but DEL, the C1 controls and lone surrogates escaped too (JSON escapes only C0 itself)."""
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class InertWriter:
    """A text stream that passes everything written through ``for_terminal``: what a command
    prints (model names from GGUF headers, file paths, GPU names) cannot drive the terminal."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(for_terminal(text))

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer…
        return getattr(self._stream, name)


def decode_bytes(data: bytes) -> str:
    """Bytes from stdin or a file as text: UTF-8, with each invalid byte as U+FFFD."""
    return data.decode("utf-8", errors="replace")


def quoted(value: Any) -> str:
    """A value as a config file writes it, for a message: ``"warm"``, ``true``, ``12``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
