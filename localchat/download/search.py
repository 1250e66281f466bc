"""The Hub's model search, for GGUF repositories: what the model menu lists for a few words.

``search_models(term)`` asks ``HfApi.list_models(search=term, filter="gguf")`` (the Hub's
``/api/models?search=…&filter=gguf``), most downloaded first.
"""

from __future__ import annotations

from dataclasses import dataclass

from localchat.download import hub

SEARCH_LIMIT = 30  # a screenful of hits; a more precise term finds the rest


@dataclass(frozen=True)
class RepoHit:
    """One repository the search found."""

    repo_id: str
    downloads: int = 0
    likes: int = 0


def search_models(term: str, limit: int = SEARCH_LIMIT) -> list[RepoHit]:
    """GGUF model repositories whose name matches ``term``, most downloaded first."""
    # list_models retries a refused connection for about 20 s (huggingface_hub's http_backoff):
    # one short request first says quickly that the Hub cannot be reached
    hub.check_online()
    with hub.translated_errors("the model search"):
        found = hub.api().list_models(search=term, filter="gguf", sort="downloads", limit=limit)
        return [RepoHit(m.id, int(m.downloads or 0), int(m.likes or 0)) for m in found]
