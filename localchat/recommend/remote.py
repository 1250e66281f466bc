"""The GGUF header of a file on the Hub, read with HTTP Range requests: the exact footprint of a
model before a multi-GB download (metadata and tensor infos sit at the front of a GGUF).

Talks to ``HF_ENDPOINT`` (read at call time) through huggingface_hub's HTTP session, with the
user's token; the downloader (``localchat.download``, a layer above) has its own richer client.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from localchat.errors import DownloadError, HubUnreachableError, NotFoundError
from localchat.ggufmeta import GGUFHeader, read_header_with
from localchat.recommend.evaluate import merge_split_headers

CONNECT_TIMEOUT_S = 5.0  # an unreachable Hub fails fast (firewalls drop SYNs silently)
READ_TIMEOUT_S = 30.0
FIRST_BYTES = 2 << 20  # most headers fit in 2 MiB; a 262k-token vocabulary needs ~6 MiB


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def _auth_headers() -> dict[str, str]:
    from huggingface_hub import get_token

    token = os.environ.get("HF_TOKEN") or get_token()
    return {"Authorization": f"Bearer {token}"} if token else {}


def fetch_prefix(repo_id: str, filename: str, revision: str, n: int) -> bytes:
    """The first ``n`` bytes of ``filename`` (fewer if the file is shorter)."""
    import httpx2
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import get_session

    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=_endpoint())
    headers = {"Range": f"bytes=0-{n - 1}", "Accept-Encoding": "identity", **_auth_headers()}
    timeout = httpx2.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    try:
        with get_session().stream("GET", url, headers=headers, timeout=timeout,
                                  follow_redirects=True) as response:
            status = response.status_code
            if status in (401, 403):
                raise DownloadError(f"{repo_id} is gated or private: no access to {filename}",
                                    "accept its license on the Hub and run `hf auth login`")
            if status == 404:
                raise NotFoundError(f"{repo_id} has no file {filename}", "check the name and quant")
            if status >= 400:
                raise DownloadError(f"{_endpoint()} answered HTTP {status} for {repo_id}/{filename}")
            data = bytearray()
            for chunk in response.iter_raw():  # a server ignoring Range sends everything: stop at n
                data += chunk
                if len(data) >= n:
                    break
            return bytes(data[:n])
    except httpx2.TransportError as exc:
        raise HubUnreachableError(f"cannot reach {_endpoint()} ({type(exc).__name__})",
                                  "check the network, or size a local file with --model PATH") from exc


def read_remote_header(repo_id: str, filename: str, revision: str = "main") -> GGUFHeader:
    """The header of one GGUF file on the Hub (a few MB are read, not the file)."""
    if _offline():
        raise HubUnreachableError("offline (HF_HUB_OFFLINE is set): cannot read a header from the Hub",
                                  "size a local file with --model PATH instead")
    return read_header_with(lambda n: fetch_prefix(repo_id, filename, revision, n),
                            f"{repo_id}/{filename}", first_bytes=FIRST_BYTES)


def read_remote_model(repo_id: str, filenames: Sequence[str], revision: str = "main") -> GGUFHeader:
    """The header of a model on the Hub; for a split model (``-0000i-of-0000N``) every part's
    tensors are read, since each part describes only its own."""
    headers = [read_remote_header(repo_id, name, revision) for name in filenames]
    return headers[0] if len(headers) == 1 else merge_split_headers(headers)
