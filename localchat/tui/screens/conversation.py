"""The chat's conversations as wholes: store what the user types (or edits), open one, start a
new one, rename, delete, export, its settings, and the sidebar that lists them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from localchat.config import save_config
from localchat.errors import LocalChatError
from localchat.history import title_from_first_message
from localchat.presets import all_presets
from localchat.safetext import for_terminal
from localchat.tui.convo import chosen_sampling, export_path, new_chat_settings
from localchat.tui.screens.dialogs import ConfirmScreen, TextPromptScreen
from localchat.tui.screens.settings import SavedSettings, SettingsScreen

if TYPE_CHECKING:
    from textual.containers import VerticalScroll
    from textual.notifications import SeverityLevel

    from localchat.engine.types import ChatEngine
    from localchat.history import ConversationSettings, StoredMessage
    from localchat.tui.host import AppHost
    from localchat.tui.widgets.message import MessageView
    from localchat.tui.widgets.prompt import PromptInput
    from localchat.tui.widgets.sidebar import Sidebar
    from localchat.tui.widgets.statusbar import StatusBar


class ConversationView(Protocol):
    """What the conversation actions use of the chat screen."""

    conversation_id: int | None
    settings: ConversationSettings
    tps_history: list[float]

    @property
    def app(self) -> AppHost: ...
    @property
    def engine(self) -> ChatEngine | None: ...
    @property
    def chat_title(self) -> str: ...
    @property
    def status(self) -> StatusBar: ...
    @property
    def log_view(self) -> VerticalScroll: ...
    @property
    def prompt(self) -> PromptInput: ...
    @property
    def sidebar(self) -> Sidebar: ...
    def set_title(self, title: str) -> None: ...
    async def show_messages(self, stored: Sequence[StoredMessage], *,
                            reveal: int | None = None) -> None: ...
    def show_context_use(self) -> None: ...
    def message_views(self, role: str | None = None) -> list[MessageView]: ...
    async def remove_views_from(self, message_id: int) -> None: ...
    def refresh_sidebar(self) -> None: ...


class ReplyState(Protocol):
    """What the conversation actions need to know of the replies (screens/replies.py)."""

    waiting_for_model: bool

    def idle(self, what: str) -> bool: ...


class Conversations:
    """The conversation actions, and the message being edited (Ctrl+L) until it is sent again."""

    def __init__(self, chat: ConversationView, replies: ReplyState) -> None:
        self.chat = chat
        self.replies = replies
        self.editing_id: int | None = None

    def notify(self, message: str, *, severity: SeverityLevel = "information",
               timeout: float | None = None) -> None:
        self.chat.app.notify(message, severity=severity, timeout=timeout)

    # ------------------------------------------------------------------ writing
    async def store_user_message(self, text: str) -> StoredMessage:
        """Store a message the user typed (in a new conversation if there is none yet, in place
        of the message being edited and what followed it) as one transaction, and only then
        change what the screen shows. A chat deleted in another window is replaced by a new one,
        which this message starts. Raises ``LocalChatError`` with nothing stored or changed."""
        chat, store = self.chat, self.chat.app.store
        if chat.conversation_id is not None and not store.exists(chat.conversation_id):
            await self._deleted_elsewhere()
            self.notify("This chat was deleted in another window: your message starts a new chat.",
                        severity="warning", timeout=20)
        editing = self.editing_id
        with store.transaction():
            created = None
            if chat.conversation_id is None:
                created = store.create(title=title_from_first_message(text), settings=chat.settings)
            if editing is not None:
                store.delete_messages_from(editing)
            conversation_id = created.id if created is not None else chat.conversation_id
            assert conversation_id is not None
            stored = store.add_message(conversation_id, "user", text)
        if created is not None:
            chat.conversation_id = created.id
            chat.set_title(created.title)
        if editing is not None:
            self.editing_id = None
            await chat.remove_views_from(editing)
        return stored

    async def store_failed(self, exc: LocalChatError, what: str) -> None:
        """The one answer to a write or read that failed during a user action: a chat deleted
        in another window gives way to a new one; anything else is said in one line. Whatever
        is typed in the prompt stays there."""
        conversation_id = self.chat.conversation_id
        try:
            gone = conversation_id is not None and not self.chat.app.store.exists(conversation_id)
        except LocalChatError:
            gone = False
        if gone:
            await self._deleted_elsewhere()
            self.notify(f"This chat was deleted in another window, so could not {what}; "
                        "a new chat is open.", severity="warning", timeout=20)
        else:
            self.notify(f"Could not {what}: {exc}", severity="error", timeout=20)

    async def _deleted_elsewhere(self) -> None:
        settings = self.chat.settings  # a new chat with the deleted one's settings; the prompt keeps its text
        await self.start_new()
        self.chat.settings = settings
        self.chat.refresh_sidebar()

    def edit_last(self) -> None:
        """Put the last message the user sent back in the prompt; sending replaces it."""
        if not self.replies.idle("edit"):
            return
        users = self.chat.message_views("user")
        if not users:
            self.notify("There is no message to edit yet.", severity="warning")
            return
        self.editing_id = users[-1].message_id
        prompt = self.chat.prompt
        prompt.text = for_terminal(users[-1].content)
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.notify("Editing your last message: Enter sends it again and replaces what followed; "
                    "Esc cancels.")

    def cancel_edit(self) -> None:
        if self.editing_id is not None:
            self.editing_id = None
            self.chat.prompt.clear()
            self.notify("Edit cancelled.")

    # ------------------------------------------------------------------ opening
    async def open(self, conversation_id: int, *, reveal: int | None = None) -> None:
        """``reveal``: a message shown even when it is older than the messages shown at first."""
        chat = self.chat
        conversation = chat.app.store.get(conversation_id)
        chat.conversation_id = conversation.id
        chat.settings = conversation.settings
        self.editing_id = None
        self.replies.waiting_for_model = False  # a message kept waiting is answered by Ctrl+R later
        chat.set_title(conversation.title)
        await chat.show_messages(conversation.messages, reveal=reveal)
        chat.tps_history = [
            float(m.stats["gen_tps"]) for m in conversation.messages
            if m.role == "assistant" and m.stats and m.stats.get("completion_tokens", 0) > 1
        ]
        chat.status.set_history(chat.tps_history)
        chat.show_context_use()
        chat.sidebar.current_id = conversation.id

    async def start_new(self) -> None:
        chat = self.chat
        chat.conversation_id = None
        chat.settings = new_chat_settings(chat.app.config.chat)
        self.editing_id = None
        self.replies.waiting_for_model = False
        chat.tps_history = []
        chat.status.set_history([])
        chat.set_title("New chat")
        await chat.show_messages([])
        if chat.engine is not None:
            chat.status.show_context(0, chat.engine.info.n_ctx)
        chat.sidebar.current_id = None

    async def chosen(self, conversation_id: int, message_id: int | None) -> None:
        """A chat (or a search hit in one) chosen in the sidebar."""
        if not self.replies.idle("open another chat"):
            return
        try:
            await self.open(conversation_id, reveal=message_id)
        except LocalChatError as exc:
            self.notify(str(exc), severity="error")
            return
        log = self.chat.log_view
        hit = next((v for v in self.chat.message_views() if v.message_id == message_id), None)
        if hit is not None:  # a search hit: show the message that matched
            log.anchor(False)
            log.scroll_to_widget(hit, animate=False, top=True)
        self.chat.prompt.focus()

    async def new_chat(self) -> None:
        if self.replies.idle("start a new chat"):
            await self.start_new()
            self.chat.refresh_sidebar()
            self.chat.prompt.focus()

    # ------------------------------------------------------------------ the stored chat
    def _stored(self, what: str) -> int | None:
        """The conversation's id, or None (with a note) when nothing is stored yet."""
        if self.chat.conversation_id is None:
            self.notify(f"Nothing to {what} yet: send a message first.", severity="warning")
        return self.chat.conversation_id

    def rename(self) -> None:
        chat = self.chat
        if (conversation_id := self._stored("rename")) is None:
            return

        async def renamed(title: str | None) -> None:
            if not title:
                return
            try:  # written first; on failure the dialog comes back with the typed title
                chat.app.store.rename(conversation_id, title)
            except LocalChatError as exc:
                await self.store_failed(exc, "rename it")
                if chat.conversation_id == conversation_id:
                    chat.app.push_screen(TextPromptScreen("Rename this chat", title), renamed)
                return
            chat.set_title(title)
            chat.refresh_sidebar()

        chat.app.push_screen(TextPromptScreen("Rename this chat", chat.chat_title), renamed)

    def delete(self) -> None:
        chat = self.chat
        if (conversation_id := self._stored("delete")) is None or not self.replies.idle("delete it"):
            return

        async def confirmed(yes: bool | None) -> None:
            if yes:
                try:
                    chat.app.store.delete(conversation_id)
                except LocalChatError as exc:
                    await self.store_failed(exc, "delete it")
                    return
                self.notify(f"Deleted “{chat.chat_title}”.")
                await self.start_new()
                chat.refresh_sidebar()

        chat.app.push_screen(ConfirmScreen(f"Delete “{chat.chat_title}” and all its messages?"),
                             confirmed)

    async def export(self, kind: str) -> None:
        if (conversation_id := self._stored("export")) is None:
            return
        store = self.chat.app.store
        try:
            if kind == "json":
                text, suffix = store.export_json(conversation_id), "json"
            else:
                text, suffix = store.export_markdown(conversation_id), "md"
        except LocalChatError as exc:
            await self.store_failed(exc, "export it")
            return
        target = export_path(self.chat.chat_title, conversation_id, suffix)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not write {target}: {exc.strerror}", severity="error")
            return
        self.notify(f"Exported this chat to {target}")

    def edit_settings(self) -> None:
        chat, app = self.chat, self.chat.app

        async def saved(result: SavedSettings | None) -> None:
            if result is None:
                return
            settings = result.settings
            conversation_id = chat.conversation_id
            if conversation_id is not None:
                try:  # written first; on failure the dialog comes back with what was typed
                    app.store.update_settings(conversation_id, settings)
                except LocalChatError as exc:
                    await self.store_failed(exc, "save the settings")
                    if chat.conversation_id == conversation_id:
                        app.push_screen(dialog(settings), saved)
                    return
            chat.settings = settings
            if not result.as_default:
                self.notify("Settings saved for this chat.")
                return
            config = dataclasses.replace(app.config, chat=settings.as_defaults(), notice="")
            try:  # only the keys that changed are written; comments and the rest stay
                path = save_config(config)
            except (OSError, LocalChatError) as exc:
                self.notify(f"Saved for this chat, but not as the default: {exc}",
                            severity="warning", timeout=20)
                return
            app.config = config
            self.notify(f"Settings saved for this chat and as the default for new chats ({path}).")

        def dialog(settings: ConversationSettings) -> SettingsScreen:
            info = chat.engine.info if chat.engine is not None else None
            switch = info is not None and info.thinking == "switchable"  # where the template has one
            return SettingsScreen(settings, chat.chat_title, thinking_switch=switch,
                                  presets=all_presets(app.config.presets),
                                  sampling=chosen_sampling(settings, info))

        app.push_screen(dialog(chat.settings), saved)
