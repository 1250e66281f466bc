"""A model pooled over llama.cpp RPC workers (``localchat recommend --rpc``): the network's cost
per token, and each machine's share.

How llama.cpp runs it (ggml-rpc.cpp, llama.cpp's layer split): the workers are GPU-type devices
that take the offloaded layers (the last ``n_gpu_layers``) in proportion to their free memory;
the rest, and the token embeddings, stay on this machine. A token passes through the machines in
turn: each worker gets the activations (``n_embd`` floats, sent without waiting), runs its
layers, and is asked for its result (one round trip, the only wait); the last one sends back the
logits (``n_vocab`` floats) when it holds the output layer. So the network adds, per token, a
round trip per worker and those bytes at the link's bandwidth, and each worker a fixed cost
(``RPC_WORKER_S``, measured). The link is not measured: it is
assumed from the workers' addresses (network.py), and said.

Checked on the wire (tests/rpc/test_network_cost.py, a relay that counts): with SmolLM2 over two
workers each generated token waited for exactly one answer from each worker; 6,780 bytes went to
each (its ``n_embd`` activations, 2,304, and the rest the graph's inputs and the commands:
``RPC_COMMAND_BYTES``), 2,304 came back from the first and 196,616 (the logits, and a header)
from the last.
"""

from __future__ import annotations

from dataclasses import dataclass

from localchat.hardware.profile import RpcWorkerInfo
from localchat.recommend.footprint import ModelShape, gpu_layer_count
from localchat.recommend.profiles import Budget

ROUND_TRIPS_PER_WORKER = 1  # the result of its layers; the rest is sent without waiting
# What each worker costs a token beyond the link: the commands serialized, sent and run, its graph
# started. Measured here on loopback (benchmarks/rpc_vs_local.py, SmolLM2 at 1 thread, 5 rounds):
# two workers added 2.0, 3.1 and 3.9 ms a token on a quiet 2-core machine (4.7 ms under a load of
# ~3.5), so about 1.6 ms each.
RPC_WORKER_S = 1.6e-3
FLOAT_BYTES = 4  # activations and logits cross as f32
# what else goes to each worker a token: the graph's small inputs (positions, the attention mask)
# and the commands' headers (measured: 6,780 bytes a token to each of two SmolLM2 workers, less
# its 2,304 bytes of activations)
RPC_COMMAND_BYTES = 4_500


def network_seconds(shape: ModelShape, n_gpu_layers: int, budget: Budget) -> float:
    """What the network adds to one token when ``n_gpu_layers`` run on the pool's workers."""
    if budget.gpu_backend != "rpc" or not budget.rpc_workers:
        return 0.0
    ngl = gpu_layer_count(shape, n_gpu_layers, "rpc")
    if ngl <= 0:
        return 0.0
    used = min(len(budget.rpc_workers), ngl)  # each worker gets at least a layer
    sent = used * (2 * shape.n_embd * FLOAT_BYTES + RPC_COMMAND_BYTES)
    if ngl > shape.n_layers:  # the output layer too: the logits come back
        sent += shape.n_vocab * FLOAT_BYTES
    per_worker = ROUND_TRIPS_PER_WORKER * budget.link_round_trip_s + RPC_WORKER_S
    return used * per_worker + sent / (budget.link_gbps * 1e9)


@dataclass(frozen=True)
class Share:
    """One machine's part of a pooled model."""

    machine: str  # "this machine", or a worker's host:port
    bytes: int
    layers: int


def shares(offloaded_bytes: int, local_bytes: int, n_offloaded: int, n_layers: int,
           workers: tuple[RpcWorkerInfo, ...]) -> list[Share]:
    """This machine's part and each worker's, split as llama.cpp splits by default: in
    proportion to the workers' free memory (``n_offloaded`` counts the output layer as one)."""
    result = [Share("this machine", local_bytes, max(0, n_layers + 1 - n_offloaded))]
    free_total = sum(w.free_bytes for w in workers) or 1
    given = 0
    for i, worker in enumerate(workers):
        part = worker.free_bytes / free_total
        layers = (n_offloaded - given if i == len(workers) - 1 else round(n_offloaded * part))
        given += layers
        result.append(Share(worker.endpoint, int(offloaded_bytes * part), layers))
    return result

