"""What ``pip install .`` installs: the sdist and the wheel built from it hold every module and
data file of the package. An editable install maps the source tree and hides a subpackage that
``find_packages`` leaves out (a folder without ``__init__.py``); these tests do not."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_PARTS = {"__pycache__"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not SKIP_PARTS & set(p.parts) and p.suffix not in SKIP_SUFFIXES)


def expected_installed() -> set[str]:
    """Every file a user must get, by its path inside site-packages."""
    names = {p.relative_to(ROOT).as_posix() for p in _files(ROOT / "localchat")}
    assets = ROOT / "assets"
    names |= {"localchat/assets/" + p.relative_to(assets).as_posix() for p in _files(assets)}
    return names


def expected_in_sdist() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for folder in ("localchat", "assets")
            for p in _files(ROOT / folder)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``python -m build``: the sdist from the tree, then the wheel from that sdist, as pip does
    for a user who installs from a source archive."""
    out = tmp_path_factory.mktemp("dist")
    # a copy without build/ and *.egg-info so leftovers of an earlier build cannot fill gaps
    src = tmp_path_factory.mktemp("src")
    for path in _tree_files():
        target = src / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return sdist, wheel


def _tree_files() -> list[Path]:
    """The files git would put in a clean clone (tracked and new, not ignored)."""
    proc = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                           "--exclude-standard"], check=True, capture_output=True)
    paths = [ROOT / name for name in proc.stdout.decode().split("\0") if name]
    return [p for p in paths if p.is_file()]


def test_wheel_holds_every_module_and_data_file(built: tuple[Path, Path]) -> None:
    _, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(expected_installed() - names)
    assert not missing, f"{len(missing)} files missing from the wheel: {missing[:20]}"


def test_sdist_holds_every_module_and_data_file(built: tuple[Path, Path]) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as tf:
        names = {name.split("/", 1)[1] for name in tf.getnames() if "/" in name}
    missing = sorted(expected_in_sdist() - names)
    assert not missing, f"{len(missing)} files missing from the sdist: {missing[:20]}"


def test_wheel_declares_the_console_script(built: tuple[Path, Path]) -> None:
    _, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        (entry_points,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(entry_points).decode()
    assert "localchat = localchat.cli:main" in text


def test_every_package_folder_is_a_regular_package() -> None:
    """The cause, said directly: a folder of modules without ``__init__.py`` is not shipped."""
    folders = {p.parent for p in _files(ROOT / "localchat") if p.suffix == ".py"}
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    assert not missing, f"add an __init__.py to: {missing}"
