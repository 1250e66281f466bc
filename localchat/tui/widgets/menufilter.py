"""The model menu's filter line, with the Hub behind it.

Typing filters the menu's rows (``MenuFilter.Changed``). Enter on ``ORG/NAME[:QUANT]`` lists
that repository's GGUF files, sized from a remote header (``options.hub.look_up`` in a worker →
``MenuFilter.Listed``). Enter on words searches the Hub's GGUF repositories
(``download.search.search_models`` in a worker) and shows the hits (screens/hubhits.py); the
one chosen is looked up as if its name had been typed. What it is doing and what went wrong
come as ``MenuFilter.Said``: one line for the menu.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input
from textual.worker import Worker

from localchat.download.search import RepoHit, search_models
from localchat.errors import LocalChatError
from localchat.options.hub import HubListing, HubSearch, RepoLookup, hits_words, hub_query, look_up
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.workers import worker_failure

PLACEHOLDER = "type to filter · ORG/NAME or words, then Enter: look on the Hub"


class MenuFilter(Horizontal):
    DEFAULT_CSS = """
    MenuFilter { height: 1; padding: 0 1; }
    MenuFilter Label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    MenuFilter Input, MenuFilter Input:focus { border: none; height: 1; padding: 0 1; width: 1fr; }
    MenuFilter Input { background: $boost; }
    MenuFilter Input:focus { background: $primary 30%; }
    """

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Listed(Message):
        def __init__(self, listing: HubListing) -> None:
            super().__init__()
            self.listing = listing

    class Found(Message):
        def __init__(self, term: str, hits: list[RepoHit]) -> None:
            super().__init__()
            self.term = term
            self.hits = hits

    class Said(Message):
        def __init__(self, text: str, *, error: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, *, hub: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hub = hub  # False: a filter only (compare quants lists the loaded model's)

    def compose(self) -> ComposeResult:
        yield PlainLabel("/ Find")
        yield Input(placeholder=PLACEHOLDER if self.hub else "type to filter", id="menu-filter")

    @property
    def input(self) -> Input:
        return self.query_one("#menu-filter", Input)

    @property
    def text(self) -> str:
        return self.input.value

    def clear(self) -> bool:
        """Empty the filter; False when it was empty already."""
        if not self.input.value:
            return False
        self.input.value = ""
        return True

    @on(Input.Changed, "#menu-filter")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    @on(Input.Submitted, "#menu-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            query = hub_query(event.value) if self.hub else None
        except LocalChatError as exc:
            self.post_message(self.Said(str(exc), error=True))
            return
        if isinstance(query, RepoLookup):
            self.look_up(query.repo_id, query.quant)
        elif isinstance(query, HubSearch):
            self.post_message(self.Said(f"Searching the Hub for GGUF models matching {query.term!r}…"))
            self._search(query.term)
        else:
            self.screen.focus_next()  # nothing to look up: on to the rows

    def look_up(self, repo_id: str, quant: str | None = None) -> None:
        """List ``repo_id``'s GGUF files (in a worker); ``Listed`` comes with them."""
        self.post_message(self.Said(f"Looking up {repo_id} on the Hub…"))
        self._look_up(repo_id, quant)

    @work(thread=True, exclusive=True, group="menu-hub", exit_on_error=False)
    def _look_up(self, repo_id: str, quant: str | None) -> None:
        self.post_message(self.Listed(look_up(repo_id, quant)))

    @work(thread=True, exclusive=True, group="menu-hub", exit_on_error=False)
    def _search(self, term: str) -> None:
        self.post_message(self.Found(term, search_models(term)))

    @on(Found)
    def _found(self, event: Found) -> None:
        from localchat.tui.screens.hubhits import HubHitsScreen

        event.stop()
        if not event.hits:
            self.post_message(self.Said(f"No GGUF repository on the Hub matches {event.term!r}", error=True))
            return
        self.post_message(self.Said(f"{hits_words(event.term, len(event.hits))} · Enter: search again"))
        self.app.push_screen(HubHitsScreen(event.term, event.hits), self._hit_chosen)

    def _hit_chosen(self, repo_id: str | None) -> None:
        if repo_id:
            self.input.value = repo_id  # the menu shows that repository's rows
            self.look_up(repo_id)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if failure := worker_failure(event, "menu-hub"):
            self.post_message(self.Said(failure.line(), error=True))
