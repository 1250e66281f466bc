"""The pool's workers' memory, asked of each by a short-lived engine process
(``python -m localchat.engine.host --rpc-memory HOST:PORT``): a worker that cannot be reached
would abort the asking process (ggml-rpc), and one busy with another client answers only when
that client lets go, so each is asked in a process of its own, with a time limit."""

from __future__ import annotations

import json
import subprocess

from localchat.engine.spawn import host_command, host_env
from localchat.errors import LocalChatError
from localchat.hardware.profile import RpcWorkerInfo

ASK_TIMEOUT_S = 15.0


def workers_memory(workers: tuple[str, ...], timeout_s: float = ASK_TIMEOUT_S) -> tuple[RpcWorkerInfo, ...]:
    """Each worker's free and total memory, in order; a ``LocalChatError`` naming the first that
    cannot say."""
    return tuple(worker_memory(worker, timeout_s) for worker in workers)


def worker_memory(worker: str, timeout_s: float = ASK_TIMEOUT_S) -> RpcWorkerInfo:
    try:
        out = subprocess.run([*host_command(), "--rpc-memory", worker], capture_output=True,
                             text=True, env=host_env(), timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise LocalChatError(f"the RPC worker {worker} did not answer in {timeout_s:.0f} s",
                             "it serves one client at a time: is a chat or another command "
                             "using it?") from None
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        said = [line.strip() for line in out.stderr.splitlines() if line.strip()]
        reason = said[-1] if said else f"the asking process exited with {out.returncode}"
        if out.returncode == 2 and said:  # a LocalChatError's line: it names the worker already
            raise LocalChatError(reason)
        raise LocalChatError(f"the RPC worker {worker} could not be asked for its memory ({reason})")
    data = json.loads(lines[-1])
    return RpcWorkerInfo(worker, int(data["free_bytes"]), int(data["total_bytes"]))
