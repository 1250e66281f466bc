"""The Hub search's hits, over the model menu: Enter answers the highlighted repository (the
menu then lists its GGUF files), Esc answers None."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable

from localchat.download.search import RepoHit
from localchat.options.hub import hit_words, hits_words
from localchat.tui.widgets.plain import PlainLabel, plain

COLUMNS = (("Repository", 56), ("Downloads", 10), ("Likes", 7))


class HubHitsScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Back to the models")]

    def __init__(self, term: str, hits: list[RepoHit]) -> None:
        super().__init__(classes="dialog-screen")
        self.term = term
        self.hits = hits

    def compose(self) -> ComposeResult:
        title = f"{hits_words(self.term, len(self.hits))} · Enter: its files · Esc: back"
        with Vertical(classes="dialog hub-hits"):
            yield PlainLabel(title, classes="dialog-question")
            yield DataTable(id="hub-hits", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table: DataTable[Any] = self.query_one("#hub-hits", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        for hit in self.hits:
            repo, downloads, likes = hit_words(hit)
            table.add_row(plain(repo, line=True, overflow="ellipsis", no_wrap=True),
                          Text(downloads, justify="right"), Text(likes, justify="right"), key=hit.repo_id)
        table.focus()

    @on(DataTable.RowSelected, "#hub-hits")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(str(event.row_key.value))
