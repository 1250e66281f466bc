"""HTTP to a server with an OpenAI-compatible API: one endpoint's client (its API key in the
``Authorization`` header and nowhere else), its failures as one-line errors without the key (a
server that echoes the key back has it replaced by ``***``), and its model list (``/v1/models``).

httpx2 (huggingface_hub's HTTP client, already installed) is imported when a client is made.
"""

from __future__ import annotations

from typing import Any

from localchat.endpoints import Endpoint
from localchat.engine.remote_reply import error_message, is_context_overflow
from localchat.engine.target import RemoteModel
from localchat.errors import (
    ContextOverflowError,
    EndpointAuthError,
    EndpointClosedError,
    EndpointError,
    EndpointModelNotFoundError,
    EndpointUnreachableError,
    LocalChatError,
)

CONNECT_TIMEOUT_S = 5.0  # a server that is off (or a firewall that drops packets) fails fast
# between two pieces of a reply: a long prompt on a slow server can take minutes before the first
READ_TIMEOUT_S = 300.0
INFO_TIMEOUT_S = 10.0  # /v1/models, /props


def api_root(endpoint: Endpoint) -> str:
    """``http://host:8080/v1``, whether the configured URL ends in /v1 or not."""
    url = endpoint.base_url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def server_root(endpoint: Endpoint) -> str:
    """The server's own root (llama-server's ``/props``, ``/tokenize``)."""
    return api_root(endpoint).removesuffix("/v1")


class EndpointClient:
    """One endpoint's HTTP client: the key in the headers, errors in one line without it."""

    def __init__(self, endpoint: Endpoint) -> None:
        import httpx2

        self.endpoint = endpoint
        self._key = endpoint.api_key()
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        self.http = httpx2.Client(headers=headers, timeout=httpx2.Timeout(
            READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S), follow_redirects=True, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def get_json(self, url: str, *, timeout: float = INFO_TIMEOUT_S, model: str = "") -> Any:
        return self.request_json("GET", url, None, timeout=timeout, model=model)

    def request_json(self, method: str, url: str, body: Any, *, timeout: float = INFO_TIMEOUT_S,
                     model: str = "") -> Any:
        import httpx2

        try:
            response = self.http.request(method, url, json=body, timeout=timeout)
        except httpx2.TransportError as exc:
            raise self.transport_error(exc) from None
        if response.status_code >= 400:
            raise self.http_error(response.status_code, response.content, url, model)
        try:
            return response.json()
        except ValueError:
            raise EndpointError(f"{self.where()} answered {url} with something that is not JSON",
                                "check base_url: it should be the server's OpenAI-compatible API") from None

    def where(self) -> str:
        return self.endpoint.name

    def transport_error(self, exc: Exception, *, mid_reply: bool = False) -> EndpointError:
        import httpx2

        text = str(exc).lower()
        if mid_reply:
            how = "stopped sending" if isinstance(exc, httpx2.TimeoutException) else "closed the connection"
            return EndpointClosedError(f"{self.where()} {how} in the middle of the reply",
                                       "the partial reply is kept; check that the server is still "
                                       "running, then Ctrl+R (or asking again) retries")
        if isinstance(exc, httpx2.ConnectTimeout):
            why = f"no answer within {CONNECT_TIMEOUT_S:.0f} s"
        elif isinstance(exc, httpx2.TimeoutException):
            why = f"it did not answer within {READ_TIMEOUT_S:.0f} s"
        elif "refused" in text:
            why = "connection refused"
        elif any(w in text for w in ("name or service", "nodename", "name resolution", "getaddrinfo")):
            why = "its host name does not resolve"
        else:
            why = self.redact(" ".join(str(exc).split())) or type(exc).__name__
        return EndpointUnreachableError(
            f"cannot reach {self.endpoint.name} at {self.endpoint.base_url} ({why})",
            "check that the server is running and listening on that address (llama-server: "
            "--host 0.0.0.0), and the endpoint's base_url")

    def http_error(self, status: int, body: bytes, url: str, model: str = "") -> LocalChatError:
        message = self.redact(error_message(body)) or f"HTTP {status}"
        said = f"HTTP {status}: {message}" if message != f"HTTP {status}" else message
        e = self.endpoint
        if status in (401, 403):
            if not e.api_key_env:
                hint = ("it wants an API key: add api_key_env = \"NAME\" to its [[endpoints]] entry "
                        "and set that environment variable to the key")
            elif not self._key:
                hint = f"${e.api_key_env} is not set: export it with the server's API key"
            else:
                hint = f"check the key in ${e.api_key_env}"
            return EndpointAuthError(f"{self.where()} refused the request ({said})", hint)
        if status == 404 and url.endswith("/models"):
            return EndpointError(f"{self.where()} has no OpenAI-compatible API at {url} ({said})",
                                 "check base_url (llama-server: http://HOST:8080, Ollama: "
                                 "http://HOST:11434/v1, LM Studio: http://HOST:1234/v1)")
        if status == 404 and model:
            return EndpointModelNotFoundError(f"{self.where()} has no model {model!r} ({said})",
                                              "choose one the server lists (F4 in the chat)")
        if is_context_overflow(message):
            return ContextOverflowError(f"the conversation is longer than the server's context ({said})",
                                        "start a new conversation, or give the server a larger context")
        return EndpointError(f"{self.where()} answered {said}")


def list_models(endpoint: Endpoint, *, timeout: float = INFO_TIMEOUT_S) -> list[dict[str, Any]]:
    """The entries of the server's ``/v1/models`` (each has at least an ``id``)."""
    client = EndpointClient(endpoint)
    try:
        return fetch_models(client, timeout)
    finally:
        client.close()


def fetch_models(client: EndpointClient, timeout: float) -> list[dict[str, Any]]:
    body = client.get_json(api_root(client.endpoint) + "/models", timeout=timeout)
    data = body.get("data") if isinstance(body, dict) else body
    if not isinstance(data, list):
        raise EndpointError(f"{client.where()}'s /v1/models is not a model list")
    return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"]]


def first_model(endpoint: Endpoint) -> RemoteModel:
    """The first model the server lists (``--endpoint NAME`` without ``--model``)."""
    models = list_models(endpoint)
    if not models:
        raise EndpointModelNotFoundError(f"{endpoint.name} lists no models",
                                         "load one on the server, then try again")
    return RemoteModel(endpoint, models[0]["id"])


def entry_context(entry: dict[str, Any]) -> tuple[int, int]:
    """(context size, trained context) from a ``/v1/models`` entry, 0 where it does not say:
    vLLM's ``max_model_len``, llama-server's ``meta.n_ctx_train`` (and ``meta.n_ctx`` where given)."""
    meta = as_dict(entry.get("meta"))
    n_ctx = positive_int(entry.get("max_model_len")) or positive_int(meta.get("n_ctx"))
    return n_ctx, positive_int(meta.get("n_ctx_train"))


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def positive_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
