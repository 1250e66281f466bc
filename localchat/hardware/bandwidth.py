"""A quick RAM read-bandwidth measurement: it bounds decode speed.

Generating one token reads every weight once, so tokens/s <= bandwidth / model bytes. Summing a
buffer (64 MiB) larger than a desktop last-level cache forces reads from RAM; the best of a few
passes (about 0.1 s in all) is the figure. Single-threaded numpy reads understate what
llama.cpp's threads get, so the recommender treats it as a floor.
"""

from __future__ import annotations

import time

BUFFER_BYTES = 64 << 20


def measure_bandwidth_gbps(buffer_bytes: int = BUFFER_BYTES, passes: int = 3,
                           budget_s: float = 0.15) -> float:
    import numpy as np

    data = np.ones(buffer_bytes // 8, dtype=np.float64)
    data.sum()  # fault the pages in before timing
    best = float("inf")
    start = time.perf_counter()
    for _ in range(passes):
        t0 = time.perf_counter()
        data.sum()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return buffer_bytes / best / 1e9
