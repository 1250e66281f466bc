"""The model menu (F4): every local and catalog model × quant, sized for this machine.

Each row says how big the file is, how much memory it needs at the chosen context, where it runs
(GPU / split / CPU / does not fit), its estimated speed, what the quant costs in quality and
whether it is on disk. Context length, GPU layers and KV cache type are fields at the top: every
change re-sizes the rows in a worker (``ModelInventory.rows``; the GGUF headers are read once when
the menu opens). Enter switches the chat to the highlighted row (downloading it first with
``PullScreen`` when needed; a row that does not fit asks first); ``c`` compares the loaded model's
last reply with another quant of it (screens/compare.py). ``/`` focuses the filter line
(widgets/menufilter.py): typing filters the rows; Enter on ``ORG/NAME`` adds that Hub
repository's GGUF files as rows (options/hub.py), Enter on words lists the Hub search's hits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer
from textual.worker import Worker

from localchat.errors import LocalChatError
from localchat.options.choice import remember_preference
from localchat.options.hub import HubListing, filter_words, listing_words, matches
from localchat.options.menu import MenuSettings, preferred_row
from localchat.options.option import ModelOption
from localchat.options.words import MENU_COLUMNS, menu_details, risk
from localchat.recommend.policy import next_preference
from localchat.tui.screens.dialogs import ConfirmScreen
from localchat.tui.screens.menu_compare import compare_with_loaded, find_chat
from localchat.tui.screens.menu_table import MenuContext, gather, row_cells, size_rows, table_key
from localchat.tui.usemodel import is_loaded_as, use_model
from localchat.tui.widgets.menufilter import MenuFilter
from localchat.tui.widgets.menusettings import MenuSettingsBar
from localchat.tui.widgets.plain import PlainLabel, PlainStatic
from localchat.tui.workers import worker_failure

if TYPE_CHECKING:
    from localchat.tui.host import AppHost

class MenuReady(Message, bubble=False):
    def __init__(self, rows: list[ModelOption], settings: MenuSettings, repos: tuple[str, ...]) -> None:
        super().__init__()
        self.rows = rows
        self.settings = settings
        self.repos = repos  # the Hub repositories listed among them


class ModelMenuScreen(Screen[None]):
    """The model menu. ``compare_only``: list just the loaded model's quants (the "Compare quants"
    command opens it so, and Enter then compares instead of switching)."""

    DEFAULT_CSS = """
    ModelMenuScreen { background: $background; }
    ModelMenuScreen #menu-title { padding: 0 1; text-style: bold; color: $accent; height: 1; }
    ModelMenuScreen #menu-machine { padding: 0 1; color: $text-muted; height: 1; }
    ModelMenuScreen #menu-message { padding: 0 1; height: 1; color: $text-muted; }
    ModelMenuScreen #menu-message.error { color: $error; }
    ModelMenuScreen #menu-table { height: 1fr; }
    ModelMenuScreen #menu-detail {
        height: 8; padding: 0 1; border-top: solid $panel-lighten-2; color: $text;
    }
    """
    HELP_NAME = "Models"  # its keys' group in the help screen
    BINDINGS = [
        Binding("escape", "close", "Back to chat"),
        Binding("c", "compare", "Compare with loaded"),
        Binding("f", "toggle_fits", "Only what fits"),
        Binding("ctrl+e", "focus_settings", "Context/GPU/KV"),
        Binding("p", "prefer", "Preference"),
        # the filter line says "/ Find" itself; the footer is full
        Binding("slash", "focus_filter", "Find, or look on the Hub", show=False),
    ]

    AUTO_FOCUS = "#menu-table"

    app: AppHost

    def __init__(self, *, compare_only: bool = False) -> None:
        super().__init__()
        self.compare_only = compare_only
        self.settings = MenuSettings()  # from the app's load settings once composed
        self.context: MenuContext | None = None
        self.rows: list[ModelOption] = []
        self.only_fits = False
        self.hub: dict[str, HubListing] = {}  # repositories looked up on the Hub, by name
        self.jump_to: str | None = None  # the row to highlight once the Hub's rows are in

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        loaded = self.app.load_settings
        self.settings = MenuSettings(loaded.n_ctx, loaded.kv_type, None)
        title = ("Compare quants · Enter: the highlighted quant answers your last message again"
                 if self.compare_only else "Models · Enter: switch the chat to the highlighted one")
        yield PlainLabel(title, id="menu-title")
        yield PlainLabel("measuring this machine…", id="menu-machine")
        yield MenuSettingsBar(self.settings, id="menu-settings")
        yield MenuFilter(hub=not self.compare_only)
        yield PlainLabel("", id="menu-message")
        with Vertical():
            yield DataTable(id="menu-table", cursor_type="row", zebra_stripes=True)
            yield PlainStatic("", id="menu-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        for label, width in MENU_COLUMNS:
            table.add_column(label, width=width)
        table.loading = True
        table.focus()
        self._gather()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#menu-table", DataTable)

    # ------------------------------------------------------------------ workers
    @work(thread=True, exclusive=True, group="menu-rows", exit_on_error=False)
    def _gather(self) -> None:
        """Probe (cached by the app), the catalog, the models on disk, their headers: once."""
        self.context = gather(self.app)
        self._size_rows(self.settings, ())

    def _size_rows(self, settings: MenuSettings, listings: tuple[HubListing, ...]) -> None:
        assert self.context is not None
        rows = size_rows(self.context, settings, listings, loaded=self.app.model_path,
                         compare_only=self.compare_only)
        self.post_message(MenuReady(rows, settings, tuple(h.repo_id for h in listings)))

    @work(thread=True, exclusive=True, group="menu-rows", exit_on_error=False)
    def _resize(self, settings: MenuSettings, listings: tuple[HubListing, ...]) -> None:
        self._size_rows(settings, listings)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if failure := worker_failure(event, "menu-rows"):
            self.table.loading = False
            self.show_message(failure.line("Could not list the models"), error=True)

    # ------------------------------------------------------------------ showing rows
    @on(MenuReady)
    def _ready(self, event: MenuReady) -> None:
        if event.settings != self.settings or event.repos != tuple(self.hub) or self.context is None:
            return  # the settings (or the Hub's rows) changed meanwhile: a newer result is coming
        self.query_one("#menu-machine", PlainLabel).update(self.context.machine)
        if self.context.remote_problems and not self.rows:  # once: an endpoint did not answer
            self.show_message(" · ".join(self.context.remote_problems), error=True)
        self.rows = event.rows
        self.fill_table()
        if self.jump_to is not None:  # a repository just listed: on to its rows
            table_key(self.table, move_to=self.jump_to)
            self.table.focus()
        self.jump_to = None

    def visible_rows(self) -> list[ModelOption]:
        text = self.query_one(MenuFilter).text
        return [r for r in self.rows if (r.fits or r.loaded or not self.only_fits) and matches(r, text)]

    def fill_table(self) -> None:
        table = self.table
        current = self.highlighted()
        keep = current.key if current else next((r.key for r in self.rows if r.loaded), None)
        table.loading = False
        table.clear()
        previous = None
        pick = (preferred_row(self.rows, self.context.budget, self.app.config.recommend.prefer)
                if self.context else None)
        for row in self.visible_rows():
            table.add_row(*row_cells(row, row.model != previous, star=row is pick), key=row.key)
            previous = row.model
        table_key(table, move_to=keep)
        self.show_detail()

    def highlighted(self) -> ModelOption | None:
        key = table_key(self.table)
        return next((r for r in self.rows if r.key == key), None) if key is not None else None

    def loaded_row(self) -> ModelOption | None:
        return next((r for r in self.rows if r.loaded), None)

    @on(DataTable.RowHighlighted, "#menu-table")
    def show_detail(self) -> None:
        row = self.highlighted()
        self.query_one("#menu-detail", PlainStatic).update(menu_details(row) if row else "")

    def show_message(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#menu-message", PlainLabel)
        label.update(text)
        label.set_class(error, "error")

    # ------------------------------------------------------------------ settings
    @on(MenuSettingsBar.Changed)
    def _settings_changed(self, event: MenuSettingsBar.Changed) -> None:
        settings = event.settings
        if settings is None:
            self.show_message(f"{event.error} (the table keeps the last valid setting)", error=True)
            return
        self.show_message(f"Sized for {settings.describe()}")
        if settings != self.settings:
            self.settings = settings
            if self.context is not None:
                self._resize(settings, tuple(self.hub.values()))

    def action_focus_settings(self) -> None:
        self.query_one(MenuSettingsBar).focus_first()

    # ------------------------------------------------------------------ the filter and the Hub
    def action_focus_filter(self) -> None:
        self.query_one(MenuFilter).input.focus()

    @on(MenuFilter.Changed)
    def _filter_changed(self, event: MenuFilter.Changed) -> None:
        self.fill_table()
        self.show_message(filter_words(event.text, len(self.visible_rows()), len(self.rows),
                                       hub=not self.compare_only))

    @on(MenuFilter.Said)
    def _filter_said(self, event: MenuFilter.Said) -> None:
        self.show_message(event.text, error=event.error)

    @on(MenuFilter.Listed)
    def _listed(self, event: MenuFilter.Listed) -> None:
        """A repository's GGUF files: rows sized like the others, the cursor on the one read."""
        listing = event.listing
        self.hub.pop(listing.repo_id, None)
        self.hub = {listing.repo_id: listing, **self.hub}  # the latest first
        self.jump_to = listing.key(listing.reference)
        self.show_message(listing_words(listing))
        if self.context is not None:
            self._resize(self.settings, tuple(self.hub.values()))

    def action_prefer(self) -> None:
        """The next preference (balanced → faster → quality): ★ moves to its pick; kept in the config."""
        prefer = next_preference(self.app.config.recommend.prefer)
        try:
            self.app.config = remember_preference(self.app.config, prefer)
        except (OSError, LocalChatError) as exc:
            self.show_message(f"Could not save the preference: {exc}", error=True)
        self.fill_table()
        self.show_message(f"★ marks the pick for the preference: {prefer} (p changes it)")

    def action_toggle_fits(self) -> None:
        self.only_fits = not self.only_fits
        self.fill_table()
        self.show_message("Showing only what fits (f shows all)" if self.only_fits
                          else "Showing every model (f hides what does not fit)")

    def action_close(self) -> None:
        """Esc: empty the filter, else back to the chat."""
        if self.query_one(MenuFilter).clear():
            self.table.focus()
            return
        self.dismiss(None)

    # ------------------------------------------------------------------ choosing
    @on(DataTable.RowSelected, "#menu-table")
    def _row_selected(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        row = self.highlighted()
        if row is None:
            return
        if self.compare_only:
            self.action_compare()
            return
        if is_loaded_as(self.app, row):
            self.notify(f"{row.model} {row.quant} is already loaded with these settings.")
            return
        if not row.fits:
            question = f"{row.model} {row.quant} does not fit.\n\n{risk(row)}\n\nLoad it anyway?"
            self.app.push_screen(ConfirmScreen(question, "Load anyway"),
                                 lambda yes: self.switch_to(row) if yes else None)
            return
        self.switch_to(row)

    def switch_to(self, row: ModelOption) -> None:
        """Use the row's model (tui/usemodel.py): download it if needed, unload the current
        model, load this one (a worker; the chat shows its progress); the app remembers it once
        it has loaded."""
        app = self.app

        def loading(*_: object) -> None:
            app.notify(f"Loading {row.model} {row.quant}: the conversation goes on with it.")
            self.dismiss(None)
            if find_chat(app) is None:  # opened from the no-model (or setup) screen
                app.open_chat()

        use_model(app, row, loading=loading)

    def action_compare(self) -> None:
        compare_with_loaded(self, self.app, self.highlighted(), self.loaded_row())
