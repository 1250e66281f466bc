"""The models of the configured endpoints (``[[endpoints]]``) as model options, beside the local
ones in the model menu: each server's ``/v1/models``, asked at once when the menu opens.

A server model has no footprint here (it takes the server's memory, not this machine's): its
candidate is sized at zero with ``fit == "remote"``, and the menu's words say where it runs
(``options/words.py``). An endpoint that does not answer is one line in ``problems``; the others
are listed all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localchat.endpoints import Endpoint
from localchat.engine.target import LoadTarget, RemoteModel
from localchat.errors import LocalChatError
from localchat.ggufmeta import quant_label_from_filename
from localchat.options.option import ModelOption
from localchat.recommend.candidate import Candidate
from localchat.recommend.footprint import Footprint
from localchat.recommend.quants import quant_quality

LIST_TIMEOUT_S = 4.0  # the menu waits at most this long for a server's model list
ModelLister = Callable[[Endpoint], list[dict[str, Any]]]


def _list(endpoint: Endpoint) -> list[dict[str, Any]]:
    from localchat.engine.endpoint import list_models

    return list_models(endpoint, timeout=LIST_TIMEOUT_S)


def remote_candidate(model: RemoteModel, entry: dict[str, Any]) -> Candidate:
    """A server model as the menu's rows hold it: nothing to size, its context where the server
    says it (``engine.remote.entry_context``)."""
    from localchat.engine.endpoint import entry_context

    n_ctx, n_ctx_train = entry_context(entry)
    quant = (quant_label_from_filename(model.model) or "").upper()
    return Candidate(name=model.model, repo="", quant=quant, file_bytes=0, ctx=n_ctx, n_gpu_layers=0,
                     n_layers=0, kv_type="", flash_attn=False, footprint=Footprint(0, 0, 0, 0),
                     fit="remote", est_tps=0.0, quality=quant_quality(quant), budget_bytes=0,
                     exact=True, n_ctx_train=n_ctx_train)


def endpoint_options(endpoints: Sequence[Endpoint], *, lister: ModelLister = _list,
                     ) -> tuple[list[ModelOption], list[str]]:
    """Every model of every endpoint (the servers asked in parallel), in the config's order, and
    a line for each endpoint that could not be listed."""
    if not endpoints:
        return [], []

    def one(endpoint: Endpoint) -> tuple[list[ModelOption], str]:
        try:
            entries = lister(endpoint)
        except LocalChatError as exc:
            return [], exc.message
        options = []
        for entry in entries:
            model = RemoteModel(endpoint, entry["id"])
            options.append(ModelOption(remote_candidate(model, entry), model, why="on a server"))
        return options, ""

    with ThreadPoolExecutor(max_workers=min(8, len(endpoints)), thread_name_prefix="endpoints") as pool:
        results = list(pool.map(one, endpoints))
    options = [o for found, _ in results for o in found]
    return options, [problem for _, problem in results if problem]


def mark_loaded(options: Sequence[ModelOption], loaded: LoadTarget | None) -> list[ModelOption]:
    """The options with the chat's model (when it is one of them) marked loaded."""
    import dataclasses

    return [dataclasses.replace(o, loaded=o.source == loaded) for o in options]
