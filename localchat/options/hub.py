"""Any GGUF repository on the Hub as model options: what the model menu's filter asks for, a
repository's quants sized for this machine, and the Hub search's hits in words.

- ``hub_query(text)``: what Enter in the filter means: ``RepoLookup`` (``ORG/NAME[:QUANT]``, or
  its Hub address), ``HubSearch`` (words), or None (nothing typed); a name the Hub would refuse
  raises ``LocalChatError``. ``matches(option, text)`` is the filter as the user types.
- ``look_up(repo_id, quant)``: one ``model_info`` call lists the repository's GGUF files and
  sizes, and the header of one quant (``quant``, else the default one) is read with HTTP Range
  requests (a few MB). Every other quant is sized from that header scaled to its own file size
  and marked as an estimate: a header costs 2–6 MB, and repositories hold 20–30 quants of the
  same architecture, which only the tensors' types (so the file's size) tell apart.
- ``hub_rows(listing, …)``: the listing's quants as ``ModelOption``s sized for the menu's settings
  (cheap: called again each time a setting changes), marked ``FOUND_ON_HUB``.
- ``hit_words(hit)``: a hit of the Hub's model search (``download.search.search_models``).

No textual and no llama_cpp here (tests/test_layers.py checks). ``look_up``
talks to the Hub (``HF_ENDPOINT``), as does ``search_models``: call them from a worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localchat.download.resolver import RepoQuants, list_repo_quants
from localchat.download.search import RepoHit
from localchat.download.source import HubModel, validate_repo_id
from localchat.errors import LocalChatError, NotFoundError
from localchat.options.menu import MenuSettings, quant_order
from localchat.options.option import FOUND_ON_HUB, ModelOption
from localchat.recommend.candidate import memory_note
from localchat.recommend.evaluate import evaluate
from localchat.recommend.names import model_display_name
from localchat.recommend.remote import read_remote_model
from localchat.recommend.shape import scaled_to, shape_from_header

if TYPE_CHECKING:
    from localchat.download.store import PartialDownload
    from localchat.ggufmeta import GGUFHeader
    from localchat.recommend.calibration import Calibration
    from localchat.recommend.profiles import Budget

# a repository's address as copied from the browser (commands/_source.py takes the same)
HUB_URL_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")


@dataclass(frozen=True)
class RepoLookup:
    """List one repository's GGUF files (and highlight ``quant``, when given)."""

    repo_id: str
    quant: str | None = None


@dataclass(frozen=True)
class HubSearch:
    """Search the Hub's GGUF repositories for ``term``."""

    term: str


def hub_query(text: str) -> RepoLookup | HubSearch | None:
    """What Enter in the filter asks for: ``org/name[:quant]`` (or its huggingface.co address)
    is a repository, anything else without a slash is a search, nothing is None. A repository
    name the Hub would refuse raises ``LocalChatError`` (one line: what is wrong, an example)."""
    text = text.strip()
    address = next((text[len(p):] for p in HUB_URL_PREFIXES if text.lower().startswith(p)), text)
    if not address:
        return None
    if "/" not in address:
        return HubSearch(text)
    name, _, quant = address.partition(":")
    if address != text:  # an address: huggingface.co/org/name/tree/main/… names org/name
        name = "/".join(name.strip("/").split("/")[:2])
    name = name.strip().strip("/")
    validate_repo_id(name)
    return RepoLookup(name, quant.strip().upper() or None)


def matches(option: ModelOption, text: str) -> bool:
    """The filter: every word typed is part of the option's name, quant, repository, Hub spec
    or file name, whatever the case."""
    words = text.lower().split()
    if not words:
        return True
    source = option.source
    names = [option.model, option.quant, option.repo,
             Path(option.path).name if option.path else source.spec]
    seen = " ".join(names).lower()
    return all(w in seen for w in words)


@dataclass(frozen=True)
class HubListing:
    """A repository's GGUF quants and the header of one of them (``reference``), read once."""

    quants: RepoQuants
    reference: str  # the quant whose header was read: the others are scaled from it
    name: str  # the model's name as the menu shows it
    header: GGUFHeader = field(compare=False, repr=False)

    @property
    def repo_id(self) -> str:
        return self.quants.repo_id

    def key(self, quant: str) -> str:
        """The key of the row of ``quant`` (``ModelOption.key``)."""
        return ModelOption.key_of(HubModel(self.repo_id, quant))


def look_up(repo_id: str, quant: str | None = None) -> HubListing:
    """The repository's GGUF quants at the commit ``main`` points at, and the header of ``quant``
    (default: the one ``localchat pull`` would take). ``NotFoundError`` for an unknown repository,
    one without GGUF files, or a quant it does not have; ``ModelFileError`` for a model localchat
    cannot size (not a language model)."""
    quants = list_repo_quants(repo_id)
    if not quants.files:
        raise NotFoundError(f"{repo_id} has no GGUF files",
                            "localchat runs .gguf models: look for a repository whose name ends in -GGUF")
    reference = quants.pick(quant)
    header = read_remote_model(repo_id, quants.files[reference], quants.revision)
    shape_from_header(header)  # one that cannot be sized says so now, not on every re-size
    name = model_display_name(quants.files[reference][0], header.name, repo=repo_id)
    return HubListing(quants, reference, name, header)


def hub_rows(listing: HubListing, budget: Budget, settings: MenuSettings, calibration: Calibration,
             partials: Mapping[str, PartialDownload] | None = None) -> list[ModelOption]:
    """Every quant of the listing sized for ``settings``, best quality first: the reference from
    its header (exact), the others scaled from it to their file's size (estimates)."""
    header, reference = listing.header, listing.reference
    shape = shape_from_header(header)
    parts = len(listing.quants.files[reference])
    out = []
    for quant in sorted(listing.quants.files, key=quant_order):
        size = listing.quants.sizes[quant]
        scaled = None
        if quant != reference:
            headers = header.header_bytes * len(listing.quants.files[quant]) // parts
            scaled = scaled_to(shape, max(1, size - headers), quant)
        candidate = evaluate(budget, header, quant, ctx=settings.ctx, kv_type=settings.kv_type,
                             n_gpu_layers=settings.n_gpu_layers, calibration=calibration,
                             file_bytes=size, shape=scaled)
        candidate = dataclasses.replace(candidate, name=listing.name, repo=listing.repo_id)
        source = HubModel(listing.repo_id, quant)
        out.append(ModelOption(candidate, source, listing.name, why=FOUND_ON_HUB,
                               partial=(partials or {}).get(source.spec.lower())))
    candidates = [o.candidate for o in out]
    return [dataclasses.replace(o, memory_note=memory_note(o.candidate, candidates)) for o in out]


def with_hub_rows(hub: Iterable[ModelOption], rows: Sequence[ModelOption]) -> list[ModelOption]:
    """The Hub's rows first, then ``rows``; a Hub row whose file is already on disk gives way
    to the local row, and a catalog row gives way to the Hub row of the same repository and
    quant (sized from the header, not estimated from the catalog)."""
    on_disk = {(r.repo.lower(), r.quant.upper()) for r in rows if r.downloaded and r.repo}
    hub = [h for h in hub if (h.repo.lower(), h.quant.upper()) not in on_disk]
    keys = {h.key for h in hub}
    return hub + [r for r in rows if r.key not in keys]


def count_words(n: int) -> str:
    """``1234567`` → ``1.2M``: a table's width of a count."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + suffix
    return str(n)


def hit_words(hit: RepoHit) -> tuple[str, str, str]:
    """A search hit's cells: the repository, its downloads and likes."""
    return hit.repo_id, count_words(hit.downloads), count_words(hit.likes)


def hits_words(term: str, n: int) -> str:
    """How many repositories the search found."""
    return f"{n} GGUF {'repository' if n == 1 else 'repositories'} on the Hub for {term!r}"


def listing_words(listing: HubListing) -> str:
    """The menu's line once a repository is listed (short: a long repository name fills it)."""
    n = len(listing.quants.files)
    if n == 1:
        return f"{listing.repo_id} on the Hub: 1 quant, sized from its header"
    return f"{listing.repo_id} on the Hub: {n} quants (~: scaled from {listing.reference}'s header)"


def filter_words(text: str, shown: int, total: int, *, hub: bool = True) -> str:
    """The menu's line as the filter is typed: how many rows match, and what Enter would do."""
    if not text.strip():
        return ""
    line = f"{shown} of {total} rows match"
    if not hub:
        return line
    try:
        query = hub_query(text)
    except LocalChatError:  # not a name yet (still being typed): Enter will say why
        return line
    if isinstance(query, RepoLookup):
        return f"{line} · Enter: look up {query.repo_id} on the Hub"
    return f"{line} · Enter: search the Hub for {text.strip()!r}"
