"""The recommender's estimated generation speed against ``localchat bench``'s measurement, per model.

For each test model (SmolLM2-135M Q4_1 and gemma-3-270m Q4_K_M, or the files given): measure this
machine's RAM bandwidth as the probe does, estimate tokens/s as setup and the model menu would for a
model that has not run here (no stored speeds), then run ``localchat bench --json`` (tg128, in a
child process, the same threads as the chat) and print both with the ratio. Bandwidth is measured
just before each bench so a change in the machine's load hits both. Target: 0.75 ≤ ratio ≤ 1.25.

    python benchmarks/estimate_vs_bench.py [--reps 3] [--pp 128] [--tg 128] [MODEL.gguf ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def bandwidth_gbps() -> float:
    from localchat.hardware.bandwidth import measure_bandwidth_gbps

    return statistics.median(measure_bandwidth_gbps() for _ in range(3))


def bench_tps(path: Path, args: argparse.Namespace) -> tuple[float, bool]:
    """(generation tokens/s, whether the runs varied by more than 10%: a busy machine)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "localchat", "bench", "--model", str(path), "--json",
                          "--reps", str(args.reps), "--pp", str(args.pp), "--tg", str(args.tg)],
                         capture_output=True, text=True, env=env, check=True)
    data = json.loads(out.stdout)
    return float(data["tg_tps"]), bool(data.get("noisy"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="GGUF files (default: the two test models)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pp", type=int, default=128, help="prompt tokens (generation is what is compared)")
    parser.add_argument("--tg", type=int, default=128)
    args = parser.parse_args()

    from localchat.engine.buildinfo import llama_build_info
    from localchat.hardware import probe
    from localchat.recommend import budget_for, evaluate_file
    from localchat.recommend.calibration import Calibration

    models = args.models
    if not models:
        import testmodels

        models = [testmodels.smollm2(), testmodels.gemma()]
    base = budget_for(probe(build_info=llama_build_info, measure_bandwidth=False))
    print(f"{'model':<36} {'GB/s':>5} {'estimate':>9} {'range':>9} {'bench':>7} {'est/bench':>9}")
    ratios = []
    for path in models:
        gbps = bandwidth_gbps()
        budget = replace(base, ram_bandwidth_gbps=gbps, ram_bandwidth_source="measured")
        c = evaluate_file(budget, path, ctx=2048, calibration=Calibration())
        measured, noisy = bench_tps(path, args)
        ratio = c.est_tps / measured
        ratios.append(ratio)
        print(f"{path.name:<36} {gbps:>5.1f} {c.est_tps:>9.1f} {c.tps_text:>9} {measured:>7.1f} "
              f"{ratio:>9.2f}" + ("  (noisy: the machine was busy)" if noisy else ""))
    ok = all(0.75 <= r <= 1.25 for r in ratios)
    print(f"within ±25%: {'yes' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
