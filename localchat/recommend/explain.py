"""The recommendation in words: the memory arithmetic, and why not the next bigger thing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchat.recommend.candidate import Candidate, ctx_words
from localchat.recommend.profiles import Budget
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.recommend.choose import Option


def _why_not(alt: Candidate, min_tps: float, budget: Budget) -> str | None:
    if not alt.fits:
        over = max(0, -alt.free_after_bytes)
        if alt.n_gpu_layers > 0 and not alt.unified:
            return (f"{alt.label} would need {fmt_bytes(alt.footprint.gpu.total_bytes)} on the GPU, "
                    f"{fmt_bytes(over)} more than it has free")
        return (f"{alt.label} would need {fmt_bytes(alt.footprint.total_bytes)}, {fmt_bytes(over)} more "
                f"than fits while leaving {fmt_bytes(budget.headroom_bytes)} of RAM free")
    if alt.est_tps < min_tps:
        return f"{alt.label} would fit but run at only ~{alt.est_tps:.1f} tokens/s"
    if alt.fit == "partial":
        return f"{alt.label} would have to split between GPU and RAM ({alt.where()})"
    return None


def explain(choice: Candidate, alternatives: list[Candidate], budget: Budget) -> str:
    """The choice's memory arithmetic, where it runs and how fast, why not the next quant up or
    the next bigger model, and its quality cost in words."""
    from localchat.recommend.choose import MIN_CHAT_TPS

    lines = [choice.summary() + "."]
    if choice.fit == "gpu":
        where = "Runs entirely on the GPU"
    elif choice.fit == "partial":
        where = (f"Runs {choice.n_gpu_layers} of {choice.n_layers + 1} layers on the GPU and the "
                 "rest on the CPU")
    else:
        where = "Runs on the CPU"
    source = "as measured on this machine" if choice.tps_measured else "estimated from memory bandwidth"
    lines.append(f"{where}, at about {choice.est_tps:.0f} tokens/s ({source}).")
    if choice.ctx < 8192:
        lines.append(f"The context is {ctx_words(choice.ctx)} tokens so that the model stays whole on "
                     "the GPU; a longer context would push layers into RAM.")
    if choice.kv_type != "f16":
        lines.append(f"The KV cache is stored as {choice.kv_type} (half the memory of f16, with "
                     "hardly any quality loss) to make room.")
    for alt in alternatives:
        if alt.note in ("higher quality", "bigger model"):
            reason = _why_not(alt, MIN_CHAT_TPS, budget)
            if reason:
                lines.append(reason + ".")
    lines.append(f"Quality: {choice.quality.label} {choice.quality.words}.")
    if not choice.exact:
        lines.append("Sizes are estimated from the model's architecture; they become exact once "
                     "the file's header is read.")
    return " ".join(lines)


def no_fit_explanation(budget: Budget, options: list[Option]) -> str:
    """Nothing fits: say what the smallest option needs and what the machine offers."""
    if not options:
        return "The catalog is empty and no model files were given, so there is nothing to recommend."
    smallest = min(options, key=lambda o: o.candidate.footprint.total_bytes).candidate
    have = f"{fmt_bytes(budget.ram_bytes)} of RAM to spare"
    if budget.has_gpu:
        have += f" and {fmt_bytes(budget.gpu_bytes)} free on the GPU"
    return (f"No model in the catalog fits this machine. The smallest, {smallest.label} at "
            f"{ctx_words(smallest.ctx)} context, needs {fmt_bytes(smallest.footprint.total_bytes)} "
            f"({fmt_bytes(smallest.footprint.weights_bytes)} weights + "
            f"{fmt_bytes(smallest.footprint.kv_bytes)} KV cache + "
            f"{fmt_bytes(smallest.footprint.compute_bytes)} compute + "
            f"{fmt_bytes(smallest.footprint.overhead_bytes)} overhead), but there is only {have} "
            "(available memory minus headroom for the system). Close other programs, or run "
            "localchat on a machine with more memory.")
