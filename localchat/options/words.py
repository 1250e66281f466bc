"""What a ``ModelOption`` says in the setup's and the model menu's tables and detail panes: one
place for the words and figures of both (the screens only lay them out and colour them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from localchat.download.source import Starter
from localchat.options.option import FOUND_ON_HUB
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.options.option import ModelOption
    from localchat.recommend.profiles import Budget

# the setup's choice table, most telling first: a 100-column terminal shows all but the file size
# (the details line says it)
SETUP_COLUMNS = ("Model", "Quant", "Context", "Runs on", "Memory", "tok/s", "Same word", "On disk", "Size")
# the model menu's (label, width): 98 columns with the cell padding and the scrollbar
MENU_COLUMNS = (("Model", 19), ("Quant", 6), ("File", 9), ("Memory", 9), ("Runs on", 15), ("t/s", 7),
                ("Same word", 9), ("Status", 8))
# the recommender's notes, as short as a table cell wants them
WHY = {"next best, smaller": "smaller model", "higher quality": "higher quant"}


def short_bytes(n: int) -> str:
    """A table's width of a size: ``138 MiB``, ``1.6 GiB``, ``38.7 GiB`` (fmt_bytes otherwise)."""
    if n < 1 << 30:
        return f"{n / (1 << 20):.0f} MiB"
    return fmt_bytes(n)


def _approx(option: ModelOption, text: str) -> str:
    return text if option.exact else f"~{text}"


def size_text(option: ModelOption) -> str:
    if option.remote:
        return "-"
    return _approx(option, short_bytes(option.candidate.file_bytes))


def memory_text(option: ModelOption) -> str:
    """Memory it needs here; a model on a server needs none ("server")."""
    if option.remote:
        return "server"
    return _approx(option, short_bytes(option.candidate.footprint.total_bytes))


def tps_text(option: ModelOption) -> str:
    """Measured here ("112"), or the estimate as a range ("60–90"); "-" when it does not fit or
    runs on a server (its speed is the server's)."""
    return option.candidate.tps_text if option.fits and not option.remote else "-"


def where_text(option: ModelOption) -> str:
    """Where it runs, short, with why it needs more memory than a larger file when it does."""
    if option.remote:
        return f"on {option.remote.host}"
    return option.candidate.where_short() + (f" · {option.memory_note}" if option.memory_note else "")


def same_word_text(option: ModelOption) -> str:
    """How often the quant picks the 16-bit model's next word ("-" when the server does not say
    its quant)."""
    quality = option.candidate.quality
    return "-" if option.remote and not quality.known else quality.short


def menu_status(option: ModelOption) -> str:
    if option.loaded:
        return "● loaded"
    if option.remote:
        return "remote"
    if option.downloaded:
        return "on disk"
    if option.partial:
        return f"{option.partial.fraction:.0%} here"
    return "Hub" if option.why == FOUND_ON_HUB else "download"


def setup_disk_text(option: ModelOption) -> str:
    if option.downloaded:
        return "yes"
    return f"{option.partial.fraction:.0%} here" if option.partial else "no"


def setup_cells(option: ModelOption) -> tuple[str, ...]:
    """The setup's row, in ``SETUP_COLUMNS`` order (the recommendation's model starred)."""
    c = option.candidate
    if option.remote:  # nothing to size or download: where it runs says it all
        return (option.model, c.quant or "-", c.ctx_short() if c.ctx else "-", where_text(option),
                memory_text(option), tps_text(option), same_word_text(option), "server", "-")
    model = f"★ {option.model}" if option.why == "recommended" else option.model
    memory = fmt_bytes(c.footprint.total_bytes) + (f" · {option.memory_note}" if option.memory_note else "")
    return (model, c.quant or "?", c.ctx_short(), c.where_short(), memory,
            c.tps_text, c.quality.short, setup_disk_text(option), fmt_bytes(c.file_bytes))


def risk(option: ModelOption) -> str:
    """Why an option that does not fit is risky, with the figures (empty when it fits)."""
    c = option.candidate
    if c.fits:
        return ""
    if c.n_gpu_layers > 0 and not c.unified:
        free = fmt_bytes(c.gpu_budget_bytes)
        need = fmt_bytes(c.footprint.gpu.total_bytes)
        where = f"{need} of GPU memory with {c.n_gpu_layers} layers there, and {free} is free"
        outcome = ("llama.cpp will probably fail to load it (out of GPU memory), or the driver "
                   "spills into system RAM and it runs many times slower")
    else:
        free = fmt_bytes(c.ram_budget_bytes)
        need = fmt_bytes(c.footprint.cpu.total_bytes if not c.unified else c.footprint.total_bytes)
        where = f"{need} of RAM, and {free} is available"
        outcome = ("the system will swap to disk (replies slow to a crawl, other apps stall) or "
                   "kill localchat when memory runs out")
    return f"{c.label} at {c.ctx} tokens of context needs {where}: {outcome}."


def context_warning(option: ModelOption) -> str:
    """Set when the context it was sized for is longer than the model was trained for."""
    trained = option.candidate.n_ctx_train
    if not trained or option.candidate.ctx <= trained:
        return ""
    return (f"{option.model} was trained for {trained} tokens of context; past that its answers "
            "fall apart: choose a context of at most that")


def _partial_words(option: ModelOption) -> str:
    p = option.partial
    assert p is not None
    return (f"{fmt_bytes(p.done_bytes)} of {fmt_bytes(p.size_bytes)} are already here from a "
            f"download that stopped: Enter resumes it ({option.source.spec}).")


def setup_details(option: ModelOption) -> str:
    """The setup's highlighted row: the memory arithmetic and the quality cost in full."""
    if option.remote:
        return remote_details(option, use="Enter chats with it")
    c = option.candidate
    why = WHY.get(option.why, option.why)
    text = f"{why[:1].upper() + why[1:]}: " if why else ""
    text += f"{c.summary()}. {c.quant or 'This quant'} {c.quality.words}."
    if c.quality.warning:
        text += f" {c.quality.warning}."
    if not c.fits:
        text += " It does not fit this machine: loading it may fail or make the system swap."
    if option.path:
        found = getattr(option.source, "found_in", "")
        text += f" On disk{f' ({found})' if found else ''}: {option.path}."
    if isinstance(option.source, Starter):
        text += " Fetched from PyPI with pip (for networks that reach PyPI but not the Hub)."
    elif option.partial is not None:
        text += " " + _partial_words(option)
    elif not option.downloaded:
        from localchat.recommend.policy import download_minutes

        minutes = max(1, round(download_minutes(c.file_bytes)))
        text += (f" Downloads {fmt_bytes(c.file_bytes)} from the Hub ({option.source.spec}), about "
                 f"{minutes} min at an assumed 100 Mbit/s.")
    return text


def remote_details(option: ModelOption, *,
                   use: str = "Enter switches the chat to it; the conversation goes on") -> str:
    """A server model's row in full: where it runs, what the server says of it, and what
    ``use`` does with it."""
    model, c = option.remote, option.candidate
    assert model is not None
    lines = [f"{model.model} runs on {model.host} ({model.endpoint.base_url}): it takes that "
             "machine's memory, not this one's, and replies as fast as the server and network allow."]
    facts = [f"context {c.ctx:,} tokens" if c.ctx else "context: the server does not say",
             f"trained for {c.n_ctx_train:,}" if c.n_ctx_train else ""]
    lines.append("; ".join(f for f in facts if f).capitalize() + ".")
    lines.append("Loaded: the chat's replies come from it." if option.loaded else f"{use}.")
    return "\n".join(lines)


def menu_details(option: ModelOption) -> str:
    """The menu's highlighted row in full: the memory arithmetic, the quality cost, the risk."""
    if option.remote:
        return remote_details(option)
    c = option.candidate
    estimate = (" (estimated: another quant's header, scaled to this file's size)"
                if option.why == FOUND_ON_HUB else " (estimated from the model's architecture)")
    lines = [c.summary() + ("" if option.exact else estimate)]
    lines.append(f"Quality: {option.quant} {c.quality.words}.")
    if c.quality.warning:
        lines.append(f"⚠ {c.quality.warning}.")
    if not option.fits:
        lines.append(f"⚠ Does not fit: {risk(option)}")
    if context_warning(option):
        lines.append(f"⚠ {context_warning(option)}.")
    if option.path:
        found = getattr(option.source, "found_in", "")
        lines.append(f"{'Loaded' if option.loaded else 'On disk'}: {Path(option.path).name} ({found}).")
    elif option.partial is not None:
        p = option.partial
        lines.append(f"Partly here: {fmt_bytes(p.done_bytes)} of {fmt_bytes(p.size_bytes)} "
                     f"from a download that stopped; Enter resumes it ({option.source.spec}).")
    else:
        lines.append(f"Not on disk: Enter downloads {option.source.spec} ({size_text(option)}).")
    return "\n".join(lines)


def machine_line(budget: Budget) -> str:
    """One line: the memory there is for a model."""
    ram = f"{fmt_bytes(budget.ram_bytes)} RAM free for a model"
    if not budget.has_gpu:
        return f"{ram} · no GPU this llama.cpp can use"
    kind = "shared with the CPU" if budget.unified else "free"
    return f"{ram} · {budget.gpu_name}: {fmt_bytes(budget.gpu_bytes)} {kind}"
