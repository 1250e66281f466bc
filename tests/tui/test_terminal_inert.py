"""The real ``localchat`` in tmux, opened on a conversation whose stored reply holds OSC 52 (write
the clipboard), ESC[2J (clear the screen) and OSC 2 (retitle): it is shown inertly, tmux gets no
paste buffer and the pane keeps its title (issue 13, item 5)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from localchat.config import ChatDefaults, Config, save_config
from tests.tui.test_terminal import ROOT, Tmux, localchat_command

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

REPLY = ("Here you go: \x1b]52;c;aGFja2Vk\x07 and \x1b[2J\x1b[H then \x1b]2;PWNED-REPLY\x07 "
         "the end of the reply.")
TITLE = "Evil \x1b]2;PWNED-TITLE\x07 chat"


class ClipboardTmux(Tmux):
    """A tmux server of this test's own (TMUX_TMPDIR) that accepts OSC 52 from applications
    (``set-clipboard on``), so a sequence that got through would show up as a paste buffer."""

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        line = f"cd {ROOT} && exec env -u COLUMNS -u LINES {exports} " + " ".join(command)
        size = ["-x", "100", "-y", str(self.height)]
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, *size, "sleep 600"], check=True)
        subprocess.run(["tmux", "set-option", "-s", "set-clipboard", "on"], check=True)
        subprocess.run(["tmux", "set-option", "-t", self.name, "window-size", "manual"], check=True)
        subprocess.run(["tmux", "resize-window", "-t", self.name, *size], check=True)
        self.title_before = self.pane_title()
        subprocess.run(["tmux", "respawn-pane", "-k", "-t", self.name, line], check=True)

    def pane_title(self) -> str:
        return subprocess.run(["tmux", "display-message", "-p", "-t", self.name, "#{pane_title}"],
                              capture_output=True, text=True, check=True).stdout.strip()

    def buffers(self) -> str:
        return subprocess.run(["tmux", "list-buffers"], capture_output=True, text=True).stdout


@pytest.fixture
def own_tmux(monkeypatch: pytest.MonkeyPatch):
    sockets = tempfile.mkdtemp(prefix="lc-tmux-", dir="/tmp")  # short: a socket path has a limit
    monkeypatch.setenv("TMUX_TMPDIR", sockets)
    session = ClipboardTmux(f"localchat-inert-{os.getpid()}")
    yield session
    subprocess.run(["tmux", "kill-server"], capture_output=True)
    shutil.rmtree(sockets, ignore_errors=True)


def test_a_stored_reply_cannot_write_the_clipboard_clear_or_retitle(own_tmux: ClipboardTmux,
                                                                     smollm2_path: Path) -> None:
    from localchat.history import ConversationStore

    store = ConversationStore()
    conversation = store.create(title=TITLE)
    store.add_message(conversation.id, "user", "Show me something.")
    store.add_message(conversation.id, "assistant", REPLY, model="SmolLM2")
    store.close()
    save_config(Config(chat=ChatDefaults(temperature=0.0, max_tokens=16)))
    env = {"LOCALCHAT_HOME": os.environ["LOCALCHAT_HOME"], "TERM": "xterm-256color"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    own_tmux.start([*localchat_command(), "--model", str(smollm2_path), "--ctx", "1024"], env)

    screen = own_tmux.wait_for(lambda s: "the end of the reply." in s and "ready" in s,
                               what="the stored reply and the model")
    assert "␛]52;c;aGFja2Vk␇" in screen and "␛[2J␛[H" in screen  # shown, not obeyed
    assert "Show me something." in screen  # not cleared away
    assert "Evil ␛]2;PWNED-TITLE␇ chat" in screen
    own_tmux.keys("C-b")  # the sidebar lists the title too
    own_tmux.wait_for(lambda s: "Conversations" in s, what="the sidebar")
    assert own_tmux.buffers() == ""  # no OSC 52 reached tmux: no paste buffer
    title = own_tmux.pane_title()
    assert "PWNED" not in title and title == own_tmux.title_before
