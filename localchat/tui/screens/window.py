"""How much of a conversation the chat keeps mounted.

Every layout of the chat screen (a message added, a streaming reply growing past the blank lines
kept below it) arranges every widget in the chat's log, so its cost grows with the messages
mounted: with 80 messages the first screen updates of a reply cost the UI thread 0.25-0.56 s of
CPU each, and a scripted 1,200-token reply got 74-77 screen updates where the same reply at the
same pace got 177-245 in a new chat (122-189 with this window; ``benchmarks/tui_speed.py
--history 40`` measures it with a real model). So the chat mounts only the last
``SHOWN_MESSAGES`` messages; the earlier ones wait above behind a line that says how many, and
``SHOWN_MESSAGES`` more are shown when the user scrolls to the top or clicks that line. Once the
chat follows its end and holds more than ``SHOWN_MESSAGES + TRIM_SLACK``, the oldest are taken
off again (between replies, never while one streams). The store holds every message; this is
only what is on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from textual import events
from textual.containers import VerticalScroll
from textual.message import Message

from localchat.history import StoredMessage
from localchat.tui.widgets.message import MessageView
from localchat.tui.widgets.plain import PlainStatic

if TYPE_CHECKING:
    from localchat.tui.host import AppHost

SHOWN_MESSAGES = 24
TRIM_SLACK = 8


class EarlierMessages(PlainStatic):
    """The line above the first message shown: how many come before it. A click shows them."""

    DEFAULT_CSS = """
    EarlierMessages { color: $text-muted; padding: 0 1; margin-bottom: 1; }
    """

    class Show(Message):
        """Show the messages before the first one on screen."""

    def __init__(self, count: int) -> None:
        super().__init__(id="earlier-messages")
        self.set_count(count)

    def set_count(self, count: int) -> None:
        self.count = count
        noun = "message" if count == 1 else "messages"
        self.update(f"▲ {count} earlier {noun}: scroll to the top or click here to show them")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Show())


class WindowedChat(Protocol):
    """What the window uses of the chat screen."""

    app: AppHost
    conversation_id: int | None

    @property
    def log_view(self) -> VerticalScroll: ...
    def message_views(self, role: str | None = None) -> list[MessageView]: ...


def shown_records(stored: Sequence[StoredMessage]) -> list[StoredMessage]:
    return [m for m in stored if m.role in ("user", "assistant")]


def message_view(m: StoredMessage) -> MessageView:
    return MessageView(m.role, m.content, status=m.status, message_id=m.id, model=m.model,
                       stats=m.stats)


class MessageWindow:
    def __init__(self, chat: WindowedChat) -> None:
        self.chat = chat
        self._showing = False  # earlier messages being mounted: the scroll to the top that
        # brought them does not ask again

    def _label(self) -> EarlierMessages | None:
        found = self.chat.log_view.query(EarlierMessages)
        return found.first() if found else None

    async def show(self, stored: Sequence[StoredMessage], *, reveal: int | None = None) -> None:
        """The conversation's last messages (from ``reveal``'s, if it is older), at the end."""
        log = self.chat.log_view
        self._showing = True  # the scrolls of a chat being replaced are not the user's
        await log.remove_children()
        records = shown_records(stored)
        start = max(0, len(records) - SHOWN_MESSAGES)
        ids = [m.id for m in records]
        if reveal in ids:
            start = min(start, ids.index(reveal))
        widgets: list[PlainStatic | MessageView] = [EarlierMessages(start)] if start else []
        widgets += [message_view(m) for m in records[start:]]
        await log.mount_all(widgets)
        log.scroll_end(animate=False)
        log.anchor()
        log.call_after_refresh(self._shown)

    def _shown(self) -> None:
        self._showing = False

    async def show_earlier(self) -> None:
        """``SHOWN_MESSAGES`` more above the first one on screen, the view kept where it was."""
        label, chat = self._label(), self.chat
        views = chat.message_views()
        if label is None or chat.conversation_id is None or not views or self._showing:
            return
        self._showing = True
        try:
            records = shown_records(chat.app.store.get(chat.conversation_id).messages)
            ids = [m.id for m in records]
            first = ids.index(views[0].message_id) if views[0].message_id in ids else 0
            chunk = records[max(0, first - SHOWN_MESSAGES):first]
            log = chat.log_view
            before_height, before_y = log.virtual_size.height, log.scroll_y
            await log.mount_all([message_view(m) for m in chunk], after=label)
            left = first - len(chunk)
            if left:
                label.set_count(left)
            else:
                await label.remove()

            def keep_place() -> None:
                log.scroll_to(y=before_y + log.virtual_size.height - before_height, animate=False)
                self._showing = False

            log.call_after_refresh(keep_place)
        except BaseException:
            self._showing = False
            raise

    def scrolled(self, y: float) -> None:
        """The log scrolled: at the top, with earlier messages waiting, they are shown."""
        if y <= 0 and not self._showing and self._label() is not None:
            self.chat.log_view.run_worker(self.show_earlier(), exclusive=True, group="earlier")

    async def trim(self) -> None:
        """Between replies, while the chat follows its end: the oldest views beyond
        ``SHOWN_MESSAGES`` taken off (with the notices among them) once there are
        ``TRIM_SLACK`` too many."""
        log, views = self.chat.log_view, self.chat.message_views()
        if len(views) <= SHOWN_MESSAGES + TRIM_SLACK or log.scroll_y < log.max_scroll_y - 1:
            return
        keep_from = views[len(views) - SHOWN_MESSAGES]
        label = self._label()
        gone = []
        for child in log.children:
            if child is keep_from:
                break
            if child is not label:
                gone.append(child)
        removed = sum(1 for child in gone if isinstance(child, MessageView))
        await log.remove_children(gone)
        if label is not None:
            label.set_count(label.count + removed)
        else:
            await log.mount(EarlierMessages(removed), before=keep_from)
        log.scroll_end(animate=False)
