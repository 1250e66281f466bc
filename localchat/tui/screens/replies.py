"""What the user does to replies: stop, regenerate, edit the last message and resend, copy a
reply or a code block (OSC 52, so it works over SSH and in tmux)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.actions import SkipAction

from localchat.errors import LocalChatError
from localchat.safetext import for_terminal
from localchat.tui.convo import last_code_block
from localchat.tui.screens.conversation import ConversationActions
from localchat.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from localchat.engine.types import ChatEngine, Message
    from localchat.tui.widgets.message import MessageView

CONTINUABLE = ("cut", "stopped")  # stopped at max tokens or a full context, or by Esc


class ReplyActions(ConversationActions):
    """The chat screen's reply actions (a base class so chat.py stays about streaming)."""

    if TYPE_CHECKING:  # provided by ChatScreen
        generating: bool
        _cancel: threading.Event

        async def start_reply(self) -> None: ...
        def run_reply(self, engine: ChatEngine, view: MessageView, messages: list[Message]
                      ) -> None: ...
        def current_messages(self, conversation_id: int) -> list[Message]: ...
        def message_views(self, role: str | None = None) -> list[MessageView]: ...

    def action_stop(self) -> None:
        if self.generating:
            self._cancel.set()
            self.status.show_text("stopping…")
        elif self._editing_id is not None:
            self._editing_id = None
            self.query_one(PromptInput).clear()
            self.notify("Edit cancelled.")

    def _idle(self, what: str) -> bool:
        if self.generating:
            self.notify(f"Wait for the reply to end (or press Esc) to {what}.", severity="warning")
            return False
        return True

    async def action_regenerate(self) -> None:
        if not self._idle("regenerate"):
            return
        views = self.message_views()
        if not views:
            self.notify("There is no reply to regenerate yet.", severity="warning")
            return
        last = views[-1]
        if last.role == "assistant":
            try:
                self.app.store.delete_messages_from(last.message_id)
            except LocalChatError as exc:
                await self.store_failed(exc, "regenerate")
                return
            await last.remove()
        await self.start_reply()  # a last user message without a reply (load failed, crash) gets one

    async def action_continue_reply(self) -> None:
        """Extend the last reply in place: the engine continues the same assistant message
        (its KV cache reused), and the new text joins the same stored message and view."""
        if not self._idle("continue"):
            return
        views = self.message_views()
        last = views[-1] if views else None
        if last is None or last.role != "assistant" or last.status not in CONTINUABLE or not last.content:
            prompt = self.query_one(PromptInput)
            if prompt.has_focus and prompt.text:
                raise SkipAction  # nothing to continue: Ctrl+E is the prompt's "end of line"
            self.notify("Only a reply that was cut off (or stopped) can be continued.",
                        severity="warning")
            return
        engine, conversation_id = self.engine, self.conversation_id
        if engine is None or conversation_id is None:
            self.notify("No model is loaded, so nothing can continue the reply yet.",
                        severity="warning")
            return
        try:
            messages = self.current_messages(conversation_id)
            self.app.store.reopen_reply(last.message_id)
        except LocalChatError as exc:
            await self.store_failed(exc, "continue the reply")
            return
        last.begin_continue()
        self.run_reply(engine, last, messages)

    def action_edit_last(self) -> None:
        if not self._idle("edit"):
            return
        users = self.message_views("user")
        if not users:
            self.notify("There is no message to edit yet.", severity="warning")
            return
        self._editing_id = users[-1].message_id
        prompt = self.query_one(PromptInput)
        prompt.text = for_terminal(users[-1].content)
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.notify("Editing your last message: Enter sends it again and replaces what followed; "
                    "Esc cancels.")

    # ------------------------------------------------------------------ clipboard (OSC 52)
    def action_copy_reply(self) -> None:
        replies = self.message_views("assistant")
        if not replies or not replies[-1].content:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        text = replies[-1].content
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the last reply ({len(text)} characters) to the clipboard.")

    def action_copy_code(self) -> None:
        for view in reversed(self.message_views("assistant")):
            code = last_code_block(view.content)
            if code is not None:
                self.app.copy_to_clipboard(code)
                lines = code.count("\n") + 1
                self.notify(f"Copied a code block ({lines} line{'s' if lines != 1 else ''}) "
                            "to the clipboard.")
                return
        self.notify("No reply has a code block to copy.", severity="warning")
