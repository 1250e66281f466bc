"""The chat's replies: start one (or wait for the model to load), stream it in the ``generate``
worker, and what the user does to replies: stop, regenerate, continue a cut-off one, copy a reply
or a code block (OSC 52, so it works over SSH and in tmux)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from textual.actions import SkipAction

from localchat.errors import EngineCrashed, LocalChatError
from localchat.tui.convo import last_code_block, sampling_for
from localchat.tui.generation import stats_record, stream_reply
from localchat.tui.modelhost import engine_crash
from localchat.tui.widgets.message import MessageView
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.widgets.statusbar import reply_figures
from localchat.tui.words import crash_words, model_name

if TYPE_CHECKING:
    from textual.containers import VerticalScroll
    from textual.message import Message as TextualMessage
    from textual.notifications import SeverityLevel
    from textual.worker import Worker

    from localchat.engine.types import ChatEngine, Message, Sampling
    from localchat.history import ConversationSettings
    from localchat.tui.host import AppHost
    from localchat.tui.messages import ReplyFinished, ReplyProgress
    from localchat.tui.widgets.prompt import PromptInput
    from localchat.tui.widgets.statusbar import StatusBar
    from localchat.tui.workers import WorkerFailure

CONTINUABLE = ("cut", "stopped")  # stopped at max tokens or a full context, or by Esc


class ReplyView(Protocol):
    """What the replies use of the chat screen."""

    @property
    def app(self) -> AppHost: ...
    @property
    def conversation_id(self) -> int | None: ...
    @property
    def settings(self) -> ConversationSettings: ...
    tps_history: list[float]

    @property
    def status(self) -> StatusBar: ...
    @property
    def log_view(self) -> VerticalScroll: ...
    @property
    def prompt(self) -> PromptInput: ...
    def message_views(self, role: str | None = None) -> list[MessageView]: ...
    def current_messages(self, conversation_id: int) -> list[Message]: ...
    def refresh_sidebar(self) -> None: ...
    async def store_failed(self, exc: LocalChatError, what: str) -> None: ...
    def post_message(self, message: TextualMessage) -> bool: ...
    def run_worker(self, work: Callable[[], None], name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True,
                   exclusive: bool = False, thread: bool = False) -> Worker[None]: ...


class Replies:
    """The reply streaming now (at most one) and the actions on replies. The worker runs on the
    chat screen, which hands its messages (``ReplyProgress``, ``ReplyFinished``) and a failure
    here."""

    def __init__(self, chat: ReplyView) -> None:
        self.chat = chat
        self.generating = False
        self.waiting_for_model = False  # a message was sent while the model loads: answer it then
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._streaming: MessageView | None = None
        self._prompt_blinked = True  # the prompt's cursor blinked before the reply (restored after)

    def notify(self, message: str, *, severity: SeverityLevel = "information",
               timeout: float | None = None) -> None:
        self.chat.app.notify(message, severity=severity, timeout=timeout)

    # ------------------------------------------------------------------ streaming
    async def start(self) -> None:
        """Answer the conversation's last message (once the model has loaded, if it is loading)."""
        app, chat = self.chat.app, self.chat
        engine, conversation_id = app.engine, chat.conversation_id
        if conversation_id is None:  # nothing said yet
            return
        if engine_crash(engine) is not None and not app.loading:
            app.reload_model()  # its process ended: load it again, then answer
            engine = None
        if engine is None:
            if app.loading:
                self.waiting_for_model = True
                chat.status.show_text("waiting for the model to load…")
            else:
                self.notify("No model is loaded, so nothing can answer yet: your message is kept.",
                            severity="warning")
            return
        name = model_name(engine.info)
        try:
            messages = chat.current_messages(conversation_id)
            stored = app.store.begin_reply(conversation_id, name)
        except LocalChatError as exc:
            await chat.store_failed(exc, "start the reply (Ctrl+R tries again)")
            return
        self.generating = True  # before the await: the view is on screen from the mount on
        view = MessageView("assistant", "", status="streaming", message_id=stored.id, model=name)
        await chat.log_view.mount(view)
        self.run(engine, view, messages)

    def run(self, engine: ChatEngine, view: MessageView, messages: list[Message]) -> None:
        """Stream the reply shown in ``view`` (new, or continued in place: its text so far is
        the last message of ``messages``, and the engine extends it)."""
        self.generating = True
        self._cancel = cancel = threading.Event()
        self._done = done = threading.Event()
        self._streaming = view
        self.chat.status.show_text("generating…")
        # each blink repaints the screen, CPU the model could use: a steady cursor meanwhile
        self._prompt_blinked = self.chat.prompt.cursor_blink
        self.chat.prompt.cursor_blink = False
        sampling = sampling_for(self.chat.settings, engine.info)  # the model's recommendation too
        ui_thread_id = threading.get_ident()
        reply_id, prefix = view.message_id, view.content

        def generate() -> None:
            self._generate(engine, reply_id, messages, sampling, cancel, done, ui_thread_id, prefix)

        self.chat.run_worker(generate, name="generate", group="generate", exclusive=True,
                             thread=True, exit_on_error=False)

    def _generate(self, engine: ChatEngine, reply_id: int, messages: Sequence[Message],
                  sampling: Sampling, cancel: threading.Event, done: threading.Event,
                  ui_thread_id: int, prefix: str) -> None:
        """The ``generate`` worker (a thread): it posts messages, never touches a widget."""
        info, stats = engine.info, None
        try:
            stats = stream_reply(engine, self.chat.app.store, reply_id, messages, sampling, cancel,
                                 self.chat.post_message, ui_thread_id=ui_thread_id, prefix=prefix)
        finally:
            done.set()
        if stats is not None:  # after done: a model switch waiting for this reply goes on meanwhile
            self.chat.app.sources.calibration.record_reply_speed(info, stats)

    async def progress(self, event: ReplyProgress) -> None:
        view = self._streaming
        if view is not None and view.message_id == event.reply_id:
            await view.append(event.text[len(view.content):], event.tokens)
            self.chat.status.show_live(event.live_tps)

    async def finished(self, event: ReplyFinished) -> None:
        chat, status = self.chat, self.chat.status
        view, self._streaming = self._streaming, None
        chat.prompt.cursor_blink = self._prompt_blinked
        if view is not None and view.message_id == event.reply_id:
            if event.status == "failed":
                await view.remove()
            else:
                await view.finish(event.text, event.status,
                                  stats_record(event.stats) if event.stats else None)
        stats = event.stats
        if stats is not None:
            status.show_reply(stats)
            if stats.completion_tokens > 1:
                chat.tps_history.append(stats.gen_tps)
                status.set_history(chat.tps_history)
            if stats.dropped_messages:
                await chat.log_view.mount(PlainLabel(
                    f"⚠ {stats.dropped_messages} oldest messages were left out of the model's "
                    f"view to fit its {stats.n_ctx}-token context", classes="context-notice"))
        if event.status == "stopped":
            status.show_text("stopped · " + (reply_figures(stats) if stats else "partial reply kept"))
        elif event.status == "cut":
            # the note under the reply says why and offers Ctrl+E; here, the figures as usual
            status.show_text("cut off · " + (reply_figures(stats) if stats else "Ctrl+E continues"))
        elif event.status == "failed":
            status.show_text("the reply failed: Ctrl+R tries again")
        chat.refresh_sidebar()
        self.generating = False  # last: everything above is on screen once this reads False

    def failed(self, failure: WorkerFailure) -> None:
        """The worker failed: say so (its partial text is already stored as stopped)."""
        if isinstance(failure.error, EngineCrashed):  # the app and the chat go on; the model reloads
            self.chat.status.show_text("the model process ended · Ctrl+R reloads it and regenerates")
            self.notify(f"{crash_words(failure.error)} Press Ctrl+R to reload the model and "
                        "regenerate.", severity="error", timeout=60)
        else:
            self.notify(failure.line("The reply failed"), severity="error", timeout=20)

    async def model_loaded(self) -> None:
        if self.waiting_for_model:
            self.waiting_for_model = False
            await self.start()

    def model_load_failed(self) -> None:
        if self.waiting_for_model:
            self.waiting_for_model = False
            self.notify("Your message is kept: once a model loads, Ctrl+R answers it.")

    def stop_streaming(self) -> threading.Event:
        """Stop a streaming reply (it is stored as stopped); the event is set once it has."""
        if self.generating:
            self._cancel.set()
        return self._done

    # ------------------------------------------------------------------ actions
    def stop(self) -> bool:
        """Esc: stop the streaming reply; False when there is none."""
        if not self.generating:
            return False
        self._cancel.set()
        self.chat.status.show_text("stopping…")
        return True

    def idle(self, what: str) -> bool:
        """No reply is streaming; else a note that ``what`` waits for it."""
        if self.generating:
            self.notify(f"Wait for the reply to end (or press Esc) to {what}.", severity="warning")
            return False
        return True

    async def regenerate(self) -> None:
        if not self.idle("regenerate"):
            return
        views = self.chat.message_views()
        if not views:
            self.notify("There is no reply to regenerate yet.", severity="warning")
            return
        last = views[-1]
        if last.role == "assistant":
            try:
                self.chat.app.store.delete_messages_from(last.message_id)
            except LocalChatError as exc:
                await self.chat.store_failed(exc, "regenerate")
                return
            await last.remove()
        await self.start()  # a last user message without a reply (load failed, crash) gets one

    async def continue_reply(self) -> None:
        """Extend the last reply in place: the engine continues the same assistant message
        (its KV cache reused), and the new text joins the same stored message and view."""
        if not self.idle("continue"):
            return
        chat = self.chat
        views = chat.message_views()
        last = views[-1] if views else None
        if last is None or last.role != "assistant" or last.status not in CONTINUABLE or not last.content:
            if chat.prompt.has_focus and chat.prompt.text:
                raise SkipAction  # nothing to continue: Ctrl+E is the prompt's "end of line"
            self.notify("Only a reply that was cut off (or stopped) can be continued.",
                        severity="warning")
            return
        engine, conversation_id = chat.app.engine, chat.conversation_id
        if engine is None or conversation_id is None:
            self.notify("No model is loaded, so nothing can continue the reply yet.",
                        severity="warning")
            return
        try:
            messages = chat.current_messages(conversation_id)
            chat.app.store.reopen_reply(last.message_id)
        except LocalChatError as exc:
            await chat.store_failed(exc, "continue the reply")
            return
        last.begin_continue()
        self.run(engine, last, messages)

    def copy_reply(self) -> None:
        replies = self.chat.message_views("assistant")
        if not replies or not replies[-1].content:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        text = replies[-1].content
        self.chat.app.copy_to_clipboard(text)
        self.notify(f"Copied the last reply ({len(text)} characters) to the clipboard.")

    def copy_code(self) -> None:
        for view in reversed(self.chat.message_views("assistant")):
            code = last_code_block(view.content)
            if code is not None:
                self.chat.app.copy_to_clipboard(code)
                lines = code.count("\n") + 1
                self.notify(f"Copied a code block ({lines} line{'s' if lines != 1 else ''}) "
                            "to the clipboard.")
                return
        self.notify("No reply has a code block to copy.", severity="warning")
