"""What the screens may use of the app, one layer below them.

The app (app.py) imports the screens to show them; a screen never imports the app. It types
``self.app`` as ``AppHost``: the model (``ModelHost``: ``engine``, ``switch_model``,
``hardware_profile``, ``sources``, ``config``, ``notify``), the conversation store, what the
command line asked for, and ``open_chat``, which the app defines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localchat.tui.modelhost import ModelHost

if TYPE_CHECKING:
    from textual.screen import Screen

    from localchat.history import ConversationStore
    from localchat.loadsettings import LoadOverrides


class AppHost(ModelHost):
    """The app as its screens see it (``LocalChatApp`` is the one implementation)."""

    store: ConversationStore
    overrides: LoadOverrides  # `localchat --ctx N`: the first-run setup plans for it

    def open_chat(self) -> Screen[Any]:
        """Show the chat screen (on top of whatever is shown), creating it the first time."""
        raise NotImplementedError
