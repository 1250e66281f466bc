"""``localchat rm NAME[:QUANT]``: delete a model localchat downloaded, and orphaned partial files."""

from __future__ import annotations

import argparse

ORDER = 32


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rm", help="delete a downloaded model",
        description="Delete a model from the Hugging Face cache or localchat's store (never another "
                    "app's files: LM Studio, Ollama and llama.cpp keep theirs). Refuses while a "
                    "running localchat has the model loaded, and asks for --yes before deleting the model "
                    "localchat opens. Also removes orphaned partial downloads.",
    )
    p.add_argument("spec", nargs="?", metavar="NAME[:QUANT]",
                   help="repository (ORG/NAME), its name, a file name, or a catalog name")
    p.add_argument("--partials", action="store_true",
                   help="only delete partial downloads no running pull is using")
    p.add_argument("--yes", action="store_true",
                   help="delete it even when it is the model localchat opens (the configured one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from localchat.commands._source import catalog_repo
    from localchat.config import load_config
    from localchat.download.store import clean_partials, is_file_of, model_to_remove, remove
    from localchat.errors import LocalChatError
    from localchat.units import fmt_bytes

    if args.partials:
        print(f"removed partial downloads: {fmt_bytes(clean_partials())} freed")
        return 0
    if not args.spec:
        raise LocalChatError("no model named", "`localchat rm NAME[:QUANT]`; `localchat models` lists them")
    model = model_to_remove(args.spec, repo_for_name=catalog_repo)
    configured = load_config().model.path
    is_configured = bool(configured) and is_file_of(model, configured)
    if is_configured and not args.yes:
        raise LocalChatError(
            f"{model.spec} is the model localchat opens (the config's [model] path)",
            f"`localchat rm {args.spec} --yes` deletes it anyway; the next `localchat` then opens "
            "the setup to choose another")
    freed = remove(model)
    print(f"removed {args.spec}: {fmt_bytes(freed)} freed")
    if is_configured:
        print("it was the configured model: the next `localchat` opens the setup to choose another")
    return 0
