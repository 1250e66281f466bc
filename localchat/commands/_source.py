"""The model a command line names: ``ORG/NAME[:QUANT]``, a Hub URL, a catalog name, or ``starter``.

Parsing the user's text is the CLI's concern; the downloader takes the typed ``HubModel`` or
``Starter`` this returns. Catalog names are looked up here, so the downloader never imports the
recommender.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchat.download.source import HubModel, Starter
from localchat.errors import NotFoundError

if TYPE_CHECKING:
    from localchat.recommend.catalog import Catalog

# what a user may paste from the browser's address bar
_URL_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")


def catalog_repo(name: str, catalog: Catalog | None = None) -> str | None:
    """The Hub repository of the catalog model called ``name`` (case and punctuation ignored)."""
    if catalog is None:
        from localchat.recommend.catalog import load_catalog

        catalog = load_catalog()
    entry = catalog.get(name)
    return entry.repo if entry is not None else None


def parse_source(text: str, catalog: Catalog | None = None) -> HubModel | Starter:
    """``"org/name:q4_k_m"`` → ``HubModel("org/name", "Q4_K_M")``; a URL of the repository works
    too, a catalog name is mapped to its repository, and ``starter`` is the PyPI starter model."""
    spec = text.strip()
    if spec.lower() == "starter":
        return Starter()
    for prefix in _URL_PREFIXES:
        if spec.lower().startswith(prefix):
            spec = spec[len(prefix):]
    name, _, quant = spec.partition(":")
    name = name.strip().strip("/")
    if not name:
        raise NotFoundError(f"no model named in {text!r}", "use ORG/NAME[:QUANT] or a catalog name")
    if "/" not in name:
        repo = catalog_repo(name, catalog)
        if repo is None:
            raise NotFoundError(
                f"{name!r} is neither a Hub repository (ORG/NAME) nor a model in localchat's catalog",
                "use the repository name as on the Hub, e.g. bartowski/Llama-3.2-3B-Instruct-GGUF",
            )
        name = repo
    return HubModel(name, quant or None)


def parse_hub_model(text: str, catalog: Catalog | None = None) -> HubModel:
    """``parse_source`` for commands that need a Hub repository (``pull --list``,
    ``recommend --model``): ``starter`` is refused with the repository its file comes from."""
    source = parse_source(text, catalog)
    if isinstance(source, Starter):
        from localchat.download.pypi import STARTER

        raise NotFoundError(
            "`starter` is the PyPI starter model, not a Hub repository",
            f"its file is the same as {STARTER.repo}:{STARTER.quant}; name that instead",
        )
    return source
