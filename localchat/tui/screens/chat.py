"""The chat screen: the conversation shown, the prompt, the status bar and the model's state.

What the user does to it is split by concern into two plain classes the screen owns, each seeing
the screen through a Protocol of what it uses: ``Replies`` (screens/replies.py: a reply streamed
in the ``generate`` worker, stop, regenerate, continue, copy) and ``Conversations``
(screens/conversation.py: what the user types stored, chats opened, started, renamed, deleted,
exported, their settings, the sidebar). The screen lays out the widgets, shows the model and the
conversation, sends, and hands keys and messages to the one that acts on them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from localchat.engine.fit import tokens_in_context
from localchat.errors import LocalChatError
from localchat.history import ConversationSettings, StoredMessage
from localchat.tui.convo import engine_messages, sampling_for
from localchat.tui.messages import (
    ModelLoaded,
    ModelLoadFailed,
    ModelLoading,
    ReplyFinished,
    ReplyProgress,
)
from localchat.tui.screens.conversation import Conversations
from localchat.tui.screens.replies import Replies
from localchat.tui.screens.window import EarlierMessages, MessageWindow
from localchat.tui.widgets.message import MessageView
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.widgets.prompt import PromptInput
from localchat.tui.widgets.sidebar import Sidebar
from localchat.tui.widgets.statusbar import StatusBar
from localchat.tui.words import model_label, model_name, model_where
from localchat.tui.workers import worker_failure

if TYPE_CHECKING:
    from localchat.engine.types import ChatEngine, Message
    from localchat.tui.host import AppHost


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "stop", "Stop reply"),
        Binding("ctrl+r", "regenerate", "Regenerate"),
        # priority: the prompt (a TextArea) binds Ctrl+E to "end of line", which it still gets
        # while there is no cut-off reply to continue (the action skips)
        Binding("ctrl+e", "continue_reply", "Continue reply", show=False, priority=True),
        Binding("ctrl+l", "edit_last", "Edit last message", show=False),
        Binding("ctrl+o", "copy_reply", "Copy reply", show=False),
        Binding("ctrl+g", "copy_code", "Copy code block", show=False),
        Binding("ctrl+b", "toggle_sidebar", "Chats"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+f", "search", "Search chats", show=False),
        Binding("f2", "rename", "Rename chat", show=False),
        Binding("f3", "settings", "Chat settings"),
        Binding("f5", "export('markdown')", "Export to Markdown", show=False),
        # priority: the prompt (a TextArea) binds F6 to "select line"
        Binding("f6", "export('json')", "Export to JSON", show=False, priority=True),
        Binding("f8", "delete_chat", "Delete chat", show=False),
    ]

    app: AppHost

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self.chat_title = "New chat"
        self.settings = ConversationSettings()  # set on mount: the chat's own, or the defaults
        self.tps_history: list[float] = []  # tokens/s of this chat's replies (the sparkline)
        self.replies = Replies(self)
        self.window = MessageWindow(self)  # how much of the conversation is mounted
        self.conversations = Conversations(self, self.replies)

    @property
    def engine(self) -> ChatEngine | None:
        return self.app.engine

    @property
    def generating(self) -> bool:
        """A reply is streaming."""
        return self.replies.generating

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="header"):
            yield PlainLabel("localchat", id="app-name")
            yield PlainLabel(self.chat_title, id="chat-title")
            yield PlainLabel("", id="header-model")
        with Horizontal(id="body"):
            yield Sidebar(self.app.store, id="sidebar", classes="hidden")
            with Vertical(id="main"):
                yield VerticalScroll(id="chat-log")
                yield PromptInput(id="prompt")
        yield StatusBar(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        self.log_view.anchor()
        self.watch(self.log_view, "scroll_y", self.window.scrolled, init=False)
        recent = self.app.store.list(limit=1)
        if recent:
            await self.open_conversation(recent[0].id)
        else:
            await self.conversations.start_new()
        self.prompt.focus()
        # the model may have loaded (or started loading) before this screen was shown
        if self.engine is not None:
            self.show_model()
        elif self.app.loading and self.app.model_path:
            self.status.show_loading(model_label(self.app.model_path))

    async def on_unmount(self) -> None:
        await asyncio.to_thread(self.stop_reply().wait, 30)

    def stop_reply(self) -> threading.Event:
        """Stop a streaming reply (it is stored as stopped); the event is set once it has
        (``app.switch_model`` waits for it before it closes the engine)."""
        return self.replies.stop_streaming()

    async def open_conversation(self, conversation_id: int) -> None:
        await self.conversations.open(conversation_id)

    @property
    def log_view(self) -> VerticalScroll:
        return self.query_one("#chat-log", VerticalScroll)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    def message_views(self, role: str | None = None) -> list[MessageView]:
        return [v for v in self.log_view.query(MessageView) if role is None or v.role == role]

    def set_title(self, title: str) -> None:
        self.chat_title = title
        self.query_one("#chat-title", PlainLabel).update(title)

    async def show_messages(self, stored: Sequence[StoredMessage], *, reveal: int | None = None) -> None:
        """The conversation's last messages (screens/window.py), from ``reveal``'s if older."""
        await self.window.show(stored, reveal=reveal)

    @on(EarlierMessages.Show)
    async def _show_earlier(self) -> None:
        await self.window.show_earlier()

    async def remove_views_from(self, message_id: int) -> None:
        views = self.message_views()
        ids = [v.message_id for v in views]
        if message_id in ids:
            for view in views[ids.index(message_id):]:
                await view.remove()

    def refresh_sidebar(self) -> None:
        self.sidebar.show_current(self.conversation_id)

    def current_messages(self, conversation_id: int) -> list[Message]:
        """What the model is sent of the conversation: the system prompt and the turns so far."""
        conversation = self.app.store.get(conversation_id)
        return engine_messages(self.settings.system_prompt, conversation.messages)

    async def store_failed(self, exc: LocalChatError, what: str) -> None:
        await self.conversations.store_failed(exc, what)

    # ------------------------------------------------------------------ model
    @on(ModelLoading)
    def _model_loading(self, event: ModelLoading) -> None:
        self.status.show_loading(model_label(event.path))

    @on(ModelLoaded)
    async def _model_loaded(self, event: ModelLoaded) -> None:
        self.show_model()
        await self.replies.model_loaded()

    @on(ModelLoadFailed)
    def _model_load_failed(self, event: ModelLoadFailed) -> None:
        self.status.show_text("the model did not load")
        self.replies.model_load_failed()

    def show_model(self) -> None:
        if self.engine is None:
            return
        info = self.engine.info
        self.status.show_model(info)
        self.status.show_text("ready")
        self.query_one("#header-model", PlainLabel).update(f"{model_name(info)} · {model_where(info)}")
        self.show_context_use()

    def show_context_use(self) -> None:
        if self.engine is None or self.conversation_id is None:
            return
        n_ctx = self.engine.info.n_ctx
        try:
            # what the next prompt holds: older turns that no longer fit are left out of it
            used = tokens_in_context(self.current_messages(self.conversation_id), self.engine.count_tokens,
                                     n_ctx, sampling_for(self.settings).max_tokens)
        except LocalChatError:
            return
        self.status.show_context(used, n_ctx)

    # ------------------------------------------------------------------ sending
    @on(PromptInput.Submitted)
    async def _send(self, event: PromptInput.Submitted) -> None:
        if self.replies.generating or self.replies.waiting_for_model:
            busy = "A reply is still coming: wait for it, or press Esc to stop it."
            if self.replies.waiting_for_model:
                busy = "The model is still loading; your last message is answered first."
            self.notify(busy, severity="warning")  # the text stays in the prompt
            return
        text = event.text.strip("\n")
        try:  # written first...
            stored = await self.conversations.store_user_message(text)
        except LocalChatError as exc:  # ...so a failed write keeps the text in the prompt
            self.notify(f"Not sent: {exc}. Your text is still in the prompt: Enter tries again.",
                        severity="error", timeout=20)
            return
        event.prompt.clear()  # ...then cleared and shown
        await self.log_view.mount(MessageView("user", text, message_id=stored.id))
        self.log_view.scroll_end(animate=False)
        self.log_view.anchor()
        self.refresh_sidebar()
        await self.replies.start()

    # ------------------------------------------------------------------ the reply worker
    @on(ReplyProgress)
    async def _reply_progress(self, event: ReplyProgress) -> None:
        await self.replies.progress(event)

    @on(ReplyFinished)
    async def _reply_finished(self, event: ReplyFinished) -> None:
        await self.replies.finished(event)
        await self.window.trim()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if failure := worker_failure(event):  # the generate worker is the screen's only one
            self.replies.failed(failure)

    # ------------------------------------------------------------------ keys
    def action_stop(self) -> None:
        """Esc: stop the streaming reply, or else cancel editing the last message."""
        if not self.replies.stop():
            self.conversations.cancel_edit()

    async def action_regenerate(self) -> None:
        await self.replies.regenerate()

    async def action_continue_reply(self) -> None:
        await self.replies.continue_reply()

    def action_edit_last(self) -> None:
        self.conversations.edit_last()

    def action_copy_reply(self) -> None:
        self.replies.copy_reply()

    def action_copy_code(self) -> None:
        self.replies.copy_code()

    def action_toggle_sidebar(self) -> None:
        if not self.sidebar.toggle():
            self.prompt.focus()

    def action_search(self) -> None:
        self.sidebar.show_search()

    async def action_new_chat(self) -> None:
        await self.conversations.new_chat()

    def action_rename(self) -> None:
        self.conversations.rename()

    def action_delete_chat(self) -> None:
        self.conversations.delete()

    async def action_export(self, kind: str) -> None:
        await self.conversations.export(kind)

    def action_settings(self) -> None:
        self.conversations.edit_settings()

    async def on_sidebar_chosen(self, event: Sidebar.Chosen) -> None:
        await self.conversations.chosen(event.conversation_id, event.message_id)
