"""recommend/ is a pure layer: importing all of it pulls in neither textual nor llama_cpp."""

import subprocess
import sys


def test_recommend_imports_neither_textual_nor_llama_cpp():
    code = (
        "import importlib, pkgutil, sys\n"
        "import localchat.recommend as pkg\n"
        "for info in pkgutil.walk_packages(pkg.__path__, 'localchat.recommend.'):\n"
        "    importlib.import_module(info.name)\n"
        "import localchat.commands.recommend\n"
        "print(sorted(m for m in ('textual', 'llama_cpp', 'localchat.download') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
