"""``ModelOption``: one model the user can choose, wherever it comes from, sized for one setting.

The first-run setup (``options/setup.py``), the model menu (``options/menu.py``) and compare
quants list and act on these; the TUI's one use-a-model flow (``tui/usemodel.py``) downloads an
option when needed, loads it with the settings it was sized for and remembers the choice.

Where it comes from (``source``): a file on disk (``LocalFile``), a Hub repository and quant
(``HubModel``), the PyPI starter (``Starter``), or a model on a server (``RemoteModel``: nothing
to download or size here, ``options/remote.py``). RPC pools join this union as a new kind.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localchat.config import ModelChoice
from localchat.download.source import HubModel, Starter
from localchat.engine.target import RemoteModel
from localchat.loadsettings import LoadSettings

if TYPE_CHECKING:
    from localchat.download.store import PartialDownload
    from localchat.recommend.candidate import Candidate


@dataclass(frozen=True)
class LocalFile:
    """A GGUF file on this machine; ``found_in``: where ("HF cache", "LM Studio", …); ``repo``:
    the Hub repository it was downloaded from, when known."""

    path: str
    found_in: str = ""
    repo: str = ""

    @property
    def spec(self) -> str:
        return self.path


ModelSource = LocalFile | HubModel | Starter | RemoteModel

FOUND_ON_HUB = "found on the Hub"  # why a Hub repository's option is offered (options/hub.py)

# where a file on disk was found (download/discover.py's source names), for people
FOUND_IN = {"hf-cache": "HF cache", "lmstudio": "LM Studio", "ollama": "Ollama",
            "llama.cpp": "llama.cpp cache", "folder": "your folder", "pypi": "localchat"}


def found_in(source: str) -> str:
    return FOUND_IN.get(source, source)


@dataclass(frozen=True)
class ModelOption:
    """A model × quant the user can pick, with its footprint at the sized settings
    (``candidate``), any download of it that stopped part way, and why it is offered."""

    candidate: Candidate
    source: ModelSource
    name: str = ""  # the name shown; default: the candidate's
    why: str = ""  # "recommended", "higher quality", "on disk", "starter (PyPI)", …
    partial: PartialDownload | None = None  # a download of it that stopped part way
    memory_note: str = ""  # why it needs more memory than a larger file of the same model
    loaded: bool = False  # the chat's model right now

    @property
    def model(self) -> str:
        return self.name or self.candidate.name

    @property
    def quant(self) -> str:
        return self.candidate.quant

    @property
    def label(self) -> str:
        return f"{self.model} {self.quant}".strip()

    @property
    def key(self) -> str:
        """Stable across re-sizing: the file, else the repository and quant."""
        return self.key_of(self.source)

    @staticmethod
    def key_of(source: ModelSource) -> str:
        if isinstance(source, LocalFile):
            return f"file:{source.path}"
        return f"{type(source).__name__.lower()}:{source.spec}"

    @property
    def path(self) -> str | None:
        """The file llama.cpp opens, when it is on disk."""
        return self.source.path if isinstance(self.source, LocalFile) else None

    @property
    def downloaded(self) -> bool:
        return isinstance(self.source, LocalFile)

    @property
    def remote(self) -> RemoteModel | None:
        """The server model it is, when it runs on a server."""
        return self.source if isinstance(self.source, RemoteModel) else None

    @property
    def repo(self) -> str:
        if isinstance(self.source, HubModel):
            return self.source.repo
        if isinstance(self.source, LocalFile):
            return self.source.repo or self.candidate.repo
        return self.candidate.repo

    @property
    def needs_bytes(self) -> int:
        """Memory it needs at the sized settings (weights, KV cache, compute, overhead)."""
        return self.candidate.footprint.total_bytes

    @property
    def fits(self) -> bool:
        return self.candidate.fits

    @property
    def fit(self) -> str:
        return self.candidate.fit

    @property
    def exact(self) -> bool:
        """Sized from the file's own header (else from the catalog's architecture figures)."""
        return self.candidate.exact

    def load_settings(self, base: LoadSettings | None = None) -> LoadSettings:
        """The settings it was sized for: its context, GPU layers, KV cache type and flash
        attention (a quantized KV cache needs it); threads and batch stay as in ``base``."""
        c = self.candidate
        return dataclasses.replace(
            base or LoadSettings(), n_ctx=c.ctx, n_gpu_layers=c.n_gpu_layers,
            kv_type=c.kv_type,  # type: ignore[arg-type]
            flash_attn=c.flash_attn or c.kv_type != "f16")

    def choice(self, path: str | Path, settings: LoadSettings,
               current: ModelChoice | None = None) -> ModelChoice:
        """What the config keeps once it is loaded from ``path``: the file, the repository and
        quant it came from, and how it was loaded. A model on a server: its endpoint and name, on
        top of the ``current`` choice (whose local model ``ask`` and ``bench`` keep using)."""
        if isinstance(self.source, RemoteModel):
            endpoint = self.source.endpoint
            return dataclasses.replace(current or ModelChoice(), endpoint=endpoint.name,
                                       endpoint_model=self.source.model)
        return ModelChoice(path=str(path), repo=self.repo, quant=self.quant, ctx=settings.n_ctx,
                           n_gpu_layers=settings.n_gpu_layers, kv_type=settings.kv_type,
                           flash_attn=settings.flash_attn)
