"""What a fresh interpreter loads: only the engine imports llama_cpp and only the TUI imports
textual (harlequin's boundary test). Which package may import which is
tests/test_import_contract.py's check; this one catches a third-party import that module-level
code pulls in however it is reached."""

import subprocess
import sys

import pytest

CORE = ["localchat.hardware", "localchat.recommend", "localchat.download", "localchat.engine",
        "localchat.options", "localchat.loadsettings",
        "localchat.history", "localchat.config", "localchat.ggufmeta", "localchat.cli"]


def _loaded_after(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("package", CORE)
def test_core_package_does_not_import_textual_or_llama_cpp(package):
    import importlib.util

    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} not present")
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for info in pkgutil.walk_packages(getattr(pkg, '__path__', []), pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(sorted(m for m in ('textual', 'llama_cpp') if m in sys.modules))\n"
    )
    assert _loaded_after(code) == "[]"


def test_recommend_command_loads_no_downloader():
    """``localchat recommend`` starts without the downloader (and huggingface_hub behind it):
    it imports what it needs of it only for ``--model REPO`` and the models on disk."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import localchat.recommend as pkg\n"
        "for info in pkgutil.walk_packages(pkg.__path__, 'localchat.recommend.'):\n"
        "    importlib.import_module(info.name)\n"
        "import localchat.commands.recommend\n"
        "print(sorted(m for m in ('textual', 'llama_cpp', 'localchat.download') if m in sys.modules))\n"
    )
    assert _loaded_after(code) == "[]"
