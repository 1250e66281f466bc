"""What "best" means: the preference a person would choose, with its numbers in the open.

Three preferences (``localchat recommend --prefer``, ``[recommend] prefer`` in the config):

- **balanced** (the default): among what fits with real headroom, a comfortable speed first
  (≥ ``COMFORT_TPS`` where any option at Q4_K_M or better reaches it), then the larger model, then
  quality above Q4_K_M only while the speed stays comfortable;
- **faster**: the same at ``FAST_TPS``, and the model's leanest good quant (Q4_K_M) rather than
  its best;
- **quality**: the larger model and the better quant as long as it keeps up with reading
  (``MIN_CHAT_TPS``).

Every preference ranks options with headroom above those without, Q4_K_M or better above other
4-bit types above below-4-bit ones, and a model whole on the GPU at the full context above one
at a shrunk context above a GPU/CPU split.
"""

from __future__ import annotations

from dataclasses import dataclass

from localchat.recommend.candidate import Candidate
from localchat.recommend.profiles import Budget
from localchat.units import GIB

PREFERENCES = ("balanced", "faster", "quality")
DEFAULT_PREFERENCE = "balanced"

# Reading speed: adults read ~238 words/min silently (Brysbaert 2019, a meta-analysis of 190
# studies) ≈ 4 words/s ≈ 5 tokens/s at ~1.3 tokens per English word; slower feels like waiting.
MIN_CHAT_TPS = 5.0
# Comfortable: twice reading speed, so a reply (and a model's thinking before it) streams ahead of
# the reader rather than at their pace.
COMFORT_TPS = 10.0
# "faster": a reply of a few hundred tokens in about ten seconds.
FAST_TPS = 25.0
# Real headroom, beyond the 1 GiB of RAM the budget already keeps for the system: 10% of the
# machine's RAM still free with the model loaded (the conversation grows, a browser opens), and on
# a discrete GPU that also drives a display 0.5 GiB of its memory (a desktop compositor and a
# browser's GPU process take a few hundred MiB; running out makes CUDA allocations fail).
HEADROOM_RAM_SHARE = 0.10
HEADROOM_VRAM_BYTES = GIB // 2
# The first run downloads before the first chat: past this, a smaller model that is good wins and
# the bigger one is offered beside it with its size and download time.
FIRST_RUN_DOWNLOAD_BYTES = 5 * GIB
# Download speed when none was measured: 100 Mbit/s, a common fixed broadband plan.
ASSUMED_DOWNLOAD_BPS = 100e6 / 8


@dataclass(frozen=True)
class Policy:
    name: str
    tps_floors: tuple[float, ...]  # the first of these some Q4_K_M-or-better option reaches is required
    leanest_quant: bool  # the model's fastest good quant (faster) rather than its best
    words: str

    def floor(self, candidates: list[Candidate]) -> float:
        """The speed an option must reach: the highest floor a Q4_K_M-or-better one does."""
        for floor in self.tps_floors:
            if any(c.quality.tier == 2 and c.est_tps >= floor for c in candidates):
                return floor
        return 0.0

    def key(self, c: Candidate, fit_class: int, floor: float, comfortable: bool) -> tuple:
        """Sort key, highest best. ``fit_class``: 3 whole at the target context, 2 whole at a
        smaller one, 1 GPU/CPU split, 0 CPU only on a GPU machine."""
        quant = c.est_tps if self.leanest_quant else -c.quality.kld
        return (comfortable, c.est_tps >= floor, c.quality.tier, fit_class, round(c.rank_params_b, 2),
                quant, c.local_path is not None)


POLICIES = {
    "balanced": Policy("balanced", (COMFORT_TPS, MIN_CHAT_TPS), False,
                       f"a comfortable speed (≥ {COMFORT_TPS:.0f} tokens/s) first, then the larger model, "
                       "then a better quant while the speed stays comfortable"),
    "faster": Policy("faster", (FAST_TPS, COMFORT_TPS, MIN_CHAT_TPS), True,
                     f"speed (≥ {FAST_TPS:.0f} tokens/s) first, then the larger model at its leanest "
                     "good quant"),
    "quality": Policy("quality", (MIN_CHAT_TPS,), False,
                      f"the larger model and the better quant, as long as it keeps up with reading "
                      f"(≥ {MIN_CHAT_TPS:.0f} tokens/s)"),
}


def policy_for(name: str | None) -> Policy:
    from localchat.errors import LocalChatError

    key = (name or DEFAULT_PREFERENCE).strip().lower()
    if key == "best quality":
        key = "quality"
    if key not in POLICIES:
        raise LocalChatError(f"unknown preference {name!r}", f"use one of {', '.join(PREFERENCES)}")
    return POLICIES[key]


def next_preference(name: str) -> str:
    """The preference after ``name`` (a key in setup and the model menu cycles through them)."""
    i = PREFERENCES.index(policy_for(name).name)
    return PREFERENCES[(i + 1) % len(PREFERENCES)]


def has_headroom(c: Candidate, budget: Budget) -> bool:
    """Whether ``c`` fits and still leaves the headroom above free."""
    if not c.fits:
        return False
    spare_ram = int(budget.ram_total_bytes * HEADROOM_RAM_SHARE)
    if c.unified:
        return c.footprint.total_bytes <= budget.ram_bytes - spare_ram
    if c.footprint.cpu.total_bytes > budget.ram_bytes - spare_ram:
        return False
    return c.n_gpu_layers == 0 or c.footprint.gpu.total_bytes <= budget.gpu_bytes - HEADROOM_VRAM_BYTES


def download_minutes(file_bytes: int, bps: float = ASSUMED_DOWNLOAD_BPS) -> float:
    return file_bytes / bps / 60
