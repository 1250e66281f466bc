"""``localchat rm NAME[:QUANT]``: delete a model localchat downloaded, and orphaned partial files."""

from __future__ import annotations

import argparse

ORDER = 32


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rm", help="delete a downloaded model",
        description="Delete a model from the Hugging Face cache or localchat's store (never another "
                    "app's files: LM Studio, Ollama and llama.cpp keep theirs). Refuses while a "
                    "running localchat has the model loaded. Also removes orphaned partial downloads.",
    )
    p.add_argument("spec", nargs="?", metavar="NAME[:QUANT]",
                   help="repository (ORG/NAME), its name, a file name, or a catalog name")
    p.add_argument("--partials", action="store_true",
                   help="only delete partial downloads no running pull is using")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from localchat.download.store import clean_partials, remove_model
    from localchat.errors import LocalChatError
    from localchat.units import fmt_bytes

    if args.partials:
        print(f"removed partial downloads: {fmt_bytes(clean_partials())} freed")
        return 0
    if not args.spec:
        raise LocalChatError("no model named", "`localchat rm NAME[:QUANT]`; `localchat models` lists them")
    freed = remove_model(args.spec)
    print(f"removed {args.spec}: {fmt_bytes(freed)} freed")
    return 0
