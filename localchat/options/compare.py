"""What comparing two quants of a model decides and says: whether both fit in memory at once,
what both answer, and whether a difference in speed is a finding or noise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchat.recommend.calibration import SPEED_MIN_TOKENS, speed_counts
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.engine.types import Message, ModelInfo, ReplyStats
    from localchat.options.option import ModelOption
    from localchat.recommend.candidate import Candidate

# Tokens/s of one reply vary by several percent from run to run on the same machine and model
# (`localchat ask` on SmolLM2 Q4_1: 135-139 tok/s; the TUI's replies 0.83-0.90 of the bare
# engine): a smaller difference between two quants' single replies is not a finding.
SPEED_NOISE = 0.10


def speed_words(current: ReplyStats, other: ReplyStats, current_quant: str, other_quant: str) -> str:
    """``Q8_0 generated at 0.62× the speed of Q4_1`` when both replies ran their course with
    enough tokens to time and differ by more than the noise; else that the difference is within
    noise, and why."""
    timed = all(speed_counts(s.completion_tokens, s.finish_reason) for s in (current, other))
    if not timed or current.gen_tps <= 0 or other.gen_tps <= 0:
        return (f"Their speeds are within noise ({current.completion_tokens} and "
                f"{other.completion_tokens} tokens; a speed needs {SPEED_MIN_TOKENS} on each side).")
    ratio = other.gen_tps / current.gen_tps
    if abs(ratio - 1) < SPEED_NOISE:
        return (f"Their speeds are within noise ({current.gen_tps:.1f} and {other.gen_tps:.1f} t/s, "
                f"{ratio:.2f}×).")
    return f"{other_quant} generated at {ratio:.2f}× the speed of {current_quant}."


def allocated_bytes(info: ModelInfo | None) -> int:
    if info is None:
        return 0
    return info.allocated_weights_bytes + info.allocated_kv_bytes + info.allocated_compute_bytes


def messages_to_last_user(messages: list[Message]) -> list[Message]:
    """The conversation up to and including the last user message (the reply after it is what
    both quants answer again)."""
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    return messages[: last + 1]


def swap_question(current: ModelOption, other: ModelOption) -> str:
    """Asked when the two do not fit in memory together."""
    need = current.needs_bytes + other.needs_bytes
    free = current.candidate.budget_bytes
    return (f"{current.quant} and {other.quant} do not fit in memory together "
            f"({fmt_bytes(need)} needed, {fmt_bytes(free)} free). Compare by unloading "
            f"{current.quant}, answering with {other.quant}, then loading {current.quant} back?")


def both_fit(first: Candidate, second: Candidate) -> bool:
    """Whether two models fit in memory at once (compare quants loads the second beside the
    first only then): their GPU shares within the GPU's free memory and their RAM shares within
    the RAM budget (unified memory: the totals within the RAM budget)."""
    if first.unified:
        return first.footprint.total_bytes + second.footprint.total_bytes <= first.ram_budget_bytes
    gpu = first.footprint.gpu.total_bytes + second.footprint.gpu.total_bytes
    ram = first.footprint.cpu.total_bytes + second.footprint.cpu.total_bytes
    return gpu <= first.gpu_budget_bytes and ram <= first.ram_budget_bytes
