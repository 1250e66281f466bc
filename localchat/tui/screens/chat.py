"""The chat screen: the conversation, the prompt, the status bar, and the reply worker.

Conversation management (sidebar, rename, delete, export, settings) lives in
``ConversationActions`` (screens/conversation.py); this module is the chat itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from localchat.engine.fit import tokens_in_context
from localchat.engine.types import Message, Sampling
from localchat.errors import EngineCrashed, LocalChatError
from localchat.history import ConversationSettings, StoredMessage
from localchat.tui.convo import engine_messages, sampling_for
from localchat.tui.generation import stats_record, stream_reply
from localchat.tui.messages import (
    ModelLoaded,
    ModelLoadFailed,
    ModelLoading,
    ReplyFinished,
    ReplyProgress,
)
from localchat.tui.modelhost import crash_words, engine_crash, error_text, model_label, model_name
from localchat.tui.screens.replies import ReplyActions
from localchat.tui.widgets.message import MessageView
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.widgets.prompt import PromptInput
from localchat.tui.widgets.sidebar import Sidebar
from localchat.tui.widgets.statusbar import StatusBar, reply_figures

if TYPE_CHECKING:
    from localchat.engine.types import ChatEngine
    from localchat.tui.app import LocalChatApp


class ChatScreen(ReplyActions):
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

    app: LocalChatApp

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self.chat_title = "New chat"
        self.settings = ConversationSettings()  # set on mount: the chat's own, or the defaults
        self.generating = False
        self.tps_history: list[float] = []
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._reply: MessageView | None = None
        self._waiting_for_model = False
        self._editing_id: int | None = None

    @property
    def engine(self) -> ChatEngine | None:
        return self.app.engine

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
        recent = self.app.store.list(limit=1)
        if recent:
            await self.open_conversation(recent[0].id)
        else:
            await self.start_new_chat()
        self.query_one(PromptInput).focus()
        # the model may have loaded (or started loading) before this screen was shown
        if self.engine is not None:
            self.show_model()
        elif self.app.loading and self.app.model_path:
            self.status.show_loading(model_label(self.app.model_path))

    async def on_unmount(self) -> None:
        await asyncio.to_thread(self.stop_reply().wait, 30)

    def stop_reply(self) -> threading.Event:
        """Stop a streaming reply (it is stored as stopped); the event is set once it has."""
        if self.generating:
            self._cancel.set()
        return self._done

    @property
    def log_view(self) -> VerticalScroll:
        return self.query_one("#chat-log", VerticalScroll)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def message_views(self, role: str | None = None) -> list[MessageView]:
        return [v for v in self.log_view.query(MessageView) if role is None or v.role == role]

    def set_title(self, title: str) -> None:
        self.chat_title = title
        self.query_one("#chat-title", PlainLabel).update(title)

    async def show_messages(self, stored: Sequence[StoredMessage]) -> None:
        log = self.log_view
        await log.remove_children()
        views = [
            MessageView(m.role, m.content, status=m.status, message_id=m.id, model=m.model,
                        stats=m.stats)
            for m in stored
            if m.role in ("user", "assistant")
        ]
        await log.mount_all(views)
        log.scroll_end(animate=False)
        log.anchor()

    # ------------------------------------------------------------------ model
    @on(ModelLoading)
    def _model_loading(self, event: ModelLoading) -> None:
        self.status.show_loading(model_label(event.path))

    @on(ModelLoaded)
    async def _model_loaded(self, event: ModelLoaded) -> None:
        self.show_model()
        if self._waiting_for_model:
            self._waiting_for_model = False
            await self.start_reply()

    @on(ModelLoadFailed)
    def _model_load_failed(self, event: ModelLoadFailed) -> None:
        self.status.show_text("the model did not load")
        if self._waiting_for_model:
            self._waiting_for_model = False
            self.notify("Your message is kept: once a model loads, Ctrl+R answers it.")

    def show_model(self) -> None:
        if self.engine is None:
            return
        info = self.engine.info
        self.status.show_model(info)
        self.status.show_text("ready")
        self.query_one("#header-model", PlainLabel).update(f"{model_name(info)} · {info.quant}")
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
        if self.generating or self._waiting_for_model:
            busy = "A reply is still coming: wait for it, or press Esc to stop it."
            if self._waiting_for_model:
                busy = "The model is still loading; your last message is answered first."
            self.notify(busy, severity="warning")  # the text stays in the prompt
            return
        text = event.text.strip("\n")
        try:  # written first...
            stored = await self.store_user_message(text)
        except LocalChatError as exc:  # ...so a failed write keeps the text in the prompt
            self.notify(f"Not sent: {exc}. Your text is still in the prompt: Enter tries again.",
                        severity="error", timeout=20)
            return
        event.prompt.clear()  # ...then cleared and shown
        await self.log_view.mount(MessageView("user", text, message_id=stored.id))
        self.log_view.scroll_end(animate=False)
        self.log_view.anchor()
        self.refresh_sidebar()
        await self.start_reply()

    async def remove_views_from(self, message_id: int) -> None:
        views = self.message_views()
        ids = [v.message_id for v in views]
        if message_id in ids:
            for view in views[ids.index(message_id):]:
                await view.remove()

    def current_messages(self, conversation_id: int) -> list[Message]:
        conversation = self.app.store.get(conversation_id)
        return engine_messages(self.settings.system_prompt, conversation.messages)

    async def start_reply(self) -> None:
        engine, conversation_id = self.engine, self.conversation_id
        if conversation_id is None:  # nothing said yet
            return
        if engine_crash(engine) is not None and not self.app.loading:
            self.app.reload_model()  # its process ended: load it again, then answer
            engine = None
        if engine is None:
            if self.app.loading:
                self._waiting_for_model = True
                self.status.show_text("waiting for the model to load…")
            else:
                self.notify("No model is loaded, so nothing can answer yet: your message is kept.",
                            severity="warning")
            return
        name = model_name(engine.info)
        try:
            messages = self.current_messages(conversation_id)
            stored = self.app.store.begin_reply(conversation_id, name)
        except LocalChatError as exc:
            await self.store_failed(exc, "start the reply (Ctrl+R tries again)")
            return
        self.generating = True  # before the await: the view is on screen from the mount on
        view = MessageView("assistant", "", status="streaming", message_id=stored.id, model=name)
        await self.log_view.mount(view)
        self.run_reply(engine, view, messages)

    def run_reply(self, engine: ChatEngine, view: MessageView, messages: list[Message]) -> None:
        """Stream the reply shown in ``view`` (new, or continued in place: its text so far is
        the last message of ``messages``, and the engine extends it)."""
        self.generating = True
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._reply = view
        self.status.show_text("generating…")
        self.generate(engine, view.message_id, messages, sampling_for(self.settings), self._cancel,
                      self._done, threading.get_ident(), view.content)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def generate(
        self, engine: ChatEngine, reply_id: int, messages: list[Message], sampling: Sampling,
        cancel: threading.Event, done: threading.Event, ui_thread_id: int, prefix: str = "",
    ) -> None:
        info, stats = engine.info, None
        try:
            stats = stream_reply(engine, self.app.store, reply_id, messages, sampling, cancel,
                                 self.post_message, ui_thread_id=ui_thread_id, prefix=prefix)
        finally:
            done.set()
        if stats is not None:  # after done: a model switch waiting for this reply goes on meanwhile
            from localchat.recommend.calibration import record_reply_speed

            record_reply_speed(info, stats)

    @on(ReplyProgress)
    async def _reply_progress(self, event: ReplyProgress) -> None:
        view = self._reply
        if view is not None and view.message_id == event.reply_id:
            await view.append(event.text[len(view.content):], event.tokens)
            self.status.show_live(event.live_tps)

    @on(ReplyFinished)
    async def _reply_finished(self, event: ReplyFinished) -> None:
        view, self._reply = self._reply, None
        if view is not None and view.message_id == event.reply_id:
            if event.status == "failed":
                await view.remove()
            else:
                await view.finish(event.text, event.status,
                                  stats_record(event.stats) if event.stats else None)
        stats = event.stats
        if stats is not None:
            self.status.show_reply(stats)
            if stats.completion_tokens > 1:
                self.tps_history.append(stats.gen_tps)
                self.status.set_history(self.tps_history)
            if stats.dropped_messages:
                await self.log_view.mount(PlainLabel(
                    f"⚠ {stats.dropped_messages} oldest messages were left out of the model's "
                    f"view to fit its {stats.n_ctx}-token context", classes="context-notice"))
        if event.status == "stopped":
            self.status.show_text("stopped · " + (reply_figures(stats) if stats else "partial reply kept"))
        elif event.status == "cut":
            # the note under the reply says why and offers Ctrl+E; here, the figures as usual
            self.status.show_text("cut off · " + (reply_figures(stats) if stats else "Ctrl+E continues"))
        elif event.status == "failed":
            self.status.show_text("the reply failed: Ctrl+R tries again")
        self.refresh_sidebar()
        self.generating = False  # last: everything above is on screen once this reads False

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A failed reply becomes a message (its partial text is already stored as stopped)."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, EngineCrashed):  # the app and the chat go on; the model reloads
            self.status.show_text("the model process ended · Ctrl+R reloads it and regenerates")
            self.notify(f"{crash_words(error)} Press Ctrl+R to reload the model and regenerate.",
                        severity="error", timeout=60)
        else:
            self.notify(f"The reply failed: {error_text(error)}", severity="error", timeout=20)
