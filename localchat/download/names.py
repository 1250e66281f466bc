"""What people call a model file: one rule for the CLI and the TUI alike.

GGUF headers can name a model "Smollm2 135M 8k Lc100K Mix1 Ep2"; the catalog, or the repository
the file was downloaded from, says "SmolLM2-135M-Instruct".
"""

from __future__ import annotations

from pathlib import Path

from localchat.download.discover import display_name
from localchat.errors import LocalChatError


def model_display_name(path: str | Path, header_name: str = "", repo: str = "") -> str:
    """The catalog entry's name when the file is a known model, else the Hugging Face repository
    it comes from (``repo``, or the cache folder that holds it), else the GGUF header's name,
    else the file's stem."""
    from localchat.recommend.catalog import load_catalog  # cached after the first call

    path = Path(path)
    try:
        entry = load_catalog().match_file(path.name)
    except LocalChatError:
        entry = None
    if entry is not None:
        return entry.name
    repo_folder = next((p for p in reversed(path.parts) if p.startswith("models--")), None)
    if repo_folder and not repo:
        repo = repo_folder.removeprefix("models--").replace("--", "/")
    if repo:
        return display_name(repo)
    return header_name or path.name.removesuffix(".gguf")
