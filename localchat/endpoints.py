"""Servers with an OpenAI-compatible API whose models the chat can use: ``[[endpoints]]`` in the
config (a name, a base URL, and the NAME of the environment variable that holds the API key),
checked value by value. ``config.find_endpoint`` finds one by name or URL."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from localchat.safetext import quoted


@dataclass(frozen=True)
class Endpoint:
    """A server with an OpenAI-compatible API (llama-server, vLLM, Ollama, LM Studio) whose models
    the chat can use: ``[[endpoints]]`` in the config, or ``--endpoint URL``. ``api_key_env`` is the
    NAME of the environment variable that holds its API key: the key never sits in the config."""

    name: str
    base_url: str  # with or without the trailing /v1
    api_key_env: str = ""

    def api_key(self) -> str:
        """The key, read from the environment when asked for ("" when none is set)."""
        return os.environ.get(self.api_key_env, "").strip() if self.api_key_env else ""


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL = re.compile(r"https?://[^/\s?#]+(/[^\s?#]*)?", re.IGNORECASE)


def is_url(text: str) -> bool:
    """An http:// or https:// URL (what ``base_url`` and ``--endpoint URL`` take)."""
    return bool(_URL.fullmatch(text))


def endpoint_problem(name: Any, base_url: Any, api_key_env: Any) -> str:
    """What is wrong with an endpoint's values, in words ("" when nothing is)."""
    if not isinstance(name, str) or not name.strip() or "/" in name or name != name.strip():
        return f"name must be a short text without '/' (got {quoted(name)})"
    if not isinstance(base_url, str) or not _URL.fullmatch(base_url):
        return f"base_url must be an http:// or https:// URL (got {quoted(base_url)})"
    if not isinstance(api_key_env, str) or (api_key_env and not _ENV_NAME.fullmatch(api_key_env)):
        return ("api_key_env must be the NAME of an environment variable, such as HOME_LLM_KEY "
                f"(got {quoted(api_key_env)})")
    return ""


def parse_endpoints(raw: Any, problems: list[str]) -> tuple[Endpoint, ...]:
    """``[[endpoints]]`` tables: ``name``, ``base_url``, ``api_key_env``. A wrong one is skipped and
    said in ``problems``; a key written into the file (``api_key``) is never read nor quoted."""
    if not isinstance(raw, list):
        problems.append("endpoints must be [[endpoints]] tables, each with a name and a base_url")
        return ()
    found: dict[str, Endpoint] = {}
    for n, table in enumerate(raw, 1):
        where = f"[[endpoints]] #{n}"
        if not isinstance(table, dict):
            problems.append(f"{where} must be a table with a name and a base_url, skipped")
            continue
        name, url, env = table.get("name"), table.get("base_url"), table.get("api_key_env", "")
        if isinstance(name, str) and name.strip():
            where += f" ({quoted(name)})"
        if "api_key" in table:  # the value is a secret: named, never shown
            problems.append(f"{where}: api_key is not read (keep the key out of the config: put it "
                            "in an environment variable and name that variable in api_key_env)")
        problem = endpoint_problem(name, url, env)
        if not problem and name in found:
            problem = "another endpoint has this name"
        if problem:
            problems.append(f"{where}: {problem}, skipped")
            continue
        found[str(name)] = Endpoint(str(name), str(url).rstrip("/"), str(env))
    return tuple(found.values())
