"""Conversation management for the chat screen: open, new, rename, delete, export, settings
and the sidebar. A base class so chat.py stays about the chat itself."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.widgets import OptionList

from localchat import paths
from localchat.config import save_config
from localchat.errors import LocalChatError
from localchat.history import title_from_first_message
from localchat.tui.convo import new_chat_settings
from localchat.tui.screens.dialogs import ConfirmScreen, TextPromptScreen
from localchat.tui.screens.settings import SavedSettings, SettingsScreen
from localchat.tui.widgets.prompt import PromptInput
from localchat.tui.widgets.sidebar import Sidebar

if TYPE_CHECKING:
    from textual.containers import VerticalScroll

    from localchat.engine.types import ChatEngine
    from localchat.history import ConversationSettings, StoredMessage
    from localchat.tui.app import LocalChatApp
    from localchat.tui.widgets.message import MessageView
    from localchat.tui.widgets.statusbar import StatusBar


def export_path(title: str, conversation_id: int, suffix: str, folder: Path | None = None) -> Path:
    """``localchat-<title-slug>-<id>.<suffix>`` in the current directory, or in the data
    directory when the current one cannot be written."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "chat"
    name = f"localchat-{slug}-{conversation_id}.{suffix}"
    if folder is not None:
        return folder / name
    cwd = Path.cwd()
    try:
        probe = cwd / f".{name}.probe"
        probe.touch()
        probe.unlink()
        return cwd / name
    except OSError:
        target = paths.data_dir() / "exports"
        target.mkdir(parents=True, exist_ok=True)
        return target / name


class ConversationActions(Screen[None]):
    """The chat screen's base: everything about conversations as wholes."""

    if TYPE_CHECKING:  # provided by ChatScreen
        app: LocalChatApp
        conversation_id: int | None
        chat_title: str
        settings: ConversationSettings
        tps_history: list[float]
        _editing_id: int | None
        _waiting_for_model: bool

        @property
        def engine(self) -> ChatEngine | None: ...
        @property
        def status(self) -> StatusBar: ...
        @property
        def log_view(self) -> VerticalScroll: ...
        async def show_messages(self, stored: Sequence[StoredMessage]) -> None: ...
        def set_title(self, title: str) -> None: ...
        def show_context_use(self) -> None: ...
        def message_views(self, role: str | None = None) -> list[MessageView]: ...
        def _idle(self, what: str) -> bool: ...
        async def remove_views_from(self, message_id: int) -> None: ...

    # ------------------------------------------------------------------ writing
    async def store_user_message(self, text: str) -> StoredMessage:
        """Store a message the user typed (in a new conversation if there is none yet, in place
        of the message being edited and what followed it) as one transaction, and only then
        change what the screen shows. A chat deleted in another window is replaced by a new one,
        which this message starts. Raises ``LocalChatError`` with nothing stored or changed."""
        store = self.app.store
        if self.conversation_id is not None and not store.exists(self.conversation_id):
            await self.chat_deleted_elsewhere()
            self.notify("This chat was deleted in another window: your message starts a new chat.",
                        severity="warning", timeout=20)
        editing = self._editing_id
        with store.transaction():
            created = None
            if self.conversation_id is None:
                created = store.create(title=title_from_first_message(text), settings=self.settings)
            if editing is not None:
                store.delete_messages_from(editing)
            conversation_id = created.id if created is not None else self.conversation_id
            assert conversation_id is not None
            stored = store.add_message(conversation_id, "user", text)
        if created is not None:
            self.conversation_id = created.id
            self.set_title(created.title)
        if editing is not None:
            self._editing_id = None
            await self.remove_views_from(editing)
        return stored

    async def store_failed(self, exc: LocalChatError, what: str) -> None:
        """The one answer to a write or read that failed during a user action: a chat deleted
        in another window gives way to a new one; anything else is said in one line. Whatever
        is typed in the prompt stays there."""
        try:
            gone = self.conversation_id is not None and not self.app.store.exists(self.conversation_id)
        except LocalChatError:
            gone = False
        if gone:
            await self.chat_deleted_elsewhere()
            self.notify(f"This chat was deleted in another window, so could not {what}; "
                        "a new chat is open.", severity="warning", timeout=20)
        else:
            self.notify(f"Could not {what}: {exc}", severity="error", timeout=20)

    async def chat_deleted_elsewhere(self) -> None:
        settings = self.settings  # a new chat with the deleted one's settings; the prompt keeps its text
        await self.start_new_chat()
        self.settings = settings
        self.refresh_sidebar()

    # ------------------------------------------------------------------ opening
    async def open_conversation(self, conversation_id: int) -> None:
        conversation = self.app.store.get(conversation_id)
        self.conversation_id = conversation.id
        self.settings = conversation.settings
        self._editing_id = None
        self._waiting_for_model = False  # a message kept waiting is answered by Ctrl+R later
        self.set_title(conversation.title)
        await self.show_messages(conversation.messages)
        self.tps_history = [
            float(m.stats["gen_tps"]) for m in conversation.messages
            if m.role == "assistant" and m.stats and m.stats.get("completion_tokens", 0) > 1
        ]
        self.status.set_history(self.tps_history)
        self.show_context_use()
        self.sidebar.current_id = conversation.id

    async def start_new_chat(self) -> None:
        self.conversation_id = None
        self.settings = new_chat_settings(self.app.config.chat)
        self._editing_id = None
        self._waiting_for_model = False
        self.tps_history = []
        self.status.set_history([])
        self.set_title("New chat")
        await self.show_messages([])
        if self.engine is not None:
            self.status.show_context(0, self.engine.info.n_ctx)
        self.sidebar.current_id = None

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    def refresh_sidebar(self) -> None:
        self.sidebar.current_id = self.conversation_id
        if not self.sidebar.has_class("hidden"):
            self.sidebar.reload()

    async def on_sidebar_chosen(self, event: Sidebar.Chosen) -> None:
        if not self._idle("open another chat"):
            return
        try:
            await self.open_conversation(event.conversation_id)
        except LocalChatError as exc:
            self.notify(str(exc), severity="error")
            return
        hit = next((v for v in self.message_views() if v.message_id == event.message_id), None)
        if hit is not None:  # a search hit: show the message that matched
            self.log_view.anchor(False)
            self.log_view.scroll_to_widget(hit, animate=False, top=True)
        self.query_one(PromptInput).focus()

    # ------------------------------------------------------------------ actions
    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.toggle_class("hidden")
        if sidebar.has_class("hidden"):
            self.query_one(PromptInput).focus()
        else:
            sidebar.reload()
            sidebar.query_one(OptionList).focus()

    def action_search(self) -> None:
        self.sidebar.remove_class("hidden")
        self.sidebar.reload()
        self.sidebar.focus_search()

    async def action_new_chat(self) -> None:
        if self._idle("start a new chat"):
            await self.start_new_chat()
            self.refresh_sidebar()
            self.query_one(PromptInput).focus()

    def _stored(self, what: str) -> int | None:
        """The conversation's id, or None (with a note) when nothing is stored yet."""
        if self.conversation_id is None:
            self.notify(f"Nothing to {what} yet: send a message first.", severity="warning")
        return self.conversation_id

    def action_rename(self) -> None:
        if (conversation_id := self._stored("rename")) is None:
            return

        async def renamed(title: str | None) -> None:
            if not title:
                return
            try:  # written first; on failure the dialog comes back with the typed title
                self.app.store.rename(conversation_id, title)
            except LocalChatError as exc:
                await self.store_failed(exc, "rename it")
                if self.conversation_id == conversation_id:
                    self.app.push_screen(TextPromptScreen("Rename this chat", title), renamed)
                return
            self.set_title(title)
            self.refresh_sidebar()

        self.app.push_screen(TextPromptScreen("Rename this chat", self.chat_title), renamed)

    def action_delete_chat(self) -> None:
        if (conversation_id := self._stored("delete")) is None or not self._idle("delete it"):
            return

        async def confirmed(yes: bool | None) -> None:
            if yes:
                try:
                    self.app.store.delete(conversation_id)
                except LocalChatError as exc:
                    await self.store_failed(exc, "delete it")
                    return
                self.notify(f"Deleted “{self.chat_title}”.")
                await self.start_new_chat()
                self.refresh_sidebar()

        self.app.push_screen(ConfirmScreen(f"Delete “{self.chat_title}” and all its messages?"),
                             confirmed)

    async def action_export(self, kind: str) -> None:
        if (conversation_id := self._stored("export")) is None:
            return
        store = self.app.store
        try:
            if kind == "json":
                text, suffix = store.export_json(conversation_id), "json"
            else:
                text, suffix = store.export_markdown(conversation_id), "md"
        except LocalChatError as exc:
            await self.store_failed(exc, "export it")
            return
        target = export_path(self.chat_title, conversation_id, suffix)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not write {target}: {exc.strerror}", severity="error")
            return
        self.notify(f"Exported this chat to {target}")

    def action_settings(self) -> None:
        async def saved(result: SavedSettings | None) -> None:
            if result is None:
                return
            settings = result.settings
            conversation_id = self.conversation_id
            if conversation_id is not None:
                try:  # written first; on failure the dialog comes back with what was typed
                    self.app.store.update_settings(conversation_id, settings)
                except LocalChatError as exc:
                    await self.store_failed(exc, "save the settings")
                    if self.conversation_id == conversation_id:
                        self.app.push_screen(SettingsScreen(settings, self.chat_title,
                                                            thinking_switch=switch), saved)
                    return
            self.settings = settings
            if not result.as_default:
                self.notify("Settings saved for this chat.")
                return
            config = dataclasses.replace(self.app.config, chat=settings.as_defaults(), notice="")
            try:  # only the keys that changed are written; comments and the rest stay
                path = save_config(config)
            except (OSError, LocalChatError) as exc:
                self.notify(f"Saved for this chat, but not as the default: {exc}",
                            severity="warning", timeout=20)
                return
            self.app.config = config
            self.notify(f"Settings saved for this chat and as the default for new chats ({path}).")

        # the thinking switch only where the loaded model's template has one
        switch = self.engine is not None and self.engine.info.thinking == "switchable"
        self.app.push_screen(SettingsScreen(self.settings, self.chat_title, thinking_switch=switch),
                             saved)
