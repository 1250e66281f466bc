"""Models on this machine: list them (any tool's), remember when they were used, remove ours.

``localchat rm`` only deletes what localchat manages: files in the Hugging Face cache and in
localchat's own store. LM Studio, Ollama, llama.cpp and user folders belong to their owners.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localchat import paths
from localchat.download import discover, disk, hfcache, inuse
from localchat.errors import LocalChatError, ModelFileError, NotFoundError
from localchat.gguffile import check_complete
from localchat.ggufmeta import quant_label_from_filename

OURS = ("hf-cache", "pypi")
_OWNER_HINT = {
    "lmstudio": "delete it in LM Studio (My Models)",
    "ollama": "use `ollama rm`",
    "llama.cpp": "delete it from llama.cpp's cache folder yourself",
    "folder": "it is in a folder you added (models.dirs in the config): delete it yourself",
}


@dataclass(frozen=True)
class LocalModel:
    name: str
    repo: str  # "org/name" on the Hub, or "" when unknown
    quant: str
    size_bytes: int
    path: Path
    source: str  # "hf-cache" | "lmstudio" | "ollama" | "llama.cpp" | "folder" | "pypi"
    last_used: float | None

    @property
    def spec(self) -> str:
        return f"{self.repo or self.name}:{self.quant}" if self.quant else (self.repo or self.name)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _last_used_file() -> Path:
    return paths.data_dir() / "last_used.json"


def _quant_cache_file() -> Path:
    return paths.cache_dir() / "gguf_quants.json"


def touch_last_used(path: str | Path) -> None:
    used = _read_json(_last_used_file())
    used[str(Path(path).resolve())] = time.time()
    _write_json(_last_used_file(), used)


def _quant(path: Path, cache: dict, dirty: list[bool]) -> str | None:
    """The quant from the GGUF header (cached by size+mtime); None unless a complete, readable GGUF."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = str(path.resolve())
    stamp = f"{st.st_size}:{st.st_mtime_ns}"
    hit = cache.get(key)
    if isinstance(hit, list) and len(hit) == 2 and hit[0] == stamp:
        return str(hit[1])
    try:
        quant = check_complete(path).quant or quant_label_from_filename(path.name)
    except (ModelFileError, OSError):
        return None
    cache[key] = [stamp, quant]
    dirty[0] = True
    return quant


def list_local_models(extra_dirs: tuple[str | Path, ...] = (), *,
                      roots: discover.ModelRoots | None = None,
                      include_config_dirs: bool = True) -> list[LocalModel]:
    """Every readable GGUF model found on this machine, each file once (first place wins)."""
    roots = roots or discover.default_roots()
    dirs = tuple(extra_dirs) + (_config_dirs() if include_config_dirs else ())
    used = _read_json(_last_used_file())
    cache = _read_json(_quant_cache_file())
    dirty = [False]
    models: list[LocalModel] = []
    seen: set[Path] = set()
    for found in discover.scan_all(roots, dirs):
        real = found.path.resolve()
        if real in seen:
            continue
        quant = _quant(found.path, cache, dirty)
        if quant is None:
            continue  # unreadable, truncated or not GGUF: skip, never crash
        seen.add(real)
        last = used.get(str(real))
        models.append(LocalModel(found.name, found.repo, quant, found.size_bytes, found.path,
                                 found.source, float(last) if isinstance(last, (int, float)) else None))
    if dirty[0]:
        with contextlib.suppress(OSError):  # a read-only cache folder only costs speed next time
            _write_json(_quant_cache_file(), cache)
    return models


def _config_dirs() -> tuple[str, ...]:
    from localchat.config import load_config
    from localchat.errors import ConfigError

    try:
        return load_config().model_dirs
    except ConfigError:
        return ()


def _matches(model: LocalModel, name: str, quant: str) -> bool:
    if quant and model.quant.upper() != quant:
        return False
    candidates = {model.name, model.repo, model.repo.rsplit("/", 1)[-1], model.path.name, model.path.stem}
    return name.lower() in {c.lower() for c in candidates if c}


RepoForName = Callable[[str], str | None]  # a catalog name → its repository (None: unknown)


def find_models(spec: str, models: list[LocalModel] | None = None, *,
                repo_for_name: RepoForName | None = None) -> list[LocalModel]:
    """Local models matching ``NAME[:QUANT]`` (NAME: repo, its last part, file name, or a name
    ``repo_for_name`` maps to a repository, such as a catalog name), or ``starter``."""
    models = list_local_models() if models is None else models
    if spec.strip().lower() == "starter":
        from localchat.download.pypi import target_path

        return [m for m in models if m.path == target_path()]
    exact = [m for m in models if m.name.lower() == spec.lower()]  # Ollama names hold a colon
    if exact:
        return exact
    name, _, quant = spec.strip().partition(":")
    hits = [m for m in models if _matches(m, name, quant.upper())]
    if not hits and "/" not in name and repo_for_name is not None:
        repo = repo_for_name(name)
        if repo:
            hits = [m for m in models if _matches(m, repo, quant.upper())]
    return hits


def remove_model(spec: str, *, repo_for_name: RepoForName | None = None) -> int:
    """Delete one model localchat manages; return the bytes freed (orphaned partials included)."""
    return remove(model_to_remove(spec, repo_for_name=repo_for_name))


def model_to_remove(spec: str, *, repo_for_name: RepoForName | None = None) -> LocalModel:
    """The one model ``localchat rm spec`` would delete; an error when it is not ours, not
    unique, or loaded in a running localchat."""
    hits = find_models(spec, repo_for_name=repo_for_name)
    if not hits:
        raise NotFoundError(f"no model {spec!r} on this machine", "`localchat models` lists them")
    ours = [m for m in hits if m.source in OURS]
    if not ours:
        m = hits[0]
        raise LocalChatError(
            f"{m.name} ({m.path}) belongs to {m.source}; localchat never deletes other apps' files",
            _OWNER_HINT.get(m.source, "delete it with the app that downloaded it"),
        )
    if len(ours) > 1:
        listed = ", ".join(m.spec for m in ours)
        raise LocalChatError(f"{spec!r} matches several models: {listed}", "name one with NAME:QUANT")
    model = ours[0]
    pids = inuse.holders(model.path)
    if pids:
        raise LocalChatError(
            f"{model.spec} is loaded in a running localchat (pid {', '.join(map(str, pids))})",
            "close that chat (or switch it to another model) first",
        )
    return model


def remove(model: LocalModel) -> int:
    """Delete a model found by ``model_to_remove``; return the bytes freed."""
    if model.source == "pypi":
        freed = model.size_bytes
        model.path.unlink(missing_ok=True)
        model.path.with_name(model.path.name + ".json").unlink(missing_ok=True)
        return freed
    return _remove_from_hf_cache(model)


def is_file_of(model: LocalModel, path: str | Path) -> bool:
    """Whether ``path`` (a config's model path, say) is this model's file or one of its parts."""
    try:
        target = Path(path).expanduser().resolve()
    except OSError:
        return False
    return target in {p.resolve() for p in (model.path, *discover.split_parts(model.path))}


def _remove_from_hf_cache(model: LocalModel) -> int:
    repo_dir = hfcache.repo_folder(model.repo)
    blobs = {p.resolve() for p in discover.split_parts(model.path)}
    freed = 0
    for link in sorted((repo_dir / "snapshots").rglob("*")):
        if (link.is_symlink() or link.is_file()) and link.resolve() in blobs:
            if not link.is_symlink():  # no-symlink layout: the file itself
                freed += link.stat().st_size
            link.unlink()
    for blob in blobs:
        if blob.exists() and blob.parent.name == "blobs":
            freed += blob.stat().st_size
            blob.unlink()
    freed += clean_partials(model.repo)
    if not any(p.is_file() for p in (repo_dir / "snapshots").rglob("*")):
        shutil.rmtree(repo_dir, ignore_errors=True)  # nothing left: refs, empty folders, .no_exist
    return freed


@dataclass(frozen=True)
class PartialDownload:
    """A download that stopped part way (cancelled, killed, offline): the next pull of the same
    repo and quant resumes it."""

    repo: str
    quant: str
    filename: str
    done_bytes: int  # of this file
    size_bytes: int  # this file's full size
    total_bytes: int  # the whole model (all parts of a split GGUF)

    @property
    def spec(self) -> str:
        return f"{self.repo}:{self.quant}"

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.size_bytes if self.size_bytes else 0.0


def list_partial_downloads() -> list[PartialDownload]:
    """Partial downloads in the HF cache that say what they are (no network)."""
    found = []
    for note in paths.hf_hub_cache().glob(f"models--*/blobs/*{hfcache.PARTIAL_SUFFIX}.json"):
        partial = note.with_name(note.name.removesuffix(".json"))
        info = _read_json(note)
        try:
            done = partial.stat().st_size
            found.append(PartialDownload(str(info["repo"]), str(info["quant"]).upper(),
                                         str(info["filename"]), done, int(info["size"]),
                                         int(info.get("total_bytes", info["size"]))))
        except (OSError, KeyError, TypeError, ValueError):
            continue  # the partial is gone (finished or removed), or the note is unreadable
    return found


def clean_partials(repo_id: str | None = None) -> int:
    """Delete our partial downloads that no running pull holds; return the bytes freed."""
    root = hfcache.repo_folder(repo_id) if repo_id else paths.hf_hub_cache()
    pattern = f"blobs/*{hfcache.PARTIAL_SUFFIX}" if repo_id else f"models--*/blobs/*{hfcache.PARTIAL_SUFFIX}"
    freed = 0
    for partial in root.glob(pattern):
        try:
            with open(partial, "rb") as fh:
                if not disk.try_lock(fh):
                    continue  # a running pull is writing it
                size = os.fstat(fh.fileno()).st_size
                partial.unlink()  # while locked, so no pull can take it up in between
        except OSError:
            continue
        hfcache.partial_info_path(partial).unlink(missing_ok=True)
        freed += size
    return freed
