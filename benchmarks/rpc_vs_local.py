"""A model pooled over two llama.cpp RPC workers on loopback (``localchat worker``) against the
same model in localchat's own engine, in one run: load time, generation tok/s, and what the
recommender estimated for each (recommend/pool.py adds the network's cost on the pool side).

Each worker gets the threads the local engine uses (the workers run one after the other for
each token, never at once). Both engines are loaded, then greedy replies alternate, the order
swapped every round; tok/s is the engine's own figure (ReplyStats.gen_tps). On loopback the
network costs little: what the pool loses is the RPC round trips and the graph split.

``--lan`` puts a relay in front of each worker (tests/rpc/linkproxy.py) that makes the link look
like a LAN (a one-way delay and a bandwidth, ``--one-way-ms``/``--mbytes-per-s``; gigabit
Ethernet by default) and estimates the pool over that link; ``tc netem`` would do it in the
kernel, but the test machines have no netem. The relay also counts, per generated token, the
answers the client waited for and the bytes each way, against what the estimate counts.

    python benchmarks/rpc_vs_local.py [--model PATH] [--rounds 3] [--max-tokens 128] [--ctx 2048]
                                      [--threads N] [--lan [--one-way-ms 0.15] [--mbytes-per-s 117.5]]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localchat.recommend.network import GIGABIT_LAN  # noqa: E402

PROMPT = "Write a detailed story about a lighthouse keeper who finds a message in a bottle."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads locally and on each worker (default: physical cores)")
    parser.add_argument("--lan", action="store_true", help="the workers behind a LAN-like relay")
    parser.add_argument("--one-way-ms", type=float, default=GIGABIT_LAN.round_trip_s / 2 * 1e3)
    parser.add_argument("--mbytes-per-s", type=float, default=GIGABIT_LAN.bandwidth_gbps * 1e3)
    args = parser.parse_args()
    if args.model is None:
        from tests.testmodels import smollm2

        args.model = str(smollm2())

    from contextlib import ExitStack
    from dataclasses import replace

    from localchat.engine import Message, ReplyStats, Sampling
    from localchat.engine.buildinfo import llama_build_info_in_child
    from localchat.engine.llama import default_generation_threads
    from localchat.engine.process import EngineProcess
    from localchat.engine.rpcprobe import workers_memory
    from localchat.gguffile import read_header
    from localchat.hardware.probe import probe
    from localchat.loadsettings import LoadSettings
    from localchat.recommend import evaluate_file
    from localchat.recommend.calibration import Calibration
    from localchat.recommend.pool import FLOAT_BYTES, ROUND_TRIPS_PER_WORKER, RPC_COMMAND_BYTES
    from localchat.recommend.profiles import budget_for
    from localchat.recommend.shape import shape_from_header
    from tests.rpc.linkproxy import LinkProxy
    from tests.rpc.workers import Worker

    threads = args.threads or default_generation_threads()
    print(f"{Path(args.model).name}, ctx {args.ctx}, {args.max_tokens} tokens, {args.rounds} rounds, "
          f"{threads} threads locally and on each worker")
    sampling = Sampling(temperature=0.0, max_tokens=args.max_tokens)
    one_way_s, bytes_per_s = args.one_way_ms / 1e3, args.mbytes_per_s * 1e6
    if args.lan:
        print(f"the workers behind a relay: {args.one_way_ms:.3f} ms each way, "
              f"{args.mbytes_per_s:.1f} MB/s")
    with ExitStack() as stack:
        first, second = (stack.enter_context(Worker(threads=threads)) for _ in range(2))
        links = [stack.enter_context(LinkProxy(w.port, one_way_s=one_way_s, bytes_per_s=bytes_per_s))
                 for w in (first, second)] if args.lan else []
        pool = tuple(link.endpoint for link in links) or (first.endpoint, second.endpoint)
        machine = probe(build_info=llama_build_info_in_child)
        pooled_machine = replace(machine, rpc_workers=workers_memory(pool))
        pooled = budget_for(pooled_machine)
        if args.lan:  # the link the relay makes, not the loopback it runs on
            pooled = replace(pooled, link_round_trip_s=2 * one_way_s, link_gbps=bytes_per_s / 1e9,
                             link_words="the relay's LAN")
        estimates = {name: evaluate_file(profile, args.model, ctx=args.ctx, calibration=Calibration())
                     for name, profile in (("local", machine), ("pool", pooled))}
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
        tokens = 0  # generated by the pool in the counted rounds
        try:
            for name in ("local", "pool"):  # a first reply each, not counted: caches warm
                list(engines[name].chat([Message("user", PROMPT)], sampling))
            counted_from = [link.counts() for link in links]
            for i in range(args.rounds):
                for name in (("local", "pool") if i % 2 == 0 else ("pool", "local")):
                    stats = list(engines[name].chat([Message("user", PROMPT)], sampling))[-1]
                    assert isinstance(stats, ReplyStats)
                    tps[name].append(stats.gen_tps)
                    if name == "pool":
                        tokens += stats.completion_tokens
            crossed = [link.since(start) for start, link in zip(counted_from, links, strict=True)]
        finally:
            for engine in engines.values():
                engine.close()
    shape = shape_from_header(read_header(args.model))
    if crossed:
        print("per generated token (the relay's count; the estimate's):")
    for i, (answers, to_worker, from_worker) in enumerate(crossed):
        last = i == len(crossed) - 1
        modelled_in = shape.n_embd * FLOAT_BYTES + RPC_COMMAND_BYTES
        modelled_out = (shape.n_vocab if last else shape.n_embd) * FLOAT_BYTES
        print(f"  worker {i + 1}: {answers / tokens:.2f} round trips ({ROUND_TRIPS_PER_WORKER}), "
              f"{to_worker / tokens / 1e3:.1f} kB to it ({modelled_in / 1e3:.1f}), "
              f"{from_worker / tokens / 1e3:.1f} kB back ({modelled_out / 1e3:.1f})")
    print(f"{'':6} {'load s':>7} {'gen tok/s':>10} {'estimate':>12}  where")
    for name in ("local", "pool"):
        c = estimates[name]
        print(f"{name:6} {load_s[name]:7.2f} {statistics.median(tps[name]):10.1f} "
              f"{c.tps_text:>12}  {c.where()}")
    local, pooled_tps = statistics.median(tps["local"]), statistics.median(tps["pool"])
    est_local, est_pool = estimates["local"].est_tps, estimates["pool"].est_tps
    print(f"pool / local: measured {pooled_tps / local:.2f}, estimated {est_pool / est_local:.2f}")
    print(f"the pool adds a token: measured {(1 / pooled_tps - 1 / local) * 1e3:.2f} ms, "
          f"estimated {(1 / est_pool - 1 / est_local) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
