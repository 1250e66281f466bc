"""The help screen: every key, generated from the bindings so it cannot drift."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable

from localchat.tui.widgets.plain import PlainLabel


def key_rows(app: App, groups: Iterable[tuple[str, list[BindingType]]]) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every binding that has a description, keys shown as the footer
    shows them; one row per action even when several keys share it."""
    rows: list[tuple[str, str, str]] = []
    for where, bindings in groups:
        for binding in bindings:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            keys = " / ".join(
                app.get_key_display(Binding(k.strip(), binding.action)) for k in binding.key.split(",")
            )
            rows.append((where, keys, binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close help", show=False)]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield PlainLabel("Keys  (Esc closes · ctrl+p opens the command palette)",
                             classes="dialog-question")
            yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Action")
        for row in self.rows:
            table.add_row(*row)  # localchat's own bindings: no user text
        table.focus()
