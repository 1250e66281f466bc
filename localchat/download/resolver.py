"""A ``HubModel`` (repository and quant) → the GGUF file(s), their sizes and SHA-256s.

One ``model_info(files_metadata=True)`` call (``/api/models/{repo}?blobs=true``) gives every file
with its LFS hash and size and the commit ``main`` points at; downloads then pin that commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localchat.download import hfcache, hub
from localchat.download.source import HubModel
from localchat.errors import DownloadError, NotFoundError
from localchat.ggufmeta import GGUFHeader, quant_label_from_filename, read_header_with

_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
# default when no quant is asked for: Q4_K_M, else the nearest in the size/quality trade-off
# (llama.cpp's quantize README: Q4_K_M/Q4_K_S "recommended", Q5_K_M next, then bigger/smaller)
QUANT_PREFERENCE = (
    "Q4_K_M", "Q4_K_S", "IQ4_XS", "Q4_0", "Q5_K_M", "IQ4_NL", "Q4_1", "Q5_K_S", "Q6_K", "Q8_0",
    "Q3_K_L", "Q3_K_M", "IQ3_M", "IQ3_XS", "Q3_K_S", "BF16", "F16", "Q2_K", "IQ2_M", "F32",
)


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


@dataclass(frozen=True)
class RepoQuants:
    """A repository's GGUF quants at one commit: each quant's file(s) (a split set in part order)
    and their bytes, from one ``model_info`` call."""

    repo_id: str
    revision: str  # the commit ``main`` points at
    files: dict[str, tuple[str, ...]]
    sizes: dict[str, int]  # bytes of all of a quant's files

    def pick(self, wanted: str | None) -> str:
        """``wanted`` as the repository spells it, else the default quant; ``NotFoundError``
        naming what there is when it has no such quant (or no GGUF files at all)."""
        return pick_quant({q: list(f) for q, f in self.files.items()}, wanted, self.repo_id)


def list_repo_quants(repo_id: str) -> RepoQuants:
    info = _model_info(repo_id)
    siblings = {s.rfilename: s for s in info.siblings or []}
    files = {quant: tuple(names) for quant, names in gguf_sets(list(siblings)).items()}
    sizes = {quant: sum(_size(siblings[f]) for f in names) for quant, names in files.items()}
    return RepoQuants(repo_id, str(info.sha or "main"), files, sizes)


def _size(sibling: Any) -> int:
    return int(sibling.size or (sibling.lfs.size if sibling.lfs else 0))


def resolve(model: HubModel) -> ResolvedModel:
    """The file(s) of ``model``'s quant (the default quant if it names none) at ``main``'s commit."""
    repo_id, wanted = model.repo, model.quant
    info = _model_info(repo_id)
    siblings = {s.rfilename: s for s in info.siblings or []}
    available = gguf_sets(list(siblings))
    quant = pick_quant(available, wanted, repo_id)
    files = available[quant]
    sizes = tuple(_size(siblings[f]) for f in files)
    hashes = tuple((siblings[f].lfs.sha256 if siblings[f].lfs else None) for f in files)
    if not info.sha:
        raise DownloadError(f"{hub.endpoint()} did not say which commit {repo_id} is at",
                            "check that HF_ENDPOINT (if set) is the Hub or a mirror of it")
    return ResolvedModel(repo_id, quant, tuple(files), str(info.sha), sizes, hashes, sum(sizes))


def find_cached(model: HubModel) -> Path | None:
    """The first file of ``model`` if the HF cache already holds its whole set (works offline)."""
    repo_id, wanted = model.repo, model.quant
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
