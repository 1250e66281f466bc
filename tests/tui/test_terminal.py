"""The real ``localchat`` command in tmux, driven as a person would: type, read the screen,
quit; and a reply killed with SIGKILL halfway, found again afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localchat.config import ChatDefaults, Config, save_config
from localchat.paths import config_file

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    def __init__(self, name: str, height: int = 30) -> None:
        self.name = name
        self.height = height

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        # COLUMNS/LINES: seen set to 80x24 in this pytest process; a tmux server started from
        # here hands them on, and Textual believes them over the real pane size
        line = f"cd {ROOT} && exec env -u COLUMNS -u LINES {exports} " + " ".join(command)
        size = ["-x", "100", "-y", str(self.height)]
        # size the window first, then start the program in it: a tmux server started elsewhere
        # may impose its default size (80x24) on a new session
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, *size, "sleep 600"], check=True)
        subprocess.run(["tmux", "set-option", "-t", self.name, "window-size", "manual"], check=True)
        subprocess.run(["tmux", "resize-window", "-t", self.name, *size], check=True)
        subprocess.run(["tmux", "respawn-pane", "-k", "-t", self.name, line], check=True)

    def screen(self) -> str:
        out = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                             capture_output=True, text=True)
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def pid(self) -> int:
        out = subprocess.run(["tmux", "display-message", "-p", "-t", self.name, "#{pane_pid}"],
                             capture_output=True, text=True, check=True)
        return int(out.stdout.strip())

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name],
                              capture_output=True).returncode == 0

    def wait_for(self, predicate, timeout_s: float = 40.0, what: str = "the screen") -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)  # polling an outside process: there is no event to wait on
        size = subprocess.run(["tmux", "display-message", "-p", "-t", self.name,
                               "#{window_width}x#{window_height}"], capture_output=True, text=True).stdout
        raise AssertionError(f"timed out waiting for {what}; the {size.strip()} screen shows:\n"
                             f"{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def tmux(request):
    session = Tmux(f"localchat-test-{os.getpid()}-{request.node.name[:20]}")
    yield session
    session.kill()


def localchat_command() -> list[str]:
    """The installed `localchat` console script of this Python (`python -m localchat` when the
    package is not installed, e.g. run from a source checkout)."""
    script = Path(sys.executable).with_name("localchat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "localchat"]


def start_chat(tmux: Tmux, model: Path, max_tokens: int) -> None:
    save_config(Config(chat=ChatDefaults(temperature=0.0, max_tokens=max_tokens)))
    assert config_file().exists()
    env = {"LOCALCHAT_HOME": os.environ["LOCALCHAT_HOME"], "TERM": "xterm-256color"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    tmux.start([*localchat_command(), "--model", str(model), "--ctx", "1024"], env)
    tmux.wait_for(lambda s: "Q4_1" in s and "ready" in s, what="the model to load")


def test_chat_in_a_real_terminal(tmux: Tmux, smollm2_path: Path) -> None:
    start_chat(tmux, smollm2_path, max_tokens=24)
    tmux.keys("-l", "What is the capital of France?")
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: "gen " in s and " t/s" in s and "TTFT" in s,
                           what="the reply and its tokens/s")
    assert "You" in screen and "What is the capital of France?" in screen
    assert "Assistant" in screen
    tmux.keys("C-q")
    deadline = time.monotonic() + 15
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "localchat did not quit on ctrl+q"

    from localchat.history import ConversationStore

    store = ConversationStore()
    [summary] = store.list()
    messages = store.get(summary.id).messages
    assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
    assert messages[1].content.strip()


def test_sigkill_mid_reply_keeps_the_question_and_the_partial_reply(tmux: Tmux, smollm2_path: Path):
    from localchat.history import ConversationStore

    # a tall window: the reply's first words stay on screen (under the question) for seconds,
    # so a busy machine's slow polling still sees them before they scroll away
    tmux.height = 60

    start_chat(tmux, smollm2_path, max_tokens=900)
    tmux.keys("-l", "Write a very long story about a dragon and a knight.")
    tmux.keys("Enter")
    shown = tmux.wait_for(lambda s: "generating" in s and len(_reply_words(s)) > 5,
                          what="the reply to stream onto the screen")
    os.kill(tmux.pid(), signal.SIGKILL)

    reopened = ConversationStore()
    [summary] = reopened.list()
    user, reply = reopened.get(summary.id).messages
    assert (user.role, user.status) == ("user", "complete")
    assert user.content == "Write a very long story about a dragon and a knight."
    assert reply.role == "assistant" and reply.status == "partial"
    # every word of the reply on screen before the kill is in the stored text (write, then show)
    assert all(w in reply.content for w in _reply_words(shown))

    # and the chat opened again shows both, the reply marked as interrupted
    tmux.kill()
    start_chat(tmux, smollm2_path, max_tokens=900)
    screen = tmux.screen()
    assert "Write a very long story about a dragon and a knight." in screen
    assert "[interrupted]" in screen


def engine_process_pid(app_pid: int) -> int:
    """The pid of the engine host the app started (its child running the model)."""
    import psutil

    for child in psutil.Process(app_pid).children(recursive=True):
        if "localchat.engine.host" in " ".join(child.cmdline()):
            return child.pid
    raise AssertionError(f"no engine process under pid {app_pid}")


def test_killing_the_engine_process_mid_reply_keeps_the_chat(tmux: Tmux, smollm2_path: Path):
    from localchat.history import ConversationStore

    tmux.height = 60
    start_chat(tmux, smollm2_path, max_tokens=900)
    first = engine_process_pid(tmux.pid())
    tmux.keys("-l", "Write a very long story about a dragon and a knight.")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "generating" in s and len(_reply_words(s)) > 5,
                  what="the reply to stream onto the screen", timeout_s=90)
    os.kill(first, signal.SIGKILL)
    screen = tmux.wait_for(lambda s: "model process ended" in s and "[stopped]" in s,
                           what="the chat to say the model process ended", timeout_s=60)
    assert "Ctrl+R" in screen and tmux.alive()
    kept = _reply_words(screen)
    assert len(kept) > 5  # the partial reply is still there
    [summary] = ConversationStore().list()
    user, reply = ConversationStore().get(summary.id).messages
    assert reply.status == "stopped" and all(w in reply.content for w in kept)

    tmux.keys("C-r")  # reload the model and regenerate
    # the new reply streams (an Esc before its first token would stop it inside the prompt)
    tmux.wait_for(lambda s: "generating" in s and len(_reply_words(s)) > 5,
                  what="the reloaded model to answer", timeout_s=90)
    assert engine_process_pid(tmux.pid()) != first
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "stopped ·" in s and "gen " in s, what="the new reply to stop", timeout_s=60)
    user, reply = ConversationStore().get(summary.id).messages
    assert reply.status == "stopped" and reply.stats and reply.stats["completion_tokens"] > 0


def _reply_words(screen: str) -> list[str]:
    """The words of the last reply as the pane shows them (each message line starts with a
    bar); none before the reply appears."""
    lines = screen.splitlines()
    starts = [i for i, line in enumerate(lines) if "Assistant ·" in line]
    if not starts:
        return []
    reply = [ln.replace("█", "").strip() for ln in lines[starts[-1] + 1:] if ln.lstrip().startswith("█")]
    return [w for line in reply for w in line.split() if w.isalpha()]


def test_a_cut_off_reply_continues_in_place_in_a_real_terminal(tmux: Tmux, smollm2_path: Path):
    """[chat] max_tokens = 16: the reply says it was cut off; Ctrl+E (typed into the prompt's
    terminal) grows that same reply, and the store keeps one longer message."""
    from localchat.history import ConversationStore

    start_chat(tmux, smollm2_path, max_tokens=16)
    tmux.keys("-l", "Write a long story about a lighthouse keeper.")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "cut off at max tokens — Ctrl+E" in s, what="the cut-off note",
                  timeout_s=90)

    def last_messages():
        store = ConversationStore()
        try:
            return store.get(store.list()[0].id).messages
        finally:
            store.close()

    first = last_messages()[-1]
    assert first.status == "cut"
    tmux.keys("C-e")

    def grown():
        messages = last_messages()
        done = messages[-1].status != "partial" and messages[-1].content != first.content
        return messages if done else None

    deadline = time.monotonic() + 90
    while (messages := grown()) is None and time.monotonic() < deadline:
        time.sleep(0.1)  # polling an outside process's database
    assert messages is not None, "the continued reply was not stored"
    assert [m.role for m in messages] == ["user", "assistant"] and messages[1].id == first.id
    assert messages[1].content.startswith(first.content) and len(messages[1].content) > len(first.content)
