"""The ``localchat`` command: parse arguments, call into the core, print.

Subcommands live in ``localchat/commands/<name>.py``; each exposes ``add_parser(subparsers)``
and a ``run(args) -> int`` that imports what it needs when it runs, so ``--help`` and
``--version`` never import llama_cpp or textual.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from localchat import __version__
from localchat.errors import LocalChatError

DESCRIPTION = (
    "A terminal chat assistant that sets itself up for this machine: it probes the hardware, "
    "recommends the model, quant and context that fit, downloads the GGUF and chats offline. "
    "Run without a command to open the chat."
)


def _command_modules() -> list:
    import localchat.commands as pkg

    modules = [
        importlib.import_module(f"localchat.commands.{info.name}")
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and the offending text made inert): subcommands' parsers
    are of this class too."""

    def error(self, message: str) -> NoReturn:
        from localchat.safetext import one_line

        self.exit(2, f"{self.prog}: error: {one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="localchat", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"localchat {__version__}")
    parser.add_argument("--model", metavar="PATH", help="open the chat on this GGUF file (with "
                        "--endpoint: on this model of the server, by its name there)")
    parser.add_argument("--endpoint", metavar="NAME|URL",
                        help="open the chat on a model of a server with an OpenAI-compatible API "
                             "(llama-server, vLLM, Ollama, LM Studio): an [[endpoints]] name from "
                             "the config, or the server's URL; its first model unless --model names one")
    from localchat.commands._common import add_rpc_option, context_length

    parser.add_argument("--ctx", type=context_length, metavar="N",
                        help="context length (for --model, the configured model, or the first-run setup)")
    add_rpc_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.add_parser(sub)
    return parser


def _run_command(args: argparse.Namespace) -> int:
    """Run a subcommand with its stdout made inert (``ask --raw`` asks for the bytes as written);
    the TUI draws on the terminal itself and is not run through here."""
    from localchat.safetext import InertWriter

    if getattr(args, "raw", False):
        return int(args.func(args) or 0)
    stdout = sys.stdout
    sys.stdout = InertWriter(stdout)  # type: ignore[assignment]
    try:
        return int(args.func(args) or 0)
    finally:
        sys.stdout = stdout


def debug_enabled() -> bool:
    return os.environ.get("LOCALCHAT_DEBUG", "") not in ("", "0")


def _warn_about_config() -> None:
    """What is wrong in the config file, one line on stderr; the command goes on with the
    defaults for it (as the TUI does, which shows the same line as a notification)."""
    from localchat.config import load_config
    from localchat.safetext import one_line

    notice = load_config().notice
    if notice:  # it quotes the file's values: shown, not obeyed
        print(f"localchat: warning: {one_line(notice)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from localchat.loadsettings import LoadOverrides
            from localchat.tui import run_tui

            if args.endpoint is not None and args.ctx is not None:
                raise LocalChatError("--ctx sizes a model on this machine; a server sets its own "
                                     "context", "drop --ctx, or set the context on the server")
            if args.endpoint is not None and args.rpc is not None:
                raise LocalChatError("--rpc pools memory for a model on this machine; a server "
                                     "runs its own", "drop --rpc")
            # the TUI shows the config's notice itself
            return run_tui(model=args.model, overrides=LoadOverrides(n_ctx=args.ctx),
                           endpoint=args.endpoint, rpc=args.rpc)
        _warn_about_config()
        return _run_command(args)
    except LocalChatError as exc:
        if debug_enabled():
            raise
        from localchat.safetext import one_line

        # one line, always ending in a newline: the shell prompt (or the next error) starts clean;
        # control characters in it (a path, a model name) are shown, not obeyed
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"localchat: error: {one_line(message)}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug_enabled():
            raise
        print("\nlocalchat: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); silence the flush error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
