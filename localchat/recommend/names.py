"""What people call a model file: one rule for the CLI and the TUI alike.

GGUF headers can name a model "Smollm2 135M 8k Lc100K Mix1 Ep2"; the catalog, or the repository
the file was downloaded from, says "SmolLM2-135M-Instruct".
"""

from __future__ import annotations

from pathlib import Path

from localchat.errors import LocalChatError
from localchat.ggufmeta import name_from_repo
from localchat.recommend.catalog import load_catalog


def model_display_name(path: str | Path, header_name: str = "", repo: str = "") -> str:
    """The catalog entry's name when the file is a known model, else the Hugging Face repository
    it comes from (``repo``, or the cache folder that holds it), else the GGUF header's name,
    else the file's stem."""
    path = Path(path)
    try:
        entry = load_catalog().match_file(path.name)  # the catalog is read once, then cached
    except LocalChatError:
        entry = None
    if entry is not None:
        return entry.name
    repo_folder = next((p for p in reversed(path.parts) if p.startswith("models--")), None)
    if repo_folder and not repo:
        repo = repo_folder.removeprefix("models--").replace("--", "/")
    if repo:
        return name_from_repo(repo)
    return header_name or path.name.removesuffix(".gguf")
