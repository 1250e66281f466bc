"""``localchat bench``: prompt and generation tokens/s of a model here (like llama-bench)."""

from __future__ import annotations

import argparse
import dataclasses
import json

from localchat.commands._common import (
    MAX_THREADS,
    add_model_options,
    model_and_settings,
    positive_int,
    tokens_count,
)

ORDER = 20


def _thread_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 1,2,4") from None
    if not values or min(values) <= 0 or max(values) > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"{text!r}: thread counts must be from 1 to {MAX_THREADS}")
    return values


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure prompt and generation tokens/s of a model",
                       description="Measure prompt processing (pp) and generation (tg) speed.")
    add_model_options(p)
    p.add_argument("--pp", type=tokens_count, default=512, metavar="N", help="prompt tokens (512)")
    p.add_argument("--tg", type=tokens_count, default=128, metavar="N", help="generated tokens (128)")
    p.add_argument("--reps", type=positive_int, default=3, metavar="N", help="repetitions (3)")
    p.add_argument("--threads-list", type=_thread_list, metavar="N,N,...",
                   help="compare generation thread counts, e.g. 1,2,4")
    p.add_argument("--json", action="store_true", help="print JSON with pp_tps and tg_tps")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from localchat.engine.bench import NOISY_SPREAD, run_bench
    from localchat.errors import LocalChatError

    path, base = model_and_settings(args)
    if args.pp + args.tg + 1 > base.n_ctx:
        raise LocalChatError(f"--pp {args.pp} + --tg {args.tg} do not fit in the context ({base.n_ctx})",
                             "raise --ctx or lower --pp/--tg")
    counts = args.threads_list or [base.n_threads or 0]
    results = []
    for n in counts:
        settings = dataclasses.replace(base, n_threads=n or None)
        results.append(run_bench(path, settings, pp=args.pp, tg=args.tg, reps=args.reps))
    if args.json:
        rows = [{**dataclasses.asdict(r), "noisy": r.noisy} for r in results]
        print(json.dumps(rows[0] if len(rows) == 1 else {"runs": rows, **rows[0]}))
        return 0
    print(f"{results[0].model} {results[0].quant}  ({path})")
    print(f"{'threads':>7}  {'test':>6}  {'tokens/s':>14}")
    for r in results:
        print(f"{r.n_threads:>7}  {'pp' + str(r.pp_tokens):>6}  {r.pp_tps:>8.1f} ± {r.pp_tps_std:<4.1f}")
        print(f"{r.n_threads:>7}  {'tg' + str(r.tg_tokens):>6}  {r.tg_tps:>8.1f} ± {r.tg_tps_std:<4.1f}")
    if len(results) > 1:
        best = max(results, key=lambda r: r.tg_tps)
        print(f"fastest generation: {best.n_threads} threads ({best.tg_tps:.1f} tokens/s)")
    if any(r.noisy for r in results):
        print(f"note: the runs varied by more than {NOISY_SPREAD:.0%} after the warm-up run, so another "
              "program was probably using the CPU; close it, or raise --reps")
    return 0
