"""``localchat models``: the GGUF models on this machine, from every tool that keeps them."""

from __future__ import annotations

import argparse
import json
import time

ORDER = 31


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models", help="list the models on this machine",
        description="List GGUF models found in the Hugging Face cache, localchat's store, LM Studio, "
                    "llama.cpp's cache, Ollama, and the folders in the config (models.dirs).",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run)


def _ago(ts: float | None) -> str:
    if ts is None:
        return "never"
    s = max(0, time.time() - ts)
    for unit, scale in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= scale:
            return f"{s / scale:.0f} {unit} ago"
    return "just now"


def run(args: argparse.Namespace) -> int:
    from localchat.download.store import list_local_models, list_partial_downloads
    from localchat.units import fmt_bytes

    models = list_local_models()
    if args.json:
        print(json.dumps([
            {"name": m.name, "repo": m.repo, "quant": m.quant, "size_bytes": m.size_bytes,
             "path": str(m.path), "source": m.source, "last_used": m.last_used} for m in models
        ], indent=1))
        return 0
    stopped = list_partial_downloads()
    if not models:
        print("no models found; `localchat pull ORG/NAME` downloads one (or `localchat pull starter`)")
    else:
        rows = [("NAME", "REPO", "QUANT", "SIZE", "SOURCE", "LAST USED", "PATH")]
        rows += [(m.name, m.repo or "-", m.quant, fmt_bytes(m.size_bytes), m.source,
                  _ago(m.last_used), str(m.path)) for m in models]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    for p in stopped:
        print(f"stopped download: {p.spec} {fmt_bytes(p.done_bytes)} of {fmt_bytes(p.size_bytes)} "
              f"({p.fraction:.0%}); `localchat pull {p.spec}` resumes it, `localchat rm --partials` "
              "deletes it")
    return 0
