"""The first-run setup screen: what this machine has, which model fits and why, pick, download,
load, chat.

A worker asks ``plan_setup`` (options/setup.py: probe, Hub check, models on disk, recommender);
the screen shows the plan and a table of choices, the recommendation highlighted. Enter picks the
highlighted row through the one use-a-model flow (tui/usemodel.py): a model on disk loads at
once, another is downloaded first, a model on a configured server (``[[endpoints]]``) is used
where it runs; once it has loaded the app saves the choice (the next start opens the chat
directly) and the chat replaces this screen. A server that does not answer is one line above
the table; the other rows are there all the same.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, LoadingIndicator, ProgressBar
from textual.worker import Worker, WorkerState

from localchat.errors import LocalChatError
from localchat.options.choice import remember_preference
from localchat.options.option import ModelOption
from localchat.options.setup import SetupPlan, plan_setup
from localchat.options.words import SETUP_COLUMNS, setup_cells, setup_details
from localchat.recommend.policy import next_preference
from localchat.tui.messages import ModelLoaded, ModelLoadFailed
from localchat.tui.screens.dialogs import ConfirmScreen
from localchat.tui.usemodel import use_model
from localchat.tui.widgets.plain import PlainLabel, PlainStatic, plain
from localchat.tui.words import error_text
from localchat.tui.workers import worker_failure
from localchat.units import fmt_bytes

if TYPE_CHECKING:
    from localchat.engine.target import LoadTarget
    from localchat.loadsettings import LoadSettings
    from localchat.tui.host import AppHost


class SetupScreen(Screen[None]):
    DEFAULT_CSS = """
    SetupScreen #setup-title { text-style: bold; color: $accent; padding: 0 1; margin-top: 1; }
    SetupScreen #setup-reason { color: $warning; padding: 0 1; height: auto; }
    SetupScreen #setup-info { height: 1fr; padding: 0 1; }
    SetupScreen .setup-section { height: auto; border: round $primary 50%; padding: 0 1; }
    SetupScreen #setup-hub { color: $warning; border: round $warning; }
    SetupScreen #setup-todo { border: round $warning; }
    SetupScreen #setup-warnings { color: $warning; height: auto; }
    SetupScreen #setup-busy { height: auto; }
    SetupScreen #setup-busy LoadingIndicator { height: 1; width: 8; }
    SetupScreen #setup-remote { color: $warning; height: 1; padding: 0 1; }
    SetupScreen #setup-table { height: auto; max-height: 9; margin: 0 1; }
    SetupScreen #setup-detail { color: $text-muted; height: auto; max-height: 4; padding: 0 1; }
    SetupScreen #setup-loading { height: auto; padding: 0 1; }
    SetupScreen #setup-load-bar { width: 40; }
    SetupScreen #setup-status { height: auto; padding: 0 1; }
    SetupScreen #setup-status.error { color: $error; }
    SetupScreen .hidden { display: none; }
    """
    HELP_NAME = "Setup"  # its keys' group in the help screen
    BINDINGS = [Binding("q", "app.quit", "Quit"),
                Binding("p", "prefer", "Preference"),
                Binding("r", "replan", "Look again", show=False)]

    app: AppHost

    def __init__(self, reason: str = "") -> None:
        super().__init__()
        self.reason = reason  # why setup opens though a model was configured (its file is gone)
        self.plan: SetupPlan | None = None
        self.busy = True  # planning, downloading or loading: Enter does nothing meanwhile
        self.loading_path: LoadTarget | None = None

    def compose(self) -> ComposeResult:
        yield PlainLabel("Set up localchat", id="setup-title")
        yield PlainStatic(self.reason, id="setup-reason", classes="" if self.reason else "hidden")
        with VerticalScroll(id="setup-info"):  # scrolls; the choices below stay in view
            with Horizontal(id="setup-busy"):
                yield LoadingIndicator()
                yield PlainLabel("Looking at this machine and the models it can run…", id="setup-busy-text")
            yield PlainStatic("", id="setup-probe", classes="setup-section hidden")
            yield PlainStatic("", id="setup-hub", classes="setup-section hidden")
            yield PlainStatic("", id="setup-why", classes="setup-section hidden")
            yield PlainStatic("", id="setup-warnings", classes="hidden")
            yield PlainStatic("", id="setup-todo", classes="setup-section hidden")
        yield PlainStatic("", id="setup-remote", classes="hidden")  # a server that did not answer
        yield DataTable(id="setup-table", cursor_type="row", zebra_stripes=True, classes="hidden")
        yield PlainStatic("", id="setup-detail")
        with Vertical(id="setup-loading", classes="hidden"):
            yield PlainLabel("", id="setup-load-text")
            yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="setup-load-bar")
        yield PlainStatic("", id="setup-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#setup-probe").border_title = "This machine"
        self.query_one("#setup-why").border_title = "Recommendation"
        self.query_one("#setup-hub").border_title = "Offline"
        self.query_one("#setup-todo").border_title = "What to do"
        self._plan()

    # ------------------------------------------------------------------ the plan
    @work(thread=True, exclusive=True, group="setup-plan", exit_on_error=False)
    def _plan(self) -> SetupPlan:
        return plan_setup(self.app.hardware_profile(), self.app.sources, ctx=self.app.overrides.n_ctx,
                          calibration=self.app.sources.calibration.load(),
                          prefer=self.app.config.recommend.prefer, endpoints=self.app.config.endpoints)

    @on(Worker.StateChanged)
    def _plan_done(self, event: Worker.StateChanged) -> None:
        failure = worker_failure(event, "setup-plan")
        done = event.worker.group == "setup-plan" and event.state == WorkerState.SUCCESS
        if not (failure or done):
            return
        self.query_one("#setup-busy").add_class("hidden")
        self.busy = False
        if failure:
            self.show_error(failure.line("Could not work out a recommendation")
                            + " (press r to try again, or run `localchat --model PATH`)")
        elif isinstance(event.worker.result, SetupPlan):
            self.show_plan(event.worker.result)

    def show_plan(self, plan: SetupPlan) -> None:
        self.plan = plan
        self._show("#setup-probe", plan.probe_text)
        self._show("#setup-hub", "" if plan.online else
                   f"The Hugging Face Hub cannot be reached: {plan.offline_reason}.")
        self._show("#setup-why", plan.explanation)
        self._show("#setup-warnings", "\n".join(f"Warning: {w}" for w in plan.warnings))
        self._show("#setup-todo", plan.what_to_do)
        self._show("#setup-remote", " · ".join(plan.remote_problems))
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*SETUP_COLUMNS)
        for i, row in enumerate(plan.rows):
            table.add_row(*(plain(cell, line=True) for cell in setup_cells(row)), key=str(i))
        table.set_class(not plan.rows, "hidden")
        self.busy = False
        if plan.rows:
            table.move_cursor(row=0)
            table.focus()
            self._describe(plan.rows[0])
            self.show_status("Enter: use the highlighted model · ↑↓: pick another · p: preference "
                             f"({self.app.config.recommend.prefer}) · q: quit")

    def _show(self, selector: str, text: str) -> None:
        widget = self.query_one(selector, PlainStatic)
        widget.update(text)
        widget.set_class(not text, "hidden")

    def action_prefer(self) -> None:
        """The next preference (balanced → faster → quality), kept in the config, and a new plan."""
        if self.busy:
            return
        prefer = next_preference(self.app.config.recommend.prefer)
        try:
            self.app.config = remember_preference(self.app.config, prefer)
        except (OSError, LocalChatError) as exc:
            self.app.config = dataclasses.replace(
                self.app.config, recommend=dataclasses.replace(self.app.config.recommend, prefer=prefer))
            self.app.notify(f"Could not save the preference: {exc}", severity="warning")
        self.app.notify(f"Recommending for: {prefer}")
        self.action_replan()

    def action_replan(self) -> None:
        if not self.busy:
            self.busy = True
            self.query_one("#setup-busy").remove_class("hidden")
            self._plan()

    # ------------------------------------------------------------------ choosing
    def selected_row(self) -> ModelOption | None:
        if self.plan is None or not self.plan.rows:
            return None
        return self.plan.rows[self.query_one(DataTable).cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.plan is not None and 0 <= event.cursor_row < len(self.plan.rows):
            self._describe(self.plan.rows[event.cursor_row])

    def _describe(self, row: ModelOption) -> None:
        self.query_one("#setup-detail", PlainStatic).update(setup_details(row))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.selected_row()
        if row is None or self.busy:
            return
        if row.candidate.fits:
            self.choose(row)
            return
        c = row.candidate
        self.app.push_screen(
            ConfirmScreen(f"{c.label} needs {fmt_bytes(c.footprint.total_bytes)}, more than this machine "
                          "has free: loading may fail, or the system may swap and slow to a crawl. "
                          "Use it anyway?", confirm_label="Use it anyway"),
            lambda yes: self.choose(row) if yes else None)

    def choose(self, row: ModelOption) -> None:
        """Use the row's model (tui/usemodel.py): download it if needed, then load it."""
        self.busy = True
        self.show_status("")

        def not_downloaded() -> None:
            self.busy = False
            self.show_status("Not downloaded. Pick a model and press Enter to try again.")

        use_model(self.app, row, loading=lambda path, settings: self._loading(row, path, settings),
                  not_downloaded=not_downloaded)

    def _loading(self, row: ModelOption, path: LoadTarget, settings: LoadSettings) -> None:
        self.loading_path = path
        self.query_one("#setup-load-text", PlainLabel).update(
            f"Connecting to {row.model} on {row.remote.host}…" if row.remote else
            f"Loading {row.label} ({fmt_bytes(row.candidate.footprint.total_bytes)} in memory)…")
        self.query_one("#setup-loading").remove_class("hidden")

    @on(ModelLoaded)
    def _loaded(self, event: ModelLoaded) -> None:
        if event.path == self.loading_path:  # the app has remembered the choice
            self.app.open_chat()

    @on(ModelLoadFailed)
    def _load_failed(self, event: ModelLoadFailed) -> None:
        if event.path != self.loading_path:
            return
        self.loading_path = None
        self.busy = False
        self.query_one("#setup-loading").add_class("hidden")
        self.show_error(f"Could not load the model: {error_text(event.error)}. Pick another one.")

    # ------------------------------------------------------------------ status line
    def show_status(self, text: str) -> None:
        status = self.query_one("#setup-status", PlainStatic)
        status.remove_class("error")
        status.update(text)

    def show_error(self, text: str) -> None:
        status = self.query_one("#setup-status", PlainStatic)
        status.add_class("error")
        status.update(" ".join(text.split()))  # one line
