"""Find GGUF files other tools (and we) already put on this machine.

Roots are computed when asked, from the environment and the home folder, so tests (and users
with unusual setups) steer them with ``HOME``, ``HF_HOME``, ``LLAMA_CACHE``, ``OLLAMA_MODELS``,
or by passing a ``ModelRoots``. Unreadable folders and files are skipped, never fatal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from localchat import paths
from localchat.ggufmeta import name_from_repo

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_LATER_PART = re.compile(r"-(?!00001)\d{5}-of-\d{5}\.gguf$", re.IGNORECASE)
_SPLIT_PARTS = re.compile(r"-\d{5}-of-(\d{5})\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelRoots:
    hf_cache: Path
    lmstudio: tuple[Path, ...]
    llama_cpp: Path
    ollama: Path
    store: Path  # localchat's own folder for models that come from elsewhere than the Hub (PyPI)


@dataclass(frozen=True)
class Found:
    name: str
    repo: str
    path: Path  # what llama.cpp opens (the first part of a split set)
    size_bytes: int  # all parts
    source: str


def default_roots() -> ModelRoots:
    home = Path.home()
    if os.environ.get("LLAMA_CACHE"):
        llama_cpp = Path(os.environ["LLAMA_CACHE"]).expanduser()
    elif sys.platform == "darwin":
        llama_cpp = home / "Library" / "Caches" / "llama.cpp"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        llama_cpp = (Path(xdg) if xdg else home / ".cache") / "llama.cpp"
    return ModelRoots(
        hf_cache=paths.hf_hub_cache(),
        lmstudio=(home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"),
        llama_cpp=llama_cpp,
        ollama=Path(os.environ.get("OLLAMA_MODELS") or home / ".ollama" / "models").expanduser(),
        store=store_dir(),
    )


def store_dir() -> Path:
    return paths.data_dir() / "models"


def _size(path: Path) -> int:
    return path.stat().st_size


def split_parts(first: Path) -> list[Path]:
    """``x-00001-of-00003.gguf`` → the three parts in order; any other file → itself."""
    m = _SPLIT_PARTS.search(first.name)
    if not m:
        return [first]
    count = m.group(1)
    stem = first.name[: m.start()]
    return [first.with_name(f"{stem}-{i:05d}-of-{count}.gguf") for i in range(1, int(count) + 1)]


def set_size(first: Path) -> int:
    """Size of a GGUF file, or of its whole split set when it is ``-00001-of-0000N``."""
    return sum(_size(part) for part in split_parts(first))


def _ggufs(root: Path) -> Iterator[Path]:
    """Every first-part ``*.gguf`` under ``root`` (following links), skipping what cannot be read."""
    visited: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=lambda e: None):
        real = os.path.realpath(folder)
        if real in visited:  # a link back up the tree: os.walk would loop forever
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "blobs")
        for name in sorted(files):
            low = name.lower()
            if low.endswith(".gguf") and "mmproj" not in low and not _LATER_PART.search(name):
                yield Path(folder) / name


def _found(name: str, repo: str, path: Path, source: str) -> Found | None:
    try:
        return Found(name, repo, path, set_size(path), source)
    except OSError:  # a dangling link or a missing part: not a usable model
        return None


def scan_hf_cache(root: Path, source: str = "hf-cache") -> Iterator[Found]:
    try:
        repos = sorted(d for d in root.iterdir() if d.name.startswith("models--"))
    except OSError:
        return
    for repo_dir in repos:
        repo = repo_dir.name.removeprefix("models--").replace("--", "/")
        try:
            main = (repo_dir / "refs" / "main").read_text().strip()
        except OSError:
            main = ""
        seen: set[str] = set()
        snapshots = sorted((repo_dir / "snapshots").glob("*"), key=lambda d: (d.name != main, d.name))
        for snap in snapshots:
            for path in _ggufs(snap):
                rel = path.relative_to(snap).as_posix()
                if rel not in seen and (found := _found(name_from_repo(repo), repo, path, source)):
                    seen.add(rel)
                    yield found


def scan_lmstudio(roots: tuple[Path, ...]) -> Iterator[Found]:
    for root in roots:
        for path in _ggufs(root):
            rel = path.relative_to(root).parts
            repo = f"{rel[0]}/{rel[1]}" if len(rel) >= 3 else ""
            if found := _found(name_from_repo(repo or path.stem), repo, path, "lmstudio"):
                yield found


def scan_llama_cpp(root: Path) -> Iterator[Found]:
    if any(root.glob("models--*")):  # newer llama.cpp keeps the Hugging Face layout
        yield from scan_hf_cache(root, source="llama.cpp")
    for path in _ggufs(root):
        if "snapshots" not in path.relative_to(root).parts and (
            found := _found(path.stem, "", path, "llama.cpp")
        ):
            yield found


def scan_ollama(root: Path) -> Iterator[Found]:
    """manifests/<host>/<namespace>/<model>/<tag> → the layer holding the GGUF weights."""
    manifests = root / "manifests"
    for folder, _dirs, files in os.walk(manifests, onerror=lambda e: None):
        for tag in sorted(files):
            manifest = Path(folder) / tag
            parts = manifest.relative_to(manifests).parts
            if len(parts) != 4:
                continue
            host, namespace, model, _ = parts
            try:
                layers = json.loads(manifest.read_text()).get("layers", [])
                digest = next(x["digest"] for x in layers if x.get("mediaType") == OLLAMA_MODEL_LAYER)
            except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError):
                continue
            blob = root / "blobs" / str(digest).replace(":", "-")
            if host == "registry.ollama.ai" and namespace == "library":
                name, repo = f"{model}:{tag}", ""
            else:
                name = f"{host}/{namespace}/{model}:{tag}"
                repo = f"{namespace}/{model}" if host in ("hf.co", "huggingface.co") else ""
            if found := _found(name, repo, blob, "ollama"):
                yield found


def scan_store(root: Path) -> Iterator[Found]:
    """Our own store: ``<file>.gguf`` with a ``<file>.gguf.json`` saying where it came from."""
    for path in _ggufs(root):
        try:
            meta = json.loads(path.with_name(path.name + ".json").read_text())
        except (OSError, ValueError):
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        found = _found(str(meta.get("name") or path.stem), str(meta.get("repo") or ""), path,
                       str(meta.get("source") or "folder"))
        if found:
            yield found


def scan_folders(folders: tuple[str | Path, ...]) -> Iterator[Found]:
    for folder in folders:
        for path in _ggufs(Path(folder).expanduser()):
            if found := _found(path.stem, "", path, "folder"):
                yield found


def scan_all(roots: ModelRoots, extra_dirs: tuple[str | Path, ...]) -> Iterator[Found]:
    yield from scan_hf_cache(roots.hf_cache)
    yield from scan_store(roots.store)
    yield from scan_lmstudio(roots.lmstudio)
    yield from scan_llama_cpp(roots.llama_cpp)
    yield from scan_ollama(roots.ollama)
    yield from scan_folders(extra_dirs)
