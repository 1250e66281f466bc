"""How the model menu's table shows an option (its words, options/words.py, styled as cells),
and what the menu sizes its rows against."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable

from localchat.download.store import LocalModel
from localchat.errors import LocalChatError
from localchat.ggufmeta import quant_label_from_filename
from localchat.options.hub import HubListing, hub_rows, with_hub_rows
from localchat.options.menu import MenuSettings, ModelInventory
from localchat.options.option import ModelOption
from localchat.options.remote import endpoint_options, mark_loaded
from localchat.options.words import (
    machine_line,
    memory_text,
    menu_status,
    same_word_text,
    size_text,
    tps_text,
    where_text,
)
from localchat.recommend.calibration import Calibration
from localchat.recommend.profiles import budget_for
from localchat.tui.modelhost import ModelHost
from localchat.tui.widgets.plain import plain

if TYPE_CHECKING:
    from localchat.download.store import PartialDownload
    from localchat.engine.target import LoadTarget
    from localchat.recommend.profiles import Budget

FIT_STYLE = {"gpu": "green", "partial": "yellow", "cpu": "", "none": "red", "remote": "cyan"}


@dataclass(frozen=True)
class MenuContext:
    """What the menu sizes rows against, gathered once in a worker when it opens."""

    inventory: ModelInventory
    budget: Budget
    calibration: Calibration
    machine: str  # one line: what memory there is
    partials: dict[str, PartialDownload] = field(default_factory=dict)  # by spec, lower case
    remote: list[ModelOption] = field(default_factory=list)  # the endpoints' models ([[endpoints]])
    remote_problems: list[str] = field(default_factory=list)  # endpoints that could not be listed


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
        Text(same_word_text(row), justify="right",
             style="yellow" if row.candidate.quality.warning else ""),
        Text(menu_status(row), style="bold" if row.loaded else "dim" if not row.downloaded else ""),
    )


def table_key(table: DataTable[Any], *, move_to: str | None = None) -> str | None:
    """The key of the row under the cursor (None in an empty table), after putting the cursor on
    the row ``move_to`` when the table has it."""
    if move_to is not None and move_to in table.rows:
        table.move_cursor(row=table.get_row_index(move_to), animate=False)
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except LookupError:
        return None


def gather(host: ModelHost) -> MenuContext:
    """Probe (cached by the app), the catalog, the models on disk (the loaded file among them
    even when no folder holds it), their headers, the stopped downloads, and meanwhile the
    endpoints' model lists: once, in a worker."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="menu-endpoints") as pool:
        remote = pool.submit(endpoint_options, host.config.endpoints)
        context = _gather_local(host)
        found, problems = remote.result()
    return dataclasses.replace(context, remote=found, remote_problems=problems)


def _gather_local(host: ModelHost) -> MenuContext:
    budget = budget_for(host.hardware_profile())
    catalog = host.sources.catalog()
    local = list(host.sources.local_models())
    current = host.loaded_file
    if current and not any(same_file(m.path, current) for m in local) and Path(current).is_file():
        path = Path(current)
        local.insert(0, LocalModel(path.stem, "", quant_label_from_filename(path.name),
                                   path.stat().st_size, path, "file", None))
    inventory = ModelInventory(catalog, local)
    try:  # downloads that stopped part way: shown as such, resumed when chosen
        partials = {p.spec.lower(): p for p in host.sources.partials()}
    except (LocalChatError, OSError):
        partials = {}
    return MenuContext(inventory, budget, host.sources.calibration.load(), machine_line(budget), partials)


def size_rows(context: MenuContext, settings: MenuSettings, listings: Sequence[HubListing], *,
              loaded: LoadTarget | None, compare_only: bool = False) -> list[ModelOption]:
    """Every row sized for ``settings`` (in a worker): the Hub repositories' quants first, then
    the models on disk and in the catalog, then the endpoints' models; ``compare_only``: the
    loaded model's quants (every model on disk when a server's is loaded) and the endpoints'."""
    loaded_path = loaded if isinstance(loaded, str) else None
    models = None
    if compare_only and loaded_path:
        models = [i.model for i in context.inventory.items
                  if i.local is not None and same_file(i.local.path, loaded_path)]
    rows = context.inventory.rows(context.budget, settings, context.calibration,
                                  loaded_path=loaded_path, models=models, partials=context.partials)
    found = [r for listing in listings
             for r in hub_rows(listing, context.budget, settings, context.calibration, context.partials)]
    rows = with_hub_rows(found, rows)
    return rows + mark_loaded(context.remote, loaded)


def same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return str(a) == str(b)
