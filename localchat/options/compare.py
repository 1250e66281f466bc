"""What comparing two quants of a model (or a model with one on a server) decides and says:
whether both fit in memory at once, what both answer, and whether a difference in speed is a
finding or noise."""

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
# A server that sends no token counts (python -m llama_cpp.server; engine/remote_reply.py) is
# timed by counting its text pieces on this side's clock: a piece is about one token, but not
# always (bytes of one character held back, a piece of several tokens), and the network's delays
# land in the measured time. Such a figure gets twice the room before a difference counts.
SPEED_NOISE_APPROXIMATE = 2 * SPEED_NOISE


def speed_words(current: ReplyStats, other: ReplyStats, current_quant: str, other_quant: str) -> str:
    """``Q8_0 generated at 0.62× the speed of Q4_1`` when both replies ran their course with
    enough tokens to time and differ by more than the noise; else that the difference is within
    noise, and why. A side whose figures are approximate (a server that sent no token counts)
    is said to be, and widens the noise."""
    approximate = [name for stats, name in ((current, current_quant), (other, other_quant))
                   if stats.approximate]
    caveat = ""
    if approximate:
        caveat = (f" ({' and '.join(approximate)}: approximate, the server sent no token counts "
                  "so its text pieces were counted)")
    timed = all(speed_counts(s.completion_tokens, s.finish_reason) for s in (current, other))
    if not timed or current.gen_tps <= 0 or other.gen_tps <= 0:
        a, b = (f"{'~' if s.approximate else ''}{s.completion_tokens}" for s in (current, other))
        return (f"Their speeds are within noise ({a} and {b} tokens; a speed needs "
                f"{SPEED_MIN_TOKENS} on each side){caveat}.")
    ratio = other.gen_tps / current.gen_tps
    noise = SPEED_NOISE_APPROXIMATE if approximate else SPEED_NOISE
    if abs(ratio - 1) < noise:
        return (f"Their speeds are within noise ({current.gen_tps:.1f} and {other.gen_tps:.1f} t/s, "
                f"{ratio:.2f}×){caveat}.")
    about = "about " if approximate else ""
    return f"{other_quant} generated at {about}{ratio:.2f}× the speed of {current_quant}{caveat}."


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


def side_names(current: ModelOption, other: ModelOption) -> tuple[str, str]:
    """What the comparison calls each side: two quants of one model by their quant ("Q4_1",
    "Q8_0"); with a model on a server, each by its name and where it runs ("smol on box",
    "SmolLM2-135M-Instruct Q4_1")."""
    if not (current.remote or other.remote):
        return current.quant, other.quant
    return side_label(current), side_label(other)


def side_label(row: ModelOption) -> str:
    return f"{row.model} on {row.remote.host}" if row.remote else row.label


def side_head(row: ModelOption, name: str, tag: str) -> str:
    """A side's heading: ``Q4_1 (loaded) · file 85.8 MiB``, ``smol on box (other) · server``."""
    if row.remote:
        return f"{name} ({tag}) · server"
    return f"{name} ({tag}) · file {fmt_bytes(row.candidate.file_bytes)}"


def side_quality(row: ModelOption) -> str:
    """What the quant costs in quality; a server's model whose quant its name does not say:
    that it is not known."""
    quality = row.candidate.quality
    if row.remote and not quality.known:
        return "its quant and quality: the server does not say"
    return quality.words


def stats_words(stats: ReplyStats | None, memory: str) -> str:
    """``42.5 t/s · 24 tokens · memory 182.3 MiB``; a server's approximate figures marked ``~``."""
    if stats is None:
        return f"no reply · {memory}"
    about = "~" if stats.approximate else ""
    return f"{about}{stats.gen_tps:.1f} t/s · {about}{stats.completion_tokens} tokens · {memory}"


def memory_words(current: ModelOption, other: ModelOption, names: tuple[str, str],
                 current_bytes: int, other_bytes: int) -> str:
    """How the two differ in this machine's memory, for the verdict: ``Q8_0 takes 44.3 MiB more
    memory.``; a model on a server takes that machine's, not this one's."""
    cur, oth = names
    if current.remote and other.remote:
        return "Both run on servers: neither takes this machine's memory."
    if other.remote:
        return (f"{oth} takes the server's memory, not this machine's "
                f"({cur} takes {fmt_bytes(current_bytes)} here).")
    if current.remote:
        return f"{oth} takes {fmt_bytes(other_bytes)} of this machine's memory; {cur} takes the server's."
    diff = other_bytes - current_bytes
    return f"{oth} takes {fmt_bytes(abs(diff))} {'more' if diff >= 0 else 'less'} memory."
