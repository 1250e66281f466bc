"""Engine generation speed against a bare llama-cpp-python streaming loop, in one run.

Both sides load the same GGUF with the same context and threads, get the same chat, decode
greedily (so both produce the same tokens and stop at the same place), and are timed the same
way from the consumer's side: generation tokens/s = (pieces after the first) / (time from the
first piece to the last). Runs alternate (bare, engine, bare, ...) so drift in machine load hits
both; the figure is the median over runs. Target: engine / bare >= 0.98.

    python benchmarks/engine_vs_bare.py [--model PATH] [--runs 5] [--max-tokens 256]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT = "Write a detailed story about a lighthouse keeper who finds a message in a bottle."
SYSTEM = "You are a helpful assistant."


def bare_loop(llm, max_tokens: int) -> tuple[int, float]:
    stream = llm.create_chat_completion(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        max_tokens=max_tokens, temperature=0.0, stream=True,
    )
    times = []
    for chunk in stream:
        if chunk["choices"][0]["delta"].get("content"):
            times.append(time.perf_counter())
    return len(times), (len(times) - 1) / (times[-1] - times[0])


def engine_loop(engine, max_tokens: int) -> tuple[int, float]:
    from localchat.engine import Message, Sampling, TextChunk

    times = []
    for event in engine.chat([Message("system", SYSTEM), Message("user", PROMPT)],
                             Sampling(temperature=0.0, max_tokens=max_tokens)):
        if isinstance(event, TextChunk):
            times.append(time.perf_counter())
    return len(times), (len(times) - 1) / (times[-1] - times[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--ctx", type=int, default=2048)
    args = parser.parse_args()

    import llama_cpp

    from localchat.engine import LoadSettings, load_engine
    from localchat.engine.llama import default_batch_threads, default_generation_threads

    if args.model is None:
        from tests import testmodels

        args.model = str(testmodels.smollm2())
    threads = args.threads or default_generation_threads()
    engine = load_engine(args.model, LoadSettings(n_ctx=args.ctx, n_threads=threads))
    bare = llama_cpp.Llama(model_path=args.model, n_ctx=args.ctx, n_threads=threads,
                           n_threads_batch=default_batch_threads(), n_batch=512, n_ubatch=512,
                           flash_attn=False, verbose=False)
    bare_tps, engine_tps = [], []
    for run in range(args.runs + 1):  # run 0 warms up both
        bare.reset()  # no prompt cache advantage for either side
        engine._llm.reset()
        n_bare, b = bare_loop(bare, args.max_tokens)
        n_engine, e = engine_loop(engine, args.max_tokens)
        if run:
            bare_tps.append(b)
            engine_tps.append(e)
            print(f"run {run}: bare {b:6.1f} tok/s ({n_bare} pieces)   "
                  f"engine {e:6.1f} tok/s ({n_engine} pieces)")
    b, e = statistics.median(bare_tps), statistics.median(engine_tps)
    print(f"\nmodel {Path(args.model).name}, {threads} threads, ctx {args.ctx}, greedy, "
          f"{args.max_tokens} max tokens, median of {args.runs}")
    print(f"bare llama-cpp-python stream : {b:7.1f} tok/s")
    print(f"localchat engine             : {e:7.1f} tok/s")
    print(f"ratio engine / bare          : {e / b:7.3f}   (target >= 0.98)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
