"""``REPO[:QUANT]`` or ``CATALOG_NAME[:QUANT]`` → the GGUF file(s), their sizes and SHA-256s.

One ``model_info(files_metadata=True)`` call (``/api/models/{repo}?blobs=true``) gives every file
with its LFS hash and size and the commit ``main`` points at; downloads then pin that commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localchat.download import hfcache, hub
from localchat.errors import DownloadError, LocalChatError, NotFoundError
from localchat.ggufmeta import GGUFHeader, quant_label_from_filename, read_header_with

_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
# default when no quant is asked for: Q4_K_M, else the nearest in the size/quality trade-off
# (llama.cpp's quantize README: Q4_K_M/Q4_K_S "recommended", Q5_K_M next, then bigger/smaller)
QUANT_PREFERENCE = (
    "Q4_K_M", "Q4_K_S", "IQ4_XS", "Q4_0", "Q5_K_M", "IQ4_NL", "Q4_1", "Q5_K_S", "Q6_K", "Q8_0",
    "Q3_K_L", "Q3_K_M", "IQ3_M", "IQ3_XS", "Q3_K_S", "BF16", "F16", "Q2_K", "IQ2_M", "F32",
)
_URL_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")


@dataclass(frozen=True)
class ResolvedModel:
    repo_id: str
    quant: str
    filenames: tuple[str, ...]  # split files in order; the first one is what llama.cpp loads
    revision: str  # commit sha
    sizes: tuple[int, ...]
    sha256s: tuple[str | None, ...]
    total_bytes: int

    @property
    def spec(self) -> str:
        return f"{self.repo_id}:{self.quant}"


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"org/name:q4_k_m"`` → ``("org/name", "Q4_K_M")``; a catalog name is mapped to its repo."""
    text = spec.strip()
    for prefix in _URL_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    name, _, quant = text.partition(":")
    name = name.strip().strip("/")
    if not name:
        raise NotFoundError(f"no model named in {spec!r}", "use ORG/NAME[:QUANT] or a catalog name")
    if "/" not in name:
        entry = catalog_entry(name)
        if entry is None:
            raise NotFoundError(
                f"{name!r} is neither a Hub repository (ORG/NAME) nor a model in localchat's catalog",
                "use the repository name as on the Hub, e.g. bartowski/Llama-3.2-3B-Instruct-GGUF",
            )
        name = entry.repo
    validate_repo_id(name)
    return name, (quant.strip().upper() or None)


# The Hub's rule for repository names (huggingface_hub.utils.validate_repo_id): ORG/NAME, each
# part letters, digits, '_', '-' and '.', starting and ending with a letter, digit or '_', at most
# 96 characters; no '--' or '..' anywhere (the cache folder joins the parts with '--'), no '.git'.
_REPO_PART = re.compile(r"\w(?:[\w.-]{0,94}\w)?", re.ASCII)


def validate_repo_id(repo_id: str) -> None:
    """Refuse what the Hub would refuse, before any request: one place for every command."""
    org, _, name = repo_id.partition("/")
    if (_REPO_PART.fullmatch(org) and _REPO_PART.fullmatch(name) and "--" not in repo_id
            and ".." not in repo_id and not repo_id.endswith(".git")):
        return
    raise LocalChatError(
        f"{repo_id!r} is not a Hub repository name",
        "use ORG/NAME[:QUANT] as on the Hub (letters, digits, '-', '_' and '.'), e.g. "
        "bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M, or a catalog name",
    )


def catalog_entry(name: str) -> Any:
    """The catalog entry called ``name`` (None if there is none or the catalog is not installed)."""
    try:
        from localchat.recommend.catalog import load_catalog
    except ImportError:
        return None
    return load_catalog().get(name)


def gguf_sets(filenames: list[str]) -> dict[str, list[str]]:
    """Quant label → the file(s) of that quant (a split set in part order). Skips mmproj files."""
    sets: dict[str, dict[str, list[tuple[int, int, str]]]] = {}
    for name in sorted(filenames, key=lambda n: (n.count("/"), n)):
        base = Path(name).name
        if not base.lower().endswith(".gguf") or "mmproj" in base.lower():
            continue
        split = _SPLIT.search(name)
        key = name[: split.start()] if split else name
        part, count = (int(split.group(1)), int(split.group(2))) if split else (1, 1)
        label = quant_label_from_filename(name) or Path(key).stem.upper()
        sets.setdefault(label, {}).setdefault(key, []).append((part, count, name))
    result: dict[str, list[str]] = {}
    for label, groups in sets.items():
        for parts in groups.values():
            parts.sort()
            if [p[0] for p in parts] == list(range(1, parts[0][1] + 1)):  # a complete set only
                result[label] = [p[2] for p in parts]
                break
    return result


def pick_quant(available: dict[str, list[str]], wanted: str | None, repo_id: str) -> str:
    if wanted:
        for label in available:
            if label.upper() == wanted.upper():
                return label
        listed = ", ".join(sorted(available)) or "none"
        raise NotFoundError(
            f"{repo_id} has no {wanted} GGUF file (available: {listed})",
            f"pick one of those, e.g. `localchat pull {repo_id}:{default_quant(available) or '…'}`",
        )
    choice = default_quant(available)
    if choice is None:
        raise NotFoundError(f"{repo_id} has no GGUF files", "localchat needs a repository of .gguf files")
    return choice


def default_quant(available: dict[str, list[str]]) -> str | None:
    for label in QUANT_PREFERENCE:
        if label in available:
            return label
    return min(available) if available else None


def _model_info(repo_id: str) -> Any:
    hub.check_not_offline()
    with hub.translated_errors(repo_id):
        # an httpx Timeout (huggingface_hub passes it through) keeps the connect timeout short
        return hub.api().model_info(repo_id, files_metadata=True, timeout=hub.timeout())  # type: ignore[arg-type]


def list_quants(repo_id: str) -> dict[str, list[str]]:
    info = _model_info(repo_id)
    return gguf_sets([s.rfilename for s in info.siblings or []])


def resolve(spec: str) -> ResolvedModel:
    repo_id, wanted = parse_spec(spec)
    info = _model_info(repo_id)
    siblings = {s.rfilename: s for s in info.siblings or []}
    available = gguf_sets(list(siblings))
    quant = pick_quant(available, wanted, repo_id)
    files = available[quant]
    sizes = tuple(int(siblings[f].size or (siblings[f].lfs.size if siblings[f].lfs else 0)) for f in files)
    hashes = tuple((siblings[f].lfs.sha256 if siblings[f].lfs else None) for f in files)
    if not info.sha:
        raise DownloadError(f"{hub.endpoint()} did not say which commit {repo_id} is at",
                            "check that HF_ENDPOINT (if set) is the Hub or a mirror of it")
    return ResolvedModel(repo_id, quant, tuple(files), str(info.sha), sizes, hashes, sum(sizes))


def find_cached(spec: str) -> Path | None:
    """The first file of ``spec`` if the HF cache already holds its whole set (works offline)."""
    repo_id, wanted = parse_spec(spec)
    files = dict(reversed(hfcache.snapshot_files(repo_id)))  # refs/main's snapshot wins
    available = gguf_sets(list(files))
    if not available:
        return None
    quant = wanted if wanted in available else (None if wanted else default_quant(available))
    if quant is None:
        return None
    return files[available[quant][0]]


def read_remote_header(repo_id: str, filename: str, revision: str | None = None) -> GGUFHeader:
    """The GGUF header of a file on the Hub, read with HTTP Range requests (a few MB, not the file)."""
    from huggingface_hub.utils import get_session

    hub.check_not_offline()
    url = hub.file_url(repo_id, filename, revision or "main")

    def read_prefix(n: int) -> bytes:
        with hub.translated_errors(repo_id):
            headers = hub.headers({"Range": f"bytes=0-{n - 1}", "Accept-Encoding": "identity"})
            with get_session().stream("GET", url, headers=headers, timeout=hub.timeout()) as r:
                hub.check_response(r.status_code, repo_id, filename)
                data = bytearray()
                for chunk in r.iter_raw():  # a server that ignores Range sends all: stop at n
                    data += chunk
                    if len(data) >= n:
                        break
                return bytes(data[:n])

    return read_header_with(read_prefix, f"{repo_id}/{filename}")
