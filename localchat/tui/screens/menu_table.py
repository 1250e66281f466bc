"""What the model menu's table and detail pane show for a row (screens/models.py lays them out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from localchat.options.menu import MenuRow, ModelInventory
from localchat.recommend.calibration import Calibration
from localchat.tui.widgets.plain import plain
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.download.store import PartialDownload
    from localchat.recommend.profiles import Budget

# (label, width): 98 columns with the cell padding and the scrollbar, for a 100-column terminal
COLUMNS = (("Model", 19), ("Quant", 6), ("File", 9), ("Memory", 9), ("Runs on", 15), ("t/s", 7),
           ("Same word", 9), ("Status", 8))
FIT_STYLE = {"gpu": "green", "partial": "yellow", "cpu": "", "none": "red"}


@dataclass(frozen=True)
class MenuContext:
    """What the menu sizes rows against, gathered once in a worker when it opens."""

    inventory: ModelInventory
    budget: Budget
    calibration: Calibration
    machine: str  # one line: what memory there is
    partials: dict[str, PartialDownload] = field(default_factory=dict)  # by spec, lower case

    def partial(self, row: MenuRow) -> PartialDownload | None:
        return None if row.downloaded else self.partials.get(row.spec.lower())


def machine_line(budget: Budget) -> str:
    ram = f"{fmt_bytes(budget.ram_bytes)} RAM free for a model"
    if not budget.has_gpu:
        return f"{ram} · no GPU this llama.cpp can use"
    kind = "shared with the CPU" if budget.unified else "free"
    return f"{ram} · {budget.gpu_name}: {fmt_bytes(budget.gpu_bytes)} {kind}"


def row_cells(row: MenuRow, first_of_model: bool, partial: PartialDownload | None = None, *,
              star: bool = False, note: str = "") -> tuple[Any, ...]:
    """The row's cells; ``star``: the preference's pick; ``note``: why it needs more memory than
    a larger file of the same model (shown beside where it runs)."""
    status = ("● loaded" if row.loaded else "on disk" if row.downloaded
              else f"{partial.fraction:.0%} here" if partial else "download")
    model = row.model if first_of_model else ""
    if star:
        model = f"★ {model}" if model else "★"
    where = row.candidate.where_short() + (f" · {note}" if note else "")
    return (
        plain(model, line=True, style="bold", overflow="ellipsis", no_wrap=True),
        plain(row.quant, line=True),
        Text(row.size_text, justify="right"),
        Text(row.memory_text, justify="right"),
        Text(where, style=FIT_STYLE.get(row.fit, ""), overflow="ellipsis", no_wrap=True),
        Text(row.tps_text, justify="right"),
        Text(row.quality_short, justify="right", style="yellow" if row.candidate.quality.warning else ""),
        Text(status, style="bold" if row.loaded else "dim" if not row.downloaded else ""),
    )


def detail_text(row: MenuRow, partial: PartialDownload | None = None) -> str:
    """The highlighted row in full: the memory arithmetic, the quality cost in words, the risk."""
    c = row.candidate
    lines = [c.summary() + ("" if row.exact else " (estimated from the model's architecture)")]
    lines.append(f"Quality: {row.quant} {row.quality_words}.")
    if c.quality.warning:
        lines.append(f"⚠ {c.quality.warning}.")
    if not row.fits:
        lines.append(f"⚠ Does not fit: {row.risk()}")
    if row.context_warning():
        lines.append(f"⚠ {row.context_warning()}.")
    local = row.item.local
    if local is None and partial is not None:
        lines.append(f"Partly here: {fmt_bytes(partial.done_bytes)} of {fmt_bytes(partial.size_bytes)} "
                     f"from a download that stopped; Enter resumes it ({row.spec}).")
    elif local is None:
        lines.append(f"Not on disk: Enter downloads {row.spec} ({row.size_text}).")
    else:
        lines.append(f"{'Loaded' if row.loaded else 'On disk'}: {Path(local.path).name} ({local.source}).")
    return "\n".join(lines)
