"""``localchat probe``: what this machine has, and what this llama.cpp build can use."""

from __future__ import annotations

import argparse
import json

from localchat.commands._common import rpc_workers

ORDER = 30


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="show the CPU, memory, GPUs and llama.cpp build found here",
                       description="Probe this machine's hardware and llama.cpp build.")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.add_argument("--no-bandwidth", action="store_true",
                   help="skip the memory bandwidth measurement (0.1 s)")
    p.add_argument("--rpc", type=rpc_workers, metavar="HOST:PORT,...",
                   help="also ask these llama.cpp RPC workers (`localchat worker`) for their memory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from localchat.engine.buildinfo import llama_build_info

    # the submodule's function: once the submodule is imported, the package's name is it
    from localchat.hardware.probe import probe
    from localchat.hardware.summary import summary

    profile = probe(build_info=llama_build_info, measure_bandwidth=not args.no_bandwidth)
    if args.rpc:
        from dataclasses import replace

        from localchat.engine.rpc import require_rpc
        from localchat.engine.rpcprobe import workers_memory

        require_rpc()
        profile = replace(profile, rpc_workers=workers_memory(args.rpc))
    print(json.dumps(profile.to_dict(), indent=2) if args.json else summary(profile, rpc=True))
    return 0
