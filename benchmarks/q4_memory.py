"""Resident memory of a repacked Q4 model against one llama.cpp does not repack, in one run.

llama.cpp's CPU backend repacks Q4_0/Q4_K/IQ4_NL weights (x86 with AVX2, ARM) into a second
copy; memory-mapped, the file's pages stay resident beside it (llama.cpp #16761). localchat
loads such models without mmap. This runs ``localchat ask`` on SmolLM2-135M requantized to
Q4_0 and on its Q4_1 (same size, never repacked), each in a fresh process, and prints the
processes' peak resident memory (ru_maxrss from wait4) and the ratio. Target (issue 16):
Q4_0 peaks at no more than Q4_1 + 5%.

``--both-ways`` also loads each model (Q4_0, Q4_K_M, Q4_1) through the engine with and
without mmap and prints peak RSS (VmHWM) and load time, the README's table.

    python benchmarks/q4_memory.py [--runs 3] [--both-ways]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Name three colours."
# one engine load and a short reply in a fresh interpreter; prints "peak_kib load_s use_mmap"
ENGINE_CHILD = """
import sys, time
from localchat.engine import LoadSettings, Message, Sampling, load_engine
mmap = {"auto": None, "mmap": True, "read": False}[sys.argv[2]]
t = time.perf_counter()
engine = load_engine(sys.argv[1], LoadSettings(n_ctx=2048, use_mmap=mmap))
load_s = time.perf_counter() - t
for _ in engine.chat([Message("user", "Name three colours.")], Sampling(temperature=0.0, max_tokens=16)):
    pass
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(peak, f"{load_s:.3f}", engine.info.use_mmap)
"""


def ask_peak_kib(model: Path) -> int:
    """Peak RSS of one `localchat ask` process, from the kernel's accounting of that child."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "localchat", "ask", "--model", str(model), "--ctx", "2048",
                             "--max-tokens", "16", "--temperature", "0", PROMPT],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        error = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"localchat ask failed on {model}: {error}")
    return usage.ru_maxrss  # KiB on Linux


def engine_run(model: Path, mode: str) -> tuple[int, float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", ENGINE_CHILD, str(model), mode], capture_output=True,
                         text=True, env=env, cwd=ROOT, check=True).stdout.split()
    return int(out[0]), float(out[1]), out[2]


def mib(kib: float) -> str:
    return f"{kib / 1024:7.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="processes per model (median)")
    parser.add_argument("--both-ways", action="store_true", help="also: each quant with and without mmap")
    args = parser.parse_args()

    from tests import testmodels

    models = {"Q4_0": testmodels.smollm2_quant("Q4_0"), "Q4_1": testmodels.smollm2()}
    peaks: dict[str, float] = {}
    for name, path in models.items():
        runs = [ask_peak_kib(path) for _ in range(args.runs)]
        peaks[name] = statistics.median(runs)
        size = path.stat().st_size / (1 << 20)
        print(f"localchat ask, SmolLM2 {name} ({size:.1f} MiB file): peak RSS {mib(peaks[name])}")
    ratio = peaks["Q4_0"] / peaks["Q4_1"]
    verdict = "ok" if ratio <= 1.05 else "over the 5% target"
    print(f"Q4_0 / Q4_1 peak RSS: {ratio:.3f} ({verdict})")

    if args.both_ways:
        models["Q4_K_M"] = testmodels.smollm2_quant("Q4_K_M")
        print(f"\n{'quant':7} {'loaded':11} {'peak RSS':>12} {'load s':>7}")
        for name in ("Q4_0", "Q4_K_M", "Q4_1"):
            for mode in ("mmap", "read", "auto"):
                results = [engine_run(models[name], mode) for _ in range(args.runs)]
                peak = statistics.median(r[0] for r in results)
                load_s = statistics.median(r[1] for r in results)
                label = mode if mode != "auto" else f"auto={'mmap' if results[0][2] == 'True' else 'read'}"
                print(f"{name:7} {label:11} {mib(peak):>12} {load_s:7.3f}")
    return 0 if ratio <= 1.05 else 1


if __name__ == "__main__":
    raise SystemExit(main())
