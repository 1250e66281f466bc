"""The network between this machine and a pool's llama.cpp RPC workers, as assumed (it is not
measured): loopback when every worker is on this machine, else a gigabit LAN."""

from __future__ import annotations

from dataclasses import dataclass

from localchat.hardware.profile import RpcWorkerInfo
from localchat.rpcpool import is_loopback, split


@dataclass(frozen=True)
class NetworkLink:
    """The link to the workers, as assumed: its round-trip time and bandwidth, and the words."""

    name: str
    round_trip_s: float
    bandwidth_gbps: float  # GB/s (1e9 bytes)

    @property
    def words(self) -> str:
        return (f"{self.name}, assumed {self.round_trip_s * 1e3:.2f} ms round trip and "
                f"{self.bandwidth_gbps * 1e3:.0f} MB/s")


# Loopback TCP: a round trip of tens of µs and several GB/s on Linux (netperf TCP_RR and
# TCP_STREAM on 127.0.0.1 are commonly ~20–40 µs and 5–30 GB/s); gigabit Ethernet: ~0.2–0.5 ms
# through a switch (ping), 940 Mbit/s of TCP goodput (1 Gbit/s less Ethernet, IP and TCP headers).
LOOPBACK = NetworkLink("loopback (the workers run on this machine)", 0.03e-3, 5.0)
GIGABIT_LAN = NetworkLink("1 GbE LAN", 0.3e-3, 0.1175)


def assumed_link(workers: tuple[RpcWorkerInfo, ...]) -> NetworkLink:
    """Loopback when every worker is on this machine, else a gigabit LAN (the slower link a
    pool is likely to have; Wi-Fi is slower still)."""
    if workers and all(is_loopback(split(w.endpoint)[0]) for w in workers):
        return LOOPBACK
    return GIGABIT_LAN
