"""``localchat worker``: lend this machine's memory to another machine's chat, as a llama.cpp RPC
worker (``ggml_backend_rpc_start_server``, engine/rpc.py; no separate binary).

llama.cpp's RPC server has no authentication and no encryption: anyone who can reach the port
can run code-sized workloads on it and read what it holds. So it listens on 127.0.0.1 unless told
otherwise, and any other address needs ``--i-understand-this-is-unauthenticated``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from localchat.commands._common import thread_count, whole_number

ORDER = 40
UNSAFE_FLAG = "--i-understand-this-is-unauthenticated"
WARNING = ("llama.cpp's RPC worker has no authentication and no encryption: anyone who can reach "
           "{where} can use this machine's memory and CPU and see the model's data. Use it only "
           "on a network you trust, or through an SSH tunnel; never on an open network")


def add_parser(sub: argparse._SubParsersAction) -> None:
    from localchat.rpcpool import DEFAULT_PORT

    p = sub.add_parser(
        "worker", help="lend this machine's memory to a chat on another machine (llama.cpp RPC)",
        description="Serve this machine's memory (its GPUs, else its CPU and RAM) as a llama.cpp "
                    "RPC worker; on the chatting machine, `localchat --rpc HOST:PORT` spreads a "
                    "model's layers over it. No authentication, no encryption: see the README.")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                   help="IPv4 address to listen on (default 127.0.0.1: this machine only; reach it "
                        f"from another through an SSH tunnel, or listen elsewhere with {UNSAFE_FLAG})")
    p.add_argument("--port", type=whole_number(1, 65535), default=DEFAULT_PORT, metavar="PORT",
                   help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument("--threads", type=thread_count, metavar="N",
                   help="CPU threads for the layers it runs (default: physical cores)")
    p.add_argument(UNSAFE_FLAG, dest="unauthenticated", action="store_true",
                   help="listen on an address other machines can reach, knowing that anyone who "
                        "reaches it can use the worker")
    p.set_defaults(func=run)


def check_address(host: str, unauthenticated: bool) -> None:
    """An IPv4 address (llama.cpp's server takes nothing else); a loopback one, or the flag."""
    import ipaddress

    from localchat.errors import LocalChatError
    from localchat.rpcpool import is_loopback

    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise LocalChatError(f"--host {host!r} is not an IPv4 address",
                             "e.g. --host 127.0.0.1, or this machine's LAN address") from None
    if is_loopback(host):
        return
    if not unauthenticated:
        raise LocalChatError(WARNING.format(where=host),
                             f"add {UNSAFE_FLAG} to listen on {host} anyway")
    print(f"localchat: warning: {WARNING.format(where=host)}.", file=sys.stderr, flush=True)


def check_port_free(host: str, port: int) -> None:
    import socket

    from localchat.errors import LocalChatError

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as llama.cpp's server does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LocalChatError(f"cannot listen on {host}:{port} ({exc.strerror})",
                                 "choose another --port, or stop what uses it") from None


def run(args: argparse.Namespace) -> int:
    from localchat.engine.llama import default_generation_threads
    from localchat.engine.rpc import require_rpc, serve

    check_address(args.host, args.unauthenticated)
    require_rpc()
    check_port_free(args.host, args.port)
    threads = args.threads or default_generation_threads()
    failed = threading.Event()

    def server() -> None:
        # Ctrl-C is the main thread's: here it would cut llama.cpp's accept() short instead
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        serve(args.host, args.port, threads)
        failed.set()  # it returns only when it could not start

    print(f"localchat worker: listening on {args.host}:{args.port} with {threads} threads "
          "(Ctrl-C stops it)", file=sys.stderr, flush=True)
    threading.Thread(target=server, name="rpc-server", daemon=True).start()
    try:
        while not failed.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("localchat worker: stopped", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # the server thread sits in llama.cpp's accept() or serves a client, and cannot be
        # asked to stop: ending the process is how llama.cpp's own rpc-server stops too
        os._exit(0)
    from localchat.errors import LocalChatError

    raise LocalChatError(f"the RPC worker could not start on {args.host}:{args.port}",
                         "LOCALCHAT_DEBUG=1 shows llama.cpp's output")
