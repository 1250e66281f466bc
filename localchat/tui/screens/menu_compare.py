"""``c`` in the model menu: the loaded model's last reply again from another quant of it, side by
side (screens/compare.py), once that quant is on disk; or from a model on a server, when the
loaded model or the highlighted one runs on one (any model: a server names its models its own
way)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localchat.tui.usemodel import fetch

if TYPE_CHECKING:
    from textual.screen import Screen

    from localchat.engine.target import LoadTarget
    from localchat.options.option import ModelOption
    from localchat.tui.host import AppHost
    from localchat.tui.screens.chat import ChatScreen


def compare_with_loaded(menu: Screen[Any], host: AppHost, row: ModelOption | None,
                        loaded: ModelOption | None) -> None:
    """Compare the ``loaded`` model with ``row`` (the menu's highlighted one), downloading that
    first if needed; a warning says why not when they cannot be compared."""
    if row is None:
        return
    if loaded is None or host.engine is None:
        menu.notify("No model is loaded: load one first, then compare its quants.", severity="warning")
        return
    if row.loaded:
        menu.notify("That is the loaded model: pick another quant of it to compare.", severity="warning")
        return
    if not (row.remote or loaded.remote) and row.model != loaded.model:
        menu.notify(f"Compare works between quants of the loaded model ({loaded.model}); "
                    f"{row.model} is another model.", severity="warning")
        return
    chat = find_chat(host)
    if chat is not None and chat.generating:
        menu.notify("Wait for the reply to end (or stop it with Esc in the chat) to compare.",
                    severity="warning")
        return
    if row.remote:  # nothing to download
        _open_compare(menu, host, loaded, row, row.remote)
        return
    fetch(host, row, lambda path: _open_compare(menu, host, loaded, row, str(path)))


def _open_compare(menu: Screen[Any], host: AppHost, loaded: ModelOption, other: ModelOption,
                  target: LoadTarget) -> None:
    from localchat.tui.screens.compare import CompareScreen

    chat = find_chat(host)
    if chat is None or chat.conversation_id is None or not chat.message_views("user"):
        menu.notify("Say something first: compare regenerates the last reply.", severity="warning")
        return
    menu.dismiss(None)
    host.push_screen(CompareScreen(chat, loaded, other, target))


def find_chat(app: Any) -> ChatScreen | None:
    from localchat.tui.screens.chat import ChatScreen

    return next((s for s in app.screen_stack if isinstance(s, ChatScreen)), None)
