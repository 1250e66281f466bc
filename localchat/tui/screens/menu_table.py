"""How the model menu's table shows an option: its words (options/words.py) styled as cells."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.text import Text

from localchat.options.menu import ModelInventory
from localchat.options.option import ModelOption
from localchat.options.words import memory_text, menu_status, size_text, tps_text, where_text
from localchat.recommend.calibration import Calibration
from localchat.tui.widgets.plain import plain

if TYPE_CHECKING:
    from localchat.download.store import PartialDownload
    from localchat.recommend.profiles import Budget

FIT_STYLE = {"gpu": "green", "partial": "yellow", "cpu": "", "none": "red"}


@dataclass(frozen=True)
class MenuContext:
    """What the menu sizes rows against, gathered once in a worker when it opens."""

    inventory: ModelInventory
    budget: Budget
    calibration: Calibration
    machine: str  # one line: what memory there is
    partials: dict[str, PartialDownload] = field(default_factory=dict)  # by spec, lower case


def row_cells(row: ModelOption, first_of_model: bool, *, star: bool = False) -> tuple[Any, ...]:
    """The row's cells; ``star``: the preference's pick."""
    model = row.model if first_of_model else ""
    if star:
        model = f"★ {model}" if model else "★"
    return (
        plain(model, line=True, style="bold", overflow="ellipsis", no_wrap=True),
        plain(row.quant, line=True),
        Text(size_text(row), justify="right"),
        Text(memory_text(row), justify="right"),
        Text(where_text(row), style=FIT_STYLE.get(row.fit, ""), overflow="ellipsis", no_wrap=True),
        Text(tps_text(row), justify="right"),
        Text(row.candidate.quality.short, justify="right",
             style="yellow" if row.candidate.quality.warning else ""),
        Text(menu_status(row), style="bold" if row.loaded else "dim" if not row.downloaded else ""),
    )
