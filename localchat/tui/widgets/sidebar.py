"""The conversation list with full-text search; Enter opens the highlighted conversation."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from localchat.errors import StoreError
from localchat.safetext import one_line
from localchat.tui.widgets.plain import PlainLabel, plain

if TYPE_CHECKING:
    from localchat.history import ConversationStore


class Sidebar(Vertical):
    """Lists the store's conversations (or search hits) for the chat screen."""

    class Chosen(Message):
        """A conversation was picked; ``message_id`` is the search hit's message, if any."""

        def __init__(self, conversation_id: int, message_id: int | None = None) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.message_id = message_id

    def __init__(self, store: ConversationStore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.current_id: int | None = None

    def compose(self) -> ComposeResult:
        yield PlainLabel("Conversations", classes="sidebar-title")
        yield Input(placeholder="Search…", id="search")
        yield OptionList(id="conversations")

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        query = self.query_one("#search", Input).value.strip()
        options = self.query_one("#conversations", OptionList)
        options.clear_options()
        try:
            if query:
                for hit in self.store.search(query):
                    line = plain(hit.title or "Untitled", line=True, style="bold")
                    line.append("\n" + one_line(" ".join(hit.snippet.split())[:60]), style="dim")
                    options.add_option(Option(line, id=f"{hit.conversation_id}:{hit.message_id}"))
            else:
                for conv in self.store.list():
                    line = plain(conv.title or "Untitled", line=True, style="bold")
                    detail = f"{conv.message_count} messages"
                    if conv.preview and conv.preview != conv.title:
                        detail += f" · {conv.preview}"
                    line.append("\n" + one_line(detail[:60]), style="dim")
                    options.add_option(Option(line, id=str(conv.id)))
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            return
        if not query and self.current_id is not None:
            # the current chat may be new and not stored yet
            with contextlib.suppress(OptionDoesNotExist):
                options.highlighted = options.get_option_index(str(self.current_id))
        if options.highlighted is None and options.option_count:
            options.highlighted = 0

    def focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def toggle(self) -> bool:
        """Show the list (focused) or hide it; True when it is shown now."""
        self.toggle_class("hidden")
        if self.has_class("hidden"):
            return False
        self.reload()
        self.query_one(OptionList).focus()
        return True

    def show_search(self) -> None:
        self.remove_class("hidden")
        self.reload()
        self.focus_search()

    def show_current(self, conversation_id: int | None) -> None:
        """Mark the chat shown now (and list it, when it is new) if the list is showing."""
        self.current_id = conversation_id
        if not self.has_class("hidden"):
            self.reload()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one("#conversations", OptionList).focus()

    @on(OptionList.OptionSelected, "#conversations")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        # option ids: "<conversation>" in the list, "<conversation>:<message or None>" for a hit
        conversation, _, message = (event.option.id or "").partition(":")
        self.post_message(self.Chosen(int(conversation),
                                      int(message) if message.isdigit() else None))
