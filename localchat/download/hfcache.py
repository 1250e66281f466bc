"""The standard Hugging Face cache layout, shared with huggingface_hub and llama.cpp's ``-hf``.

    models--{org}--{name}/blobs/{sha256}                   the bytes, named by their LFS hash
    models--{org}--{name}/snapshots/{commit}/{filename}    symlink → ../../blobs/{sha256}
    models--{org}--{name}/refs/main                        the commit ``main`` pointed at

Our partial download is ``blobs/{sha256}.localchat-partial``: in the blobs folder so the final
rename into place is on the same filesystem (atomic: a blob either is complete and verified or
is not there), and under a suffix of its own because huggingface_hub 2.x deletes *its*
``{etag}.incomplete`` files when one of its downloads fails, which would throw our resumable
bytes away; ``localchat rm`` removes ours when they are orphaned.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from localchat import paths
from localchat.errors import DownloadError

PARTIAL_SUFFIX = ".localchat-partial"


def repo_folder(repo_id: str, cache: Path | None = None) -> Path:
    return (cache or paths.hf_hub_cache()) / ("models--" + repo_id.replace("/", "--"))


def blob_path(repo_id: str, sha256: str) -> Path:
    return repo_folder(repo_id) / "blobs" / sha256


def partial_path(repo_id: str, sha256: str) -> Path:
    return repo_folder(repo_id) / "blobs" / (sha256 + PARTIAL_SUFFIX)


def partial_info_path(partial: Path) -> Path:
    """The note beside a partial download saying what it is (repo, file, quant, size), so it can
    be shown offline, before the Hub says which SHA-256 a quant has."""
    return partial.with_name(partial.name + ".json")


def snapshot_path(repo_id: str, revision: str, filename: str) -> Path:
    return repo_folder(repo_id) / "snapshots" / revision / filename


def require_writable(repo_id: str) -> None:
    """Refuse a download up front, in one line, when the cache cannot be written (a read-only
    disk, a folder of another user's, HF_HOME under a file) rather than fail on the first write."""
    blobs = repo_folder(repo_id) / "blobs"
    try:
        blobs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=blobs, prefix=".localchat-probe-"):
            pass
    except OSError as exc:
        raise DownloadError(
            f"cannot write to the Hugging Face cache {paths.hf_hub_cache()} ({exc.strerror or exc})",
            "make that folder writable, or point HF_HOME at a folder you can write, "
            "e.g. HF_HOME=~/hf-cache localchat pull …",
        ) from exc


def cached_file(repo_id: str, revision: str, filename: str, sha256: str, size: int) -> Path | None:
    """The file if the cache already holds it (ours or another tool's), linking the snapshot if needed."""
    snap = snapshot_path(repo_id, revision, filename)
    try:
        if snap.stat().st_size == size:
            return snap
    except OSError:
        pass  # not in this snapshot (or a dangling link): look for the blob itself
    blob = blob_path(repo_id, sha256)
    try:
        if blob.stat().st_size != size:
            return None
    except OSError:
        return None
    return link_snapshot(repo_id, revision, filename, sha256)


def link_snapshot(repo_id: str, revision: str, filename: str, sha256: str) -> Path:
    """Point snapshots/{revision}/{filename} at the blob (atomically: link beside, then rename)."""
    snap = snapshot_path(repo_id, revision, filename)
    snap.parent.mkdir(parents=True, exist_ok=True)
    blob = blob_path(repo_id, sha256)
    tmp = snap.with_name(snap.name + ".localchat-link")
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(blob, snap.parent), tmp)
    except OSError:
        os.link(blob, tmp)  # no symlinks (Windows without developer mode): a hard link instead
    os.replace(tmp, snap)
    return snap


def commit_blob(partial: Path, repo_id: str, revision: str, filename: str, sha256: str) -> Path:
    """Move a verified partial file into blobs/ and make it visible in the snapshot."""
    os.replace(partial, blob_path(repo_id, sha256))
    return link_snapshot(repo_id, revision, filename, sha256)


def write_ref(repo_id: str, revision: str, ref: str = "main") -> None:
    ref_file = repo_folder(repo_id) / "refs" / ref
    ref_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref_file.with_name(ref + ".localchat-tmp")
    tmp.write_text(revision)
    os.replace(tmp, ref_file)


def read_ref(repo_id: str, ref: str = "main") -> str | None:
    try:
        return (repo_folder(repo_id) / "refs" / ref).read_text().strip() or None
    except OSError:
        return None


def snapshot_files(repo_id: str) -> list[tuple[str, Path]]:
    """(filename, path) of every file in the repo's snapshots, refs/main's snapshot first."""
    snapshots = repo_folder(repo_id) / "snapshots"
    main = read_ref(repo_id)
    try:
        revisions = sorted((d for d in snapshots.iterdir() if d.is_dir()),
                           key=lambda d: (d.name != main, d.name))
    except OSError:
        return []
    found = []
    for rev_dir in revisions:
        for path in sorted(rev_dir.rglob("*")):
            if path.is_file():
                found.append((path.relative_to(rev_dir).as_posix(), path))
    return found
