"""What a load is asked for: a GGUF file on this machine (its path) or a model on a server
(``RemoteModel``). The chat's model switch, ``localchat ask`` and the model menu pass these typed
values to ``load_engine``, which picks the engine by their kind."""

from __future__ import annotations

from dataclasses import dataclass

from localchat.endpoints import Endpoint


@dataclass(frozen=True)
class RemoteModel:
    """A model served by ``endpoint`` (llama-server, vLLM, Ollama, LM Studio), named as the server
    names it in ``/v1/models``."""

    endpoint: Endpoint
    model: str

    @property
    def spec(self) -> str:
        """``home/qwen2.5:7b``: for messages and the menu's keys."""
        return f"{self.endpoint.name}/{self.model}"

    @property
    def host(self) -> str:
        """Where it runs, for people: the endpoint's name (for a bare URL: its host and port)."""
        return self.endpoint.name


LoadTarget = str | RemoteModel  # a GGUF file's path, or a model on a server


def target_label(target: LoadTarget) -> str:
    """A short name while it loads: the file's name without ``.gguf``, or ``MODEL on HOST``."""
    if isinstance(target, RemoteModel):
        return f"{target.model} on {target.host}"
    from pathlib import Path

    return Path(target).name.removesuffix(".gguf")
