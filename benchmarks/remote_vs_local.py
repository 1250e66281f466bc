"""A model through a server on loopback (``python -m llama_cpp.server``, localchat's
``RemoteEngine``) against the same model in localchat's own engine (its process, as the chat runs
it), in one run. Target: remote / local generation tok/s >= 0.95.

Both are loaded once, with the same threads (the server is given localchat's defaults: physical
cores for generation, logical ones for the prompt) and context; then the replies alternate, the
order swapped every round, so drift in the machine's load hits both sides. Each reply is one
greedy answer to the same prompt, timed by the caller from the text pieces as they arrive:
generation tok/s = (pieces - 1) / (last piece - first piece), TTFT = first piece - request.
The machine's load (``uptime``) is printed before and after: on a shared machine the ratio is
only as good as the load was steady.

    python benchmarks/remote_vs_local.py [--model PATH] [--rounds 5] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Write a detailed story about a lighthouse keeper who finds a message in a bottle."


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_reply(engine, max_tokens: int) -> tuple[float, float, int]:
    """(TTFT s, generation tok/s, pieces) of one greedy reply, timed by the caller."""
    from localchat.engine import Message, Sampling, TextChunk

    start = time.perf_counter()
    times = []
    for event in engine.chat([Message("user", PROMPT)], Sampling(temperature=0.0, max_tokens=max_tokens)):
        if isinstance(event, TextChunk):
            times.append(time.perf_counter())
    gen_tps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return times[0] - start, gen_tps, len(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--ctx", type=int, default=2048)
    args = parser.parse_args()
    if args.model is None:
        from tests.testmodels import smollm2

        args.model = str(smollm2())

    from localchat.config import Endpoint
    from localchat.engine.llama import default_batch_threads, default_generation_threads
    from localchat.engine.process import EngineProcess
    from localchat.engine.remote import RemoteEngine
    from localchat.engine.target import RemoteModel
    from localchat.loadsettings import LoadSettings
    from tests.remote.llamaserver import ALIAS, LlamaCppServer

    threads, batch_threads = default_generation_threads(), default_batch_threads()
    print(f"{Path(args.model).name}, ctx {args.ctx}, {args.max_tokens} tokens, {args.rounds} rounds, "
          f"{threads} generation / {batch_threads} prompt threads each side, {os.cpu_count()} CPUs")
    print(f"before: {uptime()}")
    results: dict[str, list[tuple[float, float, int]]] = {"remote": [], "local": []}
    with LlamaCppServer(Path(args.model), n_ctx=args.ctx, n_threads=threads,
                        n_threads_batch=batch_threads) as server:
        remote = RemoteEngine(RemoteModel(Endpoint("loopback", server.url), ALIAS))
        local = EngineProcess(args.model, LoadSettings(n_ctx=args.ctx))
        try:
            for engine in (remote, local):  # a first reply each, not counted: caches warm
                one_reply(engine, 16)
            for n in range(args.rounds):
                order = [("remote", remote), ("local", local)]
                for side, engine in order if n % 2 == 0 else order[::-1]:
                    results[side].append(one_reply(engine, args.max_tokens))
                r, loc = results["remote"][-1], results["local"][-1]
                print(f"  round {n + 1}: remote {r[1]:6.1f} tok/s ({r[2]} pieces)   "
                      f"local {loc[1]:6.1f} tok/s ({loc[2]} pieces)   ratio {r[1] / loc[1]:.3f}")
        finally:
            remote.close()
            local.close()
    print(f"after:  {uptime()}")

    def median(side: str, i: int) -> float:
        return statistics.median(x[i] for x in results[side])

    print(f"\n{'':22}{'remote':>10}{'local':>10}{'ratio':>8}")
    print(f"{'gen tok/s (median)':22}{median('remote', 1):>10.1f}{median('local', 1):>10.1f}"
          f"{median('remote', 1) / median('local', 1):>8.3f}   (target >= 0.95)")
    print(f"{'TTFT ms (median)':22}{median('remote', 0) * 1000:>10.1f}{median('local', 0) * 1000:>10.1f}"
          f"{median('remote', 0) / median('local', 0):>8.3f}")
    ratios = [r[1] / loc[1] for r, loc in zip(results["remote"], results["local"], strict=True)]
    print(f"per-round ratios: {', '.join(f'{x:.3f}' for x in ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
