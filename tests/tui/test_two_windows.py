"""Two real `localchat` windows in tmux on one data folder: one deletes the chat the other is
showing, the other sends; nothing crashes and nothing typed is lost."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.tui.test_terminal import Tmux, start_chat

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_a_chat_deleted_in_one_window_and_sent_to_in_the_other(smollm2_path: Path) -> None:
    from localchat.history import ConversationStore

    a = Tmux(f"localchat-a-{os.getpid()}")
    b = Tmux(f"localchat-b-{os.getpid()}")
    try:
        start_chat(a, smollm2_path, max_tokens=8)
        a.keys("-l", "Hello from window A")
        a.keys("Enter")
        a.wait_for(lambda s: "gen " in s and " t/s" in s, what="A's first reply")

        start_chat(b, smollm2_path, max_tokens=8)  # opens the latest chat: A's
        b.wait_for(lambda s: "Hello from window A" in s, what="B to show A's chat")
        b.keys("F8")
        b.wait_for(lambda s: "Delete" in s and "all its messages" in s, what="the delete question")
        b.keys("y")
        b.wait_for(lambda s: "Deleted" in s, what="B to delete the chat")
        assert ConversationStore().list() == []

        a.keys("-l", "Are you still there?")
        a.keys("Enter")
        screen = a.wait_for(lambda s: "deleted in another" in " ".join(s.split()),
                            what="A to say the chat was deleted elsewhere")
        assert a.alive()
        assert "Are you still there?" in screen
        a.wait_for(lambda s: "gen " in s and " t/s" in s, what="A's reply in the new chat")
        [summary] = ConversationStore().list()
        messages = ConversationStore().get(summary.id).messages
        assert [(m.role, m.content) for m in messages][0] == ("user", "Are you still there?")
        assert [m.role for m in messages] == ["user", "assistant"]
        a.keys("C-q")
        deadline = time.monotonic() + 15
        while a.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not a.alive(), "A did not quit on ctrl+q"
    finally:
        a.kill()
        b.kill()
