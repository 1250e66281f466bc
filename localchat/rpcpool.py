"""llama.cpp RPC workers whose memory the local engine pools: ``--rpc h1:p1,h2:p2`` and
``[rpc] workers = ["h1:p1", …]`` in the config, parsed and checked here (one place, one-line
errors), and whether a worker still accepts connections (a lost worker is named by that).

llama.cpp's RPC client takes ``host:port`` with an IPv4 address or a host name (ggml-rpc.cpp
splits at the first ``:`` and resolves the host with gethostbyname), at most
``GGML_RPC_MAX_SERVERS`` of them. Its server has no authentication and no encryption.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any

from localchat.errors import LocalChatError
from localchat.safetext import quoted

DEFAULT_PORT = 50052  # llama.cpp's rpc-server default
MAX_WORKERS = 16  # GGML_RPC_MAX_SERVERS (ggml-rpc.h)
CONNECT_TIMEOUT_S = 2.0
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})")


def worker_problem(text: str) -> str:
    """What is wrong with one ``host:port`` in words ("" when nothing is)."""
    host, sep, port = text.partition(":")
    if not sep or not host or not port:
        return f"{quoted(text)} is not host:port (e.g. 192.168.1.20:{DEFAULT_PORT})"
    if not _HOST.fullmatch(host):
        return (f"{quoted(host)} is not an IPv4 address or a host name (llama.cpp's RPC does not "
                "take IPv6)")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"{quoted(port)} in {quoted(text)} is not a port from 1 to 65535"
    return ""


def parse_workers(text: str) -> tuple[str, ...]:
    """``--rpc h1:p1,h2:p2``: the workers in order, each ``host:port``; a clear error for a wrong
    one, a repeated one, or more than llama.cpp takes."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise LocalChatError("--rpc needs at least one worker",
                             f"e.g. --rpc 192.168.1.20:{DEFAULT_PORT},192.168.1.21:{DEFAULT_PORT}")
    return check_workers(items, "--rpc")


def check_workers(items: list[Any], where: str) -> tuple[str, ...]:
    workers: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise LocalChatError(f"{where}: {quoted(item)} is not a \"host:port\" text")
        problem = worker_problem(item.strip())
        if problem:
            raise LocalChatError(f"{where}: {problem}")
        worker = normalize(item.strip())
        if worker in workers:
            raise LocalChatError(f"{where}: the worker {worker} is named twice")
        workers.append(worker)
    if len(workers) > MAX_WORKERS:
        raise LocalChatError(f"{where}: {len(workers)} workers given; llama.cpp takes at most {MAX_WORKERS}")
    return tuple(workers)


def normalize(worker: str) -> str:
    host, _, port = worker.partition(":")
    return f"{host.lower()}:{int(port)}"


def parse_rpc_table(raw: Any, problems: list[str]) -> tuple[str, ...]:
    """The config's ``[rpc]`` table: ``workers = ["host:port", …]``; a wrong value is said in
    ``problems`` and no workers are used."""
    if not isinstance(raw, dict):
        problems.append(f"[rpc] must be a table (got {quoted(raw)}), using no workers")
        return ()
    workers = raw.get("workers", [])
    if not isinstance(workers, list):
        problems.append(f"[rpc] workers must be a list of \"host:port\" texts (got {quoted(workers)}), "
                        "using no workers")
        return ()
    try:
        return check_workers(workers, "[rpc] workers")
    except LocalChatError as exc:
        problems.append(f"{exc}, using no workers")
        return ()


def split(worker: str) -> tuple[str, int]:
    host, _, port = worker.partition(":")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8 and ``localhost``: only this machine can reach a worker listening there."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def accepts_connections(worker: str, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the worker opens (it is up; says nothing of whether it is
    free: a worker serves one client at a time and queues the others)."""
    try:
        with socket.create_connection(split(worker), timeout=timeout_s):
            return True
    except OSError:
        return False


def lost_workers(workers: tuple[str, ...]) -> list[str]:
    """The workers that no longer accept a connection (after the engine process ended)."""
    return [w for w in workers if not accepts_connections(w)]


def unreachable_error(worker: str) -> LocalChatError:
    return LocalChatError(f"the RPC worker {worker} cannot be reached",
                          f"start it there with `localchat worker --host ADDRESS --port "
                          f"{split(worker)[1]}`, or check the address and the network")
