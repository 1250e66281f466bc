"""`localchat ask` generation speed against llama.cpp's own `llama-bench` tg, side by side.

For each model, each rep runs both, one after the other (which goes first alternates), with the
same file, threads, KV type and depth: `localchat ask --json` writes a reply of --tokens tokens
(a story prompt, the configured sampling, a fixed seed) and its gen_tps is the engine's own
figure; `llama-bench -p 0 -n TOKENS -d DEPTH` decodes as many tokens after DEPTH prompt tokens
(DEPTH: ask's prompt length) with no sampling at all. The ratio is ask / llama-bench per rep,
and of the medians. Target (issue 15): >= 0.95 for both test models.

On a shared machine speeds swing by 2x from run to run (llama.cpp's threads wait on each other
when another program takes a core): run it on a quiet one; the load average is printed before
and after.

llama-bench comes from the llama.cpp that llama-cpp-python vendors, built in a scratch folder
(never committed), e.g. for llama-cpp-python 0.3.36 on a CPU that reports AMX it cannot run:

    pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36 -d /tmp/llama-build
    tar xzf ... && cmake -S .../vendor/llama.cpp -B /tmp/llama-build/build -G Ninja \\
        -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TOOLS=ON -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \\
        -DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" -DCMAKE_CXX_FLAGS="(same)"
    ninja -C /tmp/llama-build/build llama-bench

    python benchmarks/ask_vs_llama_bench.py [--llama-bench PATH] [--model PATH ...] [--reps 5]
                                            [--tree OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Write a very long story about a lighthouse keeper who finds a message in a bottle."
DEFAULT_BENCH = "/tmp/llama-build/build/bin/llama-bench"


@dataclass(frozen=True)
class Setup:
    bench: str  # the llama-bench executable
    tree: str  # the localchat source tree ask runs from
    threads: int
    ctx: int
    tokens: int
    home: str  # LOCALCHAT_HOME for ask: its calibration records stay out of yours


def run_ask(setup: Setup, model: str, tokens: int, seed: int) -> dict:
    env = {**os.environ, "LOCALCHAT_HOME": setup.home, "PYTHONPATH": setup.tree}
    cmd = [sys.executable, "-m", "localchat", "ask", "--model", model,
           "--threads", str(setup.threads), "--ctx", str(setup.ctx), "--max-tokens", str(tokens),
           "--seed", str(seed), "--json", PROMPT]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_llama_bench(setup: Setup, model: str, tokens: int, depth: int, use_mmap: bool) -> float:
    cmd = [setup.bench, "-m", model, "-t", str(setup.threads), "-p", "0", "-n", str(tokens),
           "-d", str(depth), "-r", "1", "-fa", "off", "-ctk", "f16", "-ctv", "f16",
           "-lm", "mmap" if use_mmap else "none", "-o", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    return float(json.loads(out.stdout)[0]["avg_ts"])


def measure_ask(setup: Setup, model: str, seed: int) -> tuple[float, int]:
    """ask's generation speed, and the tokens its reply had."""
    record = run_ask(setup, model, setup.tokens, seed)
    return float(record["gen_tps"]), int(record["completion_tokens"])


def measure_bench(setup: Setup, model: str, depth: int, use_mmap: bool) -> float:
    return run_llama_bench(setup, model, setup.tokens, depth, use_mmap)


def engine_uses_mmap(model: str, ctx: int) -> bool:
    """What the engine chooses for this file (no mmap where llama.cpp repacks the weights):
    llama-bench is told the same."""
    import llama_cpp

    from localchat.engine.loading import choose_mmap
    from localchat.gguffile import check_complete
    from localchat.loadsettings import LoadSettings

    return choose_mmap(check_complete(Path(model)), LoadSettings(n_ctx=ctx),
                       bool(llama_cpp.llama_supports_gpu_offload()))


def uptime() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} ({os.cpu_count()} CPUs)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llama-bench", default=os.environ.get("LLAMA_BENCH", DEFAULT_BENCH))
    parser.add_argument("--model", action="append", help="GGUF (default: both test models)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128, help="tokens generated per run")
    parser.add_argument("--threads", type=int, default=None, help="default: physical cores")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--tree", default=str(ROOT),
                        help="the localchat source tree `ask` runs from (default: this one; "
                             "another checkout compares a change)")
    args = parser.parse_args()
    if not Path(args.llama_bench).exists():
        parser.error(f"no llama-bench at {args.llama_bench} (see this script's docstring)")

    from localchat.engine.llama import default_generation_threads

    if not args.model:
        from tests import testmodels

        args.model = [str(testmodels.smollm2()), str(testmodels.gemma())]
    threads = args.threads or default_generation_threads()
    print(f"start: {uptime()}; ask from {args.tree}")
    results: dict[str, list[tuple[float, float]]] = {m: [] for m in args.model}
    depth: dict[str, int] = {}
    mmap: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as home:
        setup = Setup(args.llama_bench, args.tree, threads, args.ctx, args.tokens, home)
        for model in args.model:  # warm-up (page cache), and ask's prompt length for the depth
            depth[model] = int(run_ask(setup, model, 8, 0)["prompt_tokens"])
            mmap[model] = engine_uses_mmap(model, args.ctx)
            run_llama_bench(setup, model, 8, depth[model], mmap[model])
        for rep in range(args.reps):
            for model in args.model:
                ask_first = rep % 2 == 0
                if not ask_first:
                    bench = measure_bench(setup, model, depth[model], mmap[model])
                ask, made = measure_ask(setup, model, rep + 1)
                if ask_first:
                    bench = measure_bench(setup, model, depth[model], mmap[model])
                results[model].append((ask, bench))
                print(f"rep {rep + 1} {Path(model).name:34s} ask {ask:6.1f} ({made} tokens)  "
                      f"llama-bench {bench:6.1f}  ratio {ask / bench:.3f}  "
                      f"({'ask' if ask_first else 'llama-bench'} first)", flush=True)
    print(f"end:   {uptime()}")
    print(f"\ntokens/s: {threads} threads, ctx {args.ctx}, {args.tokens} tokens, f16 KV, "
          f"{args.reps} reps; target ask / llama-bench >= 0.95")
    for model, pairs in results.items():
        ask = statistics.median(a for a, _ in pairs)
        bench = statistics.median(b for _, b in pairs)
        ratios = sorted(a / b for a, b in pairs)
        print(f"{Path(model).name:34s} (depth {depth[model]}) ask {ask:6.1f}  "
              f"llama-bench {bench:6.1f}  ratio of medians {ask / bench:.3f}, median ratio "
              f"{statistics.median(ratios):.3f}  (per rep, sorted: {', '.join(f'{r:.3f}' for r in ratios)})")
        best_ask, best_bench = max(a for a, _ in pairs), max(b for _, b in pairs)
        print(f"{'':34s} best of each: ask {best_ask:6.1f}  llama-bench {best_bench:6.1f}  "
              f"ratio {best_ask / best_bench:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
