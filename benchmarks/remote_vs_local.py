"""A model through a server on loopback (``python -m llama_cpp.server``, localchat's
``RemoteEngine``) against the same model in localchat's own engine (its process, as the chat runs
it), in one run. Target: remote / local generation tok/s >= 0.95.

Both are loaded once, with the same threads (the server is given localchat's defaults: physical
cores for generation, logical ones for the prompt) and context; then the replies alternate, the
order swapped every round, so drift in the machine's load hits both sides. Each reply is one
greedy answer to the same prompt, timed by the caller from the text pieces as they arrive:
generation tok/s = tokens after the first piece / (last piece - first piece), TTFT = first piece -
request (localchat's engine process batches a fast reply's pieces; each says its tokens).
The machine's load (``uptime``) is printed before and after: on a shared machine the ratio is
only as good as the load was steady. A third side, a bare httpx2 SSE loop sending the same request
to the same server, tells the client's own cost (remote / bare) from the server's (bare / local).

    python benchmarks/remote_vs_local.py [--model PATH] [--rounds 5] [--max-tokens 128] [--threads N]
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

from engine_process import one_reply  # noqa: E402  (this folder: the same reply, timed the same)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class BareClient:
    """The reference for the client's own cost: the same request to the same server, read with
    httpx2's SSE reader in a plain loop (no reader thread, no figures, no errors mapped)."""

    def __init__(self, remote) -> None:  # a RemoteEngine: its URL and request body
        import httpx2

        self.remote, self.http = remote, httpx2.Client(timeout=300)

    def chat(self, messages, sampling):
        import json

        import httpx2

        from localchat.engine import TextChunk
        from localchat.engine.endpoint import api_root

        url = api_root(self.remote.target.endpoint) + "/chat/completions"
        with self.http.stream("POST", url, json=self.remote._payload(messages, sampling)) as response:
            for event in httpx2.EventSource(response):
                if event.data == "[DONE]":
                    break
                choices = json.loads(event.data).get("choices") or [{}]
                text = (choices[0].get("delta") or {}).get("content")
                if text:
                    yield TextChunk(text)

    def close(self) -> None:
        self.http.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None,
                        help="generation and prompt threads on each side (default: localchat's: "
                             "physical cores and logical cores)")
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

    threads = args.threads or default_generation_threads()
    batch_threads = args.threads or default_batch_threads()
    print(f"{Path(args.model).name}, ctx {args.ctx}, {args.max_tokens} tokens, {args.rounds} rounds, "
          f"{threads} generation / {batch_threads} prompt threads each side, {os.cpu_count()} CPUs")
    print(f"before: {uptime()}")
    results: dict[str, list[tuple[float, float, int]]] = {"remote": [], "bare": [], "local": []}
    with LlamaCppServer(Path(args.model), n_ctx=args.ctx, n_threads=threads,
                        n_threads_batch=batch_threads) as server:
        remote = RemoteEngine(RemoteModel(Endpoint("loopback", server.url), ALIAS))
        bare = BareClient(remote)
        local = EngineProcess(args.model, LoadSettings(n_ctx=args.ctx, n_threads=threads,
                                                       n_threads_batch=batch_threads))
        try:
            for engine in (remote, bare, local):  # a first reply each, not counted: caches warm
                one_reply(engine, 16)
            for n in range(args.rounds):
                order = [("remote", remote), ("bare", bare), ("local", local)]
                for side, engine in order if n % 2 == 0 else order[::-1]:
                    results[side].append(one_reply(engine, args.max_tokens))
                r, b, loc = results["remote"][-1], results["bare"][-1], results["local"][-1]
                print(f"  round {n + 1}: remote {r[1]:6.1f}   bare client {b[1]:6.1f}   local "
                      f"{loc[1]:6.1f} tok/s ({r[2]}/{b[2]}/{loc[2]} tokens)   "
                      f"remote/local {r[1] / loc[1]:.3f}")
        finally:
            remote.close()
            bare.close()
            local.close()
    print(f"after:  {uptime()}")

    def median(side: str, i: int) -> float:
        return statistics.median(x[i] for x in results[side])

    print(f"\n{'':22}{'remote':>10}{'bare':>10}{'local':>10}{'remote/local':>14}{'remote/bare':>13}")
    for i, label, unit in ((1, "gen tok/s (median)", 1.0), (0, "TTFT ms (median)", 1000.0)):
        r, b, loc = median("remote", i), median("bare", i), median("local", i)
        print(f"{label:22}{r * unit:>10.1f}{b * unit:>10.1f}{loc * unit:>10.1f}"
              f"{r / loc:>14.3f}{r / b:>13.3f}")
    print("target: remote/local gen tok/s >= 0.95; remote/bare is localchat's client against a bare "
          "SSE loop on the same server")
    ratios = [r[1] / loc[1] for r, loc in zip(results["remote"], results["local"], strict=True)]
    print(f"per-round ratios: {', '.join(f'{x:.3f}' for x in ratios)} "
          f"(median {statistics.median(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
