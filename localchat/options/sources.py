"""``Sources``: where the setup screen and the model menu get the machine, the catalog, the models
on disk and the Hub's reachability. The defaults are the real ones; tests (and snapshot tests
with a fixed hardware profile) pass their own. Every callable may be slow or do I/O: call them
from a worker thread, never at import or on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localchat.download.store import LocalModel, PartialDownload
    from localchat.hardware.profile import HardwareProfile, RpcWorkerInfo
    from localchat.recommend.calibration_store import CalibrationStore
    from localchat.recommend.catalog import Catalog


def _probe() -> HardwareProfile:
    from localchat.engine.buildinfo import llama_build_info_in_child

    # the submodule's function: once the submodule is imported, the package's name is it
    from localchat.hardware.probe import probe

    # the app never imports llama_cpp: an engine process says what the build can do
    return probe(build_info=llama_build_info_in_child)


def _pool(workers: tuple[str, ...]) -> tuple[RpcWorkerInfo, ...]:
    from localchat.engine.rpcprobe import workers_memory

    return workers_memory(workers)


def _catalog() -> Catalog:
    from localchat.recommend import load_catalog

    return load_catalog()


def _calibration_store() -> CalibrationStore:
    from localchat import paths
    from localchat.recommend.calibration_store import CalibrationStore

    return CalibrationStore(paths.calibration_file())


def _local_models() -> list[LocalModel]:
    from localchat.download import list_local_models

    return list_local_models()


def _partials() -> list[PartialDownload]:
    from localchat.download import list_partial_downloads

    return list_partial_downloads()


def _check_online() -> None:
    from localchat.download import check_online

    check_online()


@dataclass(frozen=True)
class Sources:
    """``probe()`` → the machine; ``catalog()`` → the models localchat knows; ``local_models()`` →
    GGUF files on disk (HF cache, LM Studio, Ollama, llama.cpp cache, config folders);
    ``check_online()`` raises ``HubUnreachableError`` (with its reason) when the Hub cannot be
    reached; ``partials()`` → downloads that stopped part way (resumed by their next pull);
    ``calibration``: where what llama.cpp allocated and how fast replies ran are kept (load it for
    the recommender, record loads and replies in it); ``pool(workers)`` → each llama.cpp RPC
    worker's free and total memory (``LocalChatError`` naming one that cannot say)."""

    probe: Callable[[], HardwareProfile] = field(default=_probe)
    pool: Callable[[tuple[str, ...]], tuple[RpcWorkerInfo, ...]] = field(default=_pool)
    catalog: Callable[[], Catalog] = field(default=_catalog)
    local_models: Callable[[], list[LocalModel]] = field(default=_local_models)
    check_online: Callable[[], None] = field(default=_check_online)
    partials: Callable[[], list[PartialDownload]] = field(default=_partials)
    calibration: CalibrationStore = field(default_factory=_calibration_store)
