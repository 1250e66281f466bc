"""The engine in its own process (the TUI's) against the engine in this process, in one run.

Each round starts a fresh Python for each side (alternating, so drift in machine load hits both),
which: loads the model (cold: for the in-process engine that includes importing llama_cpp, as
the TUI's first load does), asks one greedy reply, unloads, loads again (warm: llama_cpp already
imported in-process; a new engine process every time on the other side) and asks again. Timed
from the caller's side: load time, time to the first text piece (TTFT), generation tokens/s
(tokens after the first piece / time from the first piece to the last). Resident memory (RSS) of the
caller is read before the first load, with the model loaded, and after unloading.
A third side starts the engine process ahead (``spawn.prestart``, as the chat does while it
opens and while the model menu is open) and loads into it. Targets: process / in-process load
time and TTFT <= 1.05; the process side's RSS after unloading within 30 MiB of before.

    python benchmarks/engine_process.py [--model PATH] [--rounds 3] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Write a detailed story about a lighthouse keeper who finds a message in a bottle."
MIB = 1024 * 1024
AHEAD_S = 2.0  # time the process started ahead has before the load (the user reading the menu)
SIDES = ("inproc", "process", "ahead")


def rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def one_reply(engine, max_tokens: int) -> tuple[float, float, int]:
    """(TTFT s, generation tokens/s, tokens) of one greedy reply, timed by the caller. The engine
    process sends a fast reply's text in batches, each with its token count: tokens/s is the
    tokens after the first piece over the time from the first piece to the last."""
    from localchat.engine import Message, Sampling, TextChunk

    start = time.perf_counter()
    first_at = last_at = 0.0
    first_tokens = tokens = 0
    for event in engine.chat([Message("user", PROMPT)], Sampling(temperature=0.0, max_tokens=max_tokens)):
        if isinstance(event, TextChunk):
            last_at = time.perf_counter()
            tokens += event.tokens
            if not first_at:
                first_at, first_tokens = last_at, tokens
    gen_tps = (tokens - first_tokens) / (last_at - first_at) if last_at > first_at else 0.0
    return first_at - start, gen_tps, tokens


def worker(side: str, model: str, ctx: int, threads: int | None, max_tokens: int) -> None:
    from localchat.loadsettings import LoadSettings

    settings = LoadSettings(n_ctx=ctx, n_threads=threads)
    if side in ("process", "ahead"):
        from localchat.engine.process import EngineProcess as load
        from localchat.engine.spawn import prestart
    else:
        from localchat.engine.llama import LlamaEngine as load  # llama_cpp is imported at load
    result: dict[str, float] = {"rss_before": rss_bytes()}
    for phase in ("cold", "warm"):
        if side == "ahead":  # as the chat does while it opens, and while the model menu is open
            prestart()
            time.sleep(AHEAD_S)
        start = time.perf_counter()
        engine = load(model, settings)
        result[f"load_{phase}_s"] = time.perf_counter() - start
        ttft, tps, pieces = one_reply(engine, max_tokens)
        result.update({f"ttft_{phase}_s": ttft, f"gen_tps_{phase}": tps, "tokens": pieces})
        if phase == "cold":
            result["rss_loaded"] = rss_bytes()
        engine.close()
        if phase == "cold":
            result["rss_after"] = rss_bytes()
    result["llama_cpp_imported"] = float("llama_cpp" in sys.modules)
    print(json.dumps(result))


def run_side(side: str, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", side, "--model", args.model, "--ctx", str(args.ctx),
               "--max-tokens", str(args.max_tokens)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model is None:
        from tests.testmodels import smollm2

        args.model = str(smollm2())
    if args.worker:
        worker(args.worker, args.model, args.ctx, args.threads, args.max_tokens)
        return 0

    runs: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
    for _ in range(args.rounds):
        for side in SIDES:
            runs[side].append(run_side(side, args))

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    print(f"{Path(args.model).name}, ctx {args.ctx}, {args.max_tokens} tokens, {args.rounds} rounds "
          f"(medians), {os.cpu_count()} CPUs")
    print("process: a new engine process per load; ahead: one started "
          f"{AHEAD_S:.0f} s before the load (spawn.prestart, as the chat does)")
    print(f"{'':24}{'in-process':>12}{'process':>12}{'ratio':>8}{'ahead':>12}{'ratio':>8}")
    for key, label, unit in (("load_cold_s", "load, first (s)", 1.0), ("load_warm_s", "load, again (s)", 1.0),
                             ("ttft_cold_s", "TTFT, first load (ms)", 1000.0),
                             ("ttft_warm_s", "TTFT, again (ms)", 1000.0),
                             ("gen_tps_cold", "gen tok/s", 1.0), ("gen_tps_warm", "gen tok/s, again", 1.0)):
        a, b, c = median("inproc", key), median("process", key), median("ahead", key)
        print(f"{label:24}{a * unit:>12.3f}{b * unit:>12.3f}{b / a:>8.3f}{c * unit:>12.3f}{c / a:>8.3f}")
    print(f"\n{'caller RSS (MiB)':24}{'before':>10}{'loaded':>10}{'unloaded':>10}{'after-before':>14}")
    for side in SIDES:
        before, loaded, after = (median(side, k) / MIB for k in ("rss_before", "rss_loaded", "rss_after"))
        print(f"{side:24}{before:>10.1f}{loaded:>10.1f}{after:>10.1f}{after - before:>14.1f}")
    imported = [bool(r["llama_cpp_imported"]) for side in ("process", "ahead") for r in runs[side]]
    print(f"\nllama_cpp imported by the process-host caller: {any(imported)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
