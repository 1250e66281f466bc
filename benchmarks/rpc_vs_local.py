"""A model pooled over two llama.cpp RPC workers on loopback (``localchat worker``) against the
same model in localchat's own engine, in one run: load time, generation tok/s, and what the
recommender estimated for each (recommend/pool.py adds the network's cost on the pool side).

Each worker gets the threads the local engine uses (the workers run one after the other for
each token, never at once). Both engines are loaded, then greedy replies alternate, the order
swapped every round; tok/s is the engine's own figure (ReplyStats.gen_tps). On loopback the
network costs little: what the pool loses is the RPC round trips and the graph split.

    python benchmarks/rpc_vs_local.py [--model PATH] [--rounds 3] [--max-tokens 128] [--ctx 2048]
                                      [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Write a detailed story about a lighthouse keeper who finds a message in a bottle."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads locally and on each worker (default: physical cores)")
    args = parser.parse_args()
    if args.model is None:
        from tests.testmodels import smollm2

        args.model = str(smollm2())

    from dataclasses import replace

    from localchat.engine import Message, ReplyStats, Sampling
    from localchat.engine.buildinfo import llama_build_info_in_child
    from localchat.engine.llama import default_generation_threads
    from localchat.engine.process import EngineProcess
    from localchat.engine.rpcprobe import workers_memory
    from localchat.hardware.probe import probe
    from localchat.loadsettings import LoadSettings
    from localchat.recommend import evaluate_file
    from localchat.recommend.calibration import Calibration
    from tests.rpc.workers import Worker

    threads = args.threads or default_generation_threads()
    print(f"{Path(args.model).name}, ctx {args.ctx}, {args.max_tokens} tokens, {args.rounds} rounds, "
          f"{threads} threads locally and on each worker")
    sampling = Sampling(temperature=0.0, max_tokens=args.max_tokens)
    with Worker(threads=threads) as first, Worker(threads=threads) as second:
        pool = (first.endpoint, second.endpoint)
        machine = probe(build_info=llama_build_info_in_child)
        pooled_machine = replace(machine, rpc_workers=workers_memory(pool))
        estimates = {name: evaluate_file(profile, args.model, ctx=args.ctx, calibration=Calibration())
                     for name, profile in (("local", machine), ("pool", pooled_machine))}
        engines, load_s = {}, {}
        for name, workers in (("local", ()), ("pool", pool)):
            t0 = time.perf_counter()
            engines[name] = EngineProcess(args.model, LoadSettings(n_ctx=args.ctx, n_threads=threads,
                                                                   rpc_workers=workers))
            load_s[name] = time.perf_counter() - t0
        lines = [line for line in engines["pool"].log_lines() if "model buffer size" in line]
        print("pool's buffers (llama.cpp's log):")
        for line in lines:
            print("  " + line.strip())
        tps: dict[str, list[float]] = {"local": [], "pool": []}
        try:
            for name in ("local", "pool"):  # a first reply each, not counted: caches warm
                list(engines[name].chat([Message("user", PROMPT)], sampling))
            for i in range(args.rounds):
                for name in (("local", "pool") if i % 2 == 0 else ("pool", "local")):
                    stats = list(engines[name].chat([Message("user", PROMPT)], sampling))[-1]
                    assert isinstance(stats, ReplyStats)
                    tps[name].append(stats.gen_tps)
        finally:
            for engine in engines.values():
                engine.close()
    print(f"{'':6} {'load s':>7} {'gen tok/s':>10} {'estimate':>12}  where")
    for name in ("local", "pool"):
        c = estimates[name]
        print(f"{name:6} {load_s[name]:7.2f} {statistics.median(tps[name]):10.1f} "
              f"{c.tps_text:>12}  {c.where()}")
    ratio = statistics.median(tps["pool"]) / statistics.median(tps["local"])
    est_ratio = estimates["pool"].est_tps / estimates["local"].est_tps
    print(f"pool / local: measured {ratio:.2f}, estimated {est_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
