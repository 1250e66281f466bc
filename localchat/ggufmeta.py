"""Read a GGUF header: metadata and tensor infos, from a local file or the first bytes of a remote one.

GGUF puts all metadata and tensor descriptions at the front of the file, so the exact weight
sizes (and from them the memory footprint) are known from a few megabytes: the downloader reads
them over HTTP range requests before a multi-GB download. The ``gguf`` package's ``GGUFReader``
needs the whole file memory-mapped, so this is a small streaming parser that works on a byte
prefix and says how many more bytes it needs; it uses ``gguf.constants`` for the format's tables.

Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType

from localchat.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# numeric arrays up to this length are kept (per-layer head counts, SWA patterns); longer ones
# (token scores, merges) are summarised by their length only
_KEEP_ARRAY_MAX = 8192

_SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


class NeedMoreData(Exception):
    """The byte prefix ended inside the header; ``needed`` is a lower bound on the total size."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"need at least {needed} bytes")
        self.needed = needed


@dataclass(frozen=True)
class ArraySummary:
    """A long metadata array (e.g. the vocabulary) kept as its element type and length only."""

    item_type: int
    length: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # relative to the start of the data section

    @property
    def n_elements(self) -> int:
        n = 1
        for dim in self.shape:
            n *= dim
        return n

    @property
    def nbytes(self) -> int:
        try:
            block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(self.ggml_type)]
        except (ValueError, KeyError) as exc:
            raise ModelFileError(
                f"tensor {self.name} has GGML type {self.ggml_type}, unknown to this localchat",
                "upgrade localchat (pip install -U localchat gguf)",
            ) from exc
        return self.n_elements // block * type_size


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    header_bytes: int  # offset of the data section (aligned)
    alignment: int = DEFAULT_ALIGNMENT
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def arch_value(self, key: str, default: Any = None) -> Any:
        """``<arch>.<key>``, e.g. ``arch_value("block_count")``."""
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))

    @property
    def quant(self) -> str:
        """Quant label such as ``Q4_K_M`` from ``general.file_type``; '' if absent."""
        file_type = self.metadata.get("general.file_type")
        if file_type is None:
            return ""
        return quant_label_from_file_type(int(file_type))

    @property
    def weights_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    @property
    def expected_file_bytes(self) -> int:
        """Size a complete file must have: data section start + end of the last tensor."""
        if not self.tensors:
            return self.header_bytes
        end = max(t.offset + t.nbytes for t in self.tensors)
        return self.header_bytes + end

    @property
    def vocab_size(self) -> int:
        tokens = self.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, ArraySummary):
            return tokens.length
        if isinstance(tokens, list):
            return len(tokens)
        return int(self.arch_value("vocab_size", 0) or 0)

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) else None


def quant_label_from_file_type(file_type: int) -> str:
    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return f"FTYPE{file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|FP16|MXFP4(?:_MOE)?|TQ\d_\d)(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def quant_label_from_filename(filename: str) -> str:
    """``Llama-3.2-3B-Instruct-Q4_K_M.gguf`` → ``Q4_K_M``; '' if no label is found."""
    stem = re.sub(r"(-\d{5}-of-\d{5})?\.gguf$", "", Path(filename).name, flags=re.IGNORECASE)
    matches = _QUANT_IN_NAME.findall(stem.replace(".", "-"))
    return matches[-1].upper() if matches else ""


def name_from_repo(repo_or_file: str) -> str:
    """``bartowski/Llama-3.2-3B-Instruct-GGUF`` → ``Llama-3.2-3B-Instruct``."""
    last = repo_or_file.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[-_.]gguf$", "", last, flags=re.IGNORECASE)


_U64 = struct.Struct("<Q")


class _Cursor:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def take(self, n: int) -> memoryview:
        end = self.pos + n
        if end > len(self.data):
            raise NeedMoreData(end)
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        return bytes(self.take(length)).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        """Step over ``count`` strings (a vocabulary: 262k of them for gemma-3) without making
        them: a tight loop, as this runs before every load."""
        data, pos, end = self.data, self.pos, len(self.data)
        length_at = _U64.unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise NeedMoreData(pos + 8)
            pos += 8 + length_at(data, pos)[0]
        if pos > end:
            raise NeedMoreData(pos)
        self.pos = pos

    def value(self, vtype: int) -> Any:
        if vtype in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.unpack("<I")
            length = self.unpack("<Q")
            if item_type in _SCALAR_FORMATS:
                size = struct.calcsize(_SCALAR_FORMATS[item_type])
                raw = self.take(size * length)
                if length > _KEEP_ARRAY_MAX:
                    return ArraySummary(item_type, length)
                fmt = "<" + _SCALAR_FORMATS[item_type][1] * length
                return list(struct.unpack(fmt, raw))
            if item_type == _STRING:
                if length > _KEEP_ARRAY_MAX:
                    self.skip_strings(length)
                    return ArraySummary(item_type, length)
                return [self.string() for _ in range(length)]
            if item_type == _ARRAY:
                return [self.value(_ARRAY) for _ in range(length)]
            raise ModelFileError(f"GGUF array of unknown type {item_type}")
        raise ModelFileError(f"GGUF metadata value of unknown type {vtype}")


def parse_header(data: bytes | memoryview, source: str = "GGUF data") -> GGUFHeader:
    """Parse a GGUF header from a byte prefix. Raises NeedMoreData if the prefix is too short."""
    cur = _Cursor(data)
    magic = bytes(cur.take(4))
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{source} is not a GGUF file (starts with {magic!r}, expected b'GGUF')",
            "localchat runs llama.cpp GGUF models; download a .gguf file",
        )
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise ModelFileError(f"{source} is GGUF version {version}, which localchat cannot read")
    n_tensors = cur.unpack("<Q")
    n_kv = cur.unpack("<Q")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string()
        vtype = cur.unpack("<I")
        metadata[key] = cur.value(vtype)
    tensors = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack("<I")
        shape = tuple(cur.unpack("<Q") for _ in range(n_dims))
        ggml_type = cur.unpack("<I")
        offset = cur.unpack("<Q")
        tensors.append(TensorInfo(name, shape, ggml_type, offset))
    check_numbers(metadata, source)
    alignment = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT)
    header_bytes = (cur.pos + alignment - 1) // alignment * alignment
    return GGUFHeader(version, metadata, tuple(tensors), header_bytes, alignment)


# Metadata localchat reads as whole numbers (``<arch>.`` keys; the per-layer ones may be arrays).
# A value of another type, or an impossible one, is a damaged header: said so here, in one place,
# rather than as a ValueError or MemoryError deep in the sizing.
_WHOLE_NUMBER_KEYS = (
    "context_length", "embedding_length", "attention.key_length", "attention.value_length",
    "expert_count", "expert_used_count", "expert_feed_forward_length", "attention.sliding_window",
    "vocab_size",
)
_PER_LAYER_KEYS = ("feed_forward_length", "attention.head_count", "attention.head_count_kv")
MAX_LAYERS = 512  # llama.cpp's LLAMA_MAX_LAYERS (src/llama-hparams.h)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_numbers(metadata: dict[str, Any], source: str) -> None:
    """Refuse a header whose numbers localchat relies on are not whole numbers (ModelFileError)."""
    def bad(key: str, why: str) -> ModelFileError:
        return ModelFileError(f"{source} has a damaged GGUF header: {key} {why}",
                              "download the model again")

    arch = metadata.get("general.architecture", "unknown")
    for key in ("general.alignment", "general.file_type", f"{arch}.block_count"):
        if key in metadata and not _whole(metadata[key]):
            raise bad(key, f"is {_shown(metadata[key])}, not a whole number")
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if alignment & (alignment - 1):  # as llama.cpp's gguf_init_from_file checks it (0 means default)
        raise bad("general.alignment", f"is {alignment}, not a power of 2")
    if metadata.get(f"{arch}.block_count", 0) > MAX_LAYERS:
        raise bad(f"{arch}.block_count", f"is {metadata[f'{arch}.block_count']}, more than the "
                                         f"{MAX_LAYERS} layers llama.cpp loads")
    for name in _WHOLE_NUMBER_KEYS + _PER_LAYER_KEYS:
        key = f"{arch}.{name}"
        value = metadata.get(key)
        if value is None or _whole(value):
            continue
        per_layer = name in _PER_LAYER_KEYS and isinstance(value, list)
        if not (per_layer and all(_whole(v) for v in value)):
            raise bad(key, f"is {_shown(value)}, not a whole number")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def read_header_with(read_prefix: Callable[[int], bytes], source: str,
                     first_bytes: int = 4 << 20, max_bytes: int = 256 << 20) -> GGUFHeader:
    """Parse a header using ``read_prefix(n)`` (returns the first n bytes), growing n as needed."""
    n = first_bytes
    while True:
        data = read_prefix(n)
        try:
            return parse_header(data, source)
        except NeedMoreData as more:
            if len(data) < n:  # the source has no more bytes: the file ends inside its header
                raise ModelFileError(
                    f"{source} is truncated: it ends inside its GGUF header ({len(data)} bytes)",
                    "download it again",
                ) from more
            if n >= max_bytes:
                raise ModelFileError(f"{source} has a GGUF header larger than {max_bytes} bytes") from more
            n = min(max(more.needed, n * 2), max_bytes)
