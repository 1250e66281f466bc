"""The recommendation in words: the memory arithmetic, and why not the next bigger thing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchat.loadsettings import DEFAULT_CTX
from localchat.recommend.candidate import Candidate, ctx_words
from localchat.recommend.pool import shares
from localchat.recommend.profiles import Budget
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.recommend.policy import Policy


def _why_not(alt: Candidate, min_tps: float, budget: Budget, chosen_headroom: bool = False,
             chosen_ctx: int = 0) -> str | None:
    from localchat.recommend.policy import HEADROOM_RAM_SHARE, has_headroom

    if not alt.fits:
        over = max(0, -alt.free_after_bytes)
        if alt.n_gpu_layers > 0 and not alt.unified:
            return (f"{alt.label} would need {fmt_bytes(alt.footprint.gpu.total_bytes)} on the GPU, "
                    f"{fmt_bytes(over)} more than it has free")
        return (f"{alt.label} would need {fmt_bytes(alt.footprint.total_bytes)}, {fmt_bytes(over)} more "
                f"than fits while leaving {fmt_bytes(budget.headroom_bytes)} of RAM free")
    if alt.est_tps < min_tps:
        return (f"{alt.label} would fit but run at only ~{alt.est_tps:.1f} tokens/s, below the "
                f"{min_tps:.0f} this preference asks for")
    if chosen_headroom and not has_headroom(alt, budget):
        return (f"{alt.label} would fit but leave less than {HEADROOM_RAM_SHARE:.0%} of RAM"
                + (" or 0.5 GiB of GPU memory" if alt.n_gpu_layers and not alt.unified else "") + " free")
    if alt.ctx < chosen_ctx:
        return f"{alt.label} would fit only with a {ctx_words(alt.ctx)} context"
    if alt.fit == "partial":
        return f"{alt.label} would have to split between GPU and RAM ({alt.where()})"
    return None


def where_words(c: Candidate) -> str:
    """Where it runs, in words that never call a split "entirely on the GPU": the token
    embeddings (and llama.cpp's host buffers) stay in RAM even with every layer offloaded."""
    in_ram = c.footprint.cpu.total_bytes
    if c.fit == "gpu":
        if c.unified:
            return "Runs entirely on the GPU (unified memory)"
        return (f"Runs all {c.n_layers} layers and the output on the {c.device}; "
                f"{fmt_bytes(in_ram)} stays in RAM (the token embeddings and llama.cpp's buffers)")
    if c.fit == "partial":
        return (f"Runs {c.n_gpu_layers} of {c.n_layers + 1} layers on the {c.device} and the rest on the "
                f"CPU ({fmt_bytes(in_ram)} in RAM)")
    return "Runs on the CPU"


def speed_words(c: Candidate, budget: Budget) -> str:
    """The speed and where the figure comes from."""
    from localchat.recommend.speed import tps_text

    if c.tps_measured:
        return f"at about {c.est_tps:.0f} tokens/s (as measured on this machine)"
    if c.n_gpu_layers > 0 and budget.gpu_backend == "rpc":
        source = (f"{budget.gpu_bandwidth_gbps:.0f} GB/s memory bandwidth, "
                  f"{budget.gpu_bandwidth_source}; network: {budget.link_words}")
    elif c.n_gpu_layers > 0 and budget.has_gpu:
        source = f"{budget.gpu_bandwidth_gbps:.0f} GB/s GPU bandwidth, {budget.gpu_bandwidth_source}"
    else:
        source = f"{budget.ram_bandwidth_gbps:.0f} GB/s RAM bandwidth, {budget.ram_bandwidth_source}"
    return f"at an estimated {tps_text(c.est_tps, False)} tokens/s (from {source})"


def explain(choice: Candidate, alternatives: list[Candidate], budget: Budget, *,
            policy: Policy | None = None, floor: float | None = None, headroom: bool = False) -> str:
    """The choice's memory arithmetic, where it runs and how fast, why not the next quant up or
    the next bigger model, and its quality cost in words."""
    from localchat.recommend.policy import MIN_CHAT_TPS

    min_tps = MIN_CHAT_TPS if floor is None else floor
    lines = [choice.summary() + "."]
    lines.append(f"{where_words(choice)}, {speed_words(choice, budget)}.")
    if policy is not None:
        lines.append(f"Preference: {policy.name}, {policy.words}.")
    if choice.ctx < DEFAULT_CTX:
        lines.append(f"The context is {ctx_words(choice.ctx)} tokens so that the model stays whole "
                     f"{'on the GPU' if choice.n_gpu_layers else 'in RAM'} with room to spare; a "
                     "longer context would need more memory.")
    if choice.kv_type != "f16":
        lines.append(f"The KV cache is stored as {choice.kv_type} (half the memory of f16, with "
                     "hardly any quality loss) to make room.")
    for alt in alternatives:
        if alt.note in ("higher quality", "bigger model"):
            reason = _why_not(alt, min_tps, budget, headroom, choice.ctx)
            if reason:
                lines.append(reason + ".")
    lines.append(f"Quality: {choice.quality.label} {choice.quality.words}.")
    if not choice.exact:
        lines.append("Sizes are estimated from the model's architecture; they become exact once "
                     "the file's header is read.")
    return " ".join(lines)


def no_fit_explanation(budget: Budget, candidates: list[Candidate]) -> str:
    """Nothing fits: say what the smallest of ``candidates`` (the best placement of each model ×
    quant) needs and what the machine offers."""
    if not candidates:
        return "The catalog is empty and no model files were given, so there is nothing to recommend."
    smallest = min(candidates, key=lambda c: c.footprint.total_bytes)
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


def pool_lines(c: Candidate, budget: Budget) -> list[str]:
    """Each machine's share of ``c`` on the pool, and the network assumed, for people."""
    if budget.gpu_backend != "rpc" or not c.fits:
        return []
    fp = c.footprint
    n_offloaded = min(c.n_gpu_layers, c.n_layers + 1)
    rows = shares(fp.gpu.total_bytes, fp.cpu.total_bytes, n_offloaded, c.n_layers, budget.rpc_workers)
    width = max(len(r.machine) for r in rows)
    lines = [f"Each machine's share of {c.label} (network: {budget.link_words}):"]
    for r in rows:
        extra = " + the token embeddings" if r.machine == "this machine" else ""
        lines.append(f"  {r.machine.ljust(width)}  {fmt_bytes(r.bytes):>10}  {r.layers} layers{extra}")
    return lines
