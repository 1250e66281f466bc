"""The data flows one way: core packages never import the TUI, and only the engine imports
llama_cpp (harlequin's boundary test, run in a fresh interpreter)."""

import subprocess
import sys

import pytest

CORE = ["localchat.hardware", "localchat.recommend", "localchat.download", "localchat.engine",
        "localchat.options",
        "localchat.history", "localchat.config", "localchat.ggufmeta", "localchat.cli"]


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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
