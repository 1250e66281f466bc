"""Memory bandwidth of known GPUs, keyed by the name NVML, Metal (sysctl) or amdgpu reports.

Decode speed is bounded by how fast the card reads its weights, so the recommender needs the
card's bandwidth; no driver API reports it. Figures in GB/s (1e9 bytes/s) from the makers' spec
sheets: NVIDIA's GeForce and data-centre product pages (e.g. RTX 3060 360, RTX 4090 1008,
A100 40 GB 1555 / 80 GB 2039, H100 SXM 3350, H200 4800), Apple's newsroom announcements of each
chip (M1 68.25, M2 Pro 200, M3 Max 400, M4 Max 546) and AMD's product pages (RX 7900 XTX 960,
MI300X 5300).
"""

from __future__ import annotations

import re

GIB = 1 << 30

# name tokens (lower case) → GB/s; the entry whose tokens all appear in the name and are the
# most specific wins ("rtx 4070 ti super" over "rtx 4070")
KNOWN_GBPS: dict[str, float] = {
    # NVIDIA GeForce desktop
    "gtx 1060": 192, "gtx 1070": 256, "gtx 1080": 320, "gtx 1080 ti": 484,
    "rtx 2060": 336, "rtx 2070": 448, "rtx 2080": 448, "rtx 2080 ti": 616,
    "rtx 3050": 224, "rtx 3060": 360, "rtx 3060 ti": 448, "rtx 3070": 448, "rtx 3070 ti": 608,
    "rtx 3080": 760, "rtx 3080 ti": 912, "rtx 3090": 936, "rtx 3090 ti": 1008,
    "rtx 4060": 272, "rtx 4060 ti": 288, "rtx 4070": 504, "rtx 4070 super": 504,
    "rtx 4070 ti": 504, "rtx 4070 ti super": 672, "rtx 4080": 717, "rtx 4080 super": 736,
    "rtx 4090": 1008,
    "rtx 5060": 448, "rtx 5060 ti": 448, "rtx 5070": 672, "rtx 5070 ti": 896, "rtx 5080": 960,
    "rtx 5090": 1792,
    # NVIDIA laptop parts share desktop names but not their memory buses
    "rtx 3060 laptop": 336, "rtx 3070 laptop": 448, "rtx 3080 laptop": 448,
    "rtx 4050 laptop": 192, "rtx 4060 laptop": 256, "rtx 4070 laptop": 256,
    "rtx 4080 laptop": 432, "rtx 4090 laptop": 576,
    # NVIDIA workstation and data centre
    "rtx a4000": 448, "rtx a5000": 768, "rtx a6000": 768, "rtx 6000 ada": 960,
    "t4": 320, "v100": 900, "a10": 600, "a10g": 600, "a40": 696, "l4": 300, "l40": 864,
    "l40s": 864, "a100": 1555, "a100 80gb": 2039, "h100": 3350, "h100 pcie": 2000,
    "h100 nvl": 3900, "h200": 4800, "gh200": 4000, "b200": 8000,
    # Apple Silicon (unified memory: the CPU reads at the same rate)
    "m1": 68.25, "m1 pro": 200, "m1 max": 400, "m1 ultra": 800,
    "m2": 100, "m2 pro": 200, "m2 max": 400, "m2 ultra": 800,
    "m3": 100, "m3 pro": 150, "m3 max": 400, "m3 ultra": 819,
    "m4": 120, "m4 pro": 273, "m4 max": 546,
    # AMD
    "rx 6800 xt": 512, "rx 6900 xt": 512, "rx 7600": 288, "rx 7800 xt": 624, "rx 7900 xt": 800,
    "rx 7900 xtx": 960, "mi250x": 3277, "mi300x": 5300,
}

# A hypothetical card known only by its memory (``recommend --vram N``): the bandwidth of a
# typical card of that size, so --vram 80 plans for an A100-class card, not a desktop one.
# (most GiB, GB/s, the card it stands for)
BY_VRAM: tuple[tuple[float, float, str], ...] = (
    (6, 192, "a 6 GB laptop RTX 4050"),
    (8, 272, "an 8 GB RTX 4060"),
    (12, 360, "a 12 GB RTX 3060"),
    (16, 504, "a 16 GB RTX 4070 Ti-class card"),
    (24, 1008, "a 24 GB RTX 4090"),
    (32, 1792, "a 32 GB RTX 5090"),
    (48, 864, "a 48 GB L40S"),
    (80, 2039, "an 80 GB A100"),
    (float("inf"), 4800, "a 141 GB H200"),
)


def _tokens(name: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).split()


def card_bandwidth_gbps(name: str) -> float | None:
    """The bandwidth of the card called ``name`` ("NVIDIA GeForce RTX 4090", "Apple M2 Pro GPU",
    "NVIDIA A100-SXM4-80GB"), or None when it is not a card this table knows."""
    tokens = _tokens(name)
    words = set(tokens)
    best: tuple[int, float] | None = None
    for key, gbps in KNOWN_GBPS.items():
        key_tokens = key.split()
        if set(key_tokens) <= words and (best is None or len(key_tokens) > best[0]):
            best = (len(key_tokens), gbps)
    if best is None:
        return None
    if "laptop" in words and best[0] < 3:  # a laptop part this table does not list
        return None
    return best[1]


def assumed_card(vram_bytes: int) -> tuple[float, str]:
    """(GB/s, the card it stands for) of a typical discrete GPU with ``vram_bytes`` of memory."""
    gib = vram_bytes / GIB
    for most, gbps, card in BY_VRAM:
        if gib <= most + 0.5:
            return gbps, card
    return BY_VRAM[-1][1], BY_VRAM[-1][2]
