"""Starting engine host processes (host.py) for ``process.EngineProcess``, and one ahead of time.

The host gets two pipes (commands in, events out) as file descriptors; its stdout and stderr go
to a third pipe the app reads, for what llama.cpp prints itself. It starts in a session of its
own, so the terminal's Ctrl-C reaches only the app, and it exits when the app's end of the
command pipe closes, so it never outlives the app.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

END_TIMEOUT_S = 5.0  # a spare host that has not exited this long after its pipe closed is killed


def host_command() -> list[str]:
    return [sys.executable, "-m", "localchat.engine.host"]


def host_env() -> dict[str, str]:
    """The app's environment, with this copy of localchat first on the child's import path when
    it runs from a source folder (so a checkout runs its own host; an installed copy is found by
    the same Python anyway, and site-packages must not go before the standard library), and
    llama.cpp's backtrace-by-debugger turned off (an abort would otherwise attach gdb, where
    installed, for seconds)."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    if root.name not in ("site-packages", "dist-packages"):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env.setdefault("GGML_NO_BACKTRACE", "1")
    return env


@dataclass(frozen=True)
class StartedHost:
    """An engine host process, started and importing llama_cpp, not yet given a model."""

    proc: subprocess.Popen[bytes]
    commands: Connection
    events: Connection

    @classmethod
    def start(cls) -> StartedHost:
        cmd_read, cmd_write = os.pipe()
        evt_read, evt_write = os.pipe()
        try:
            proc = subprocess.Popen(
                [*host_command(), str(cmd_read), str(evt_write)],
                pass_fds=(cmd_read, evt_write), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=host_env(),
                start_new_session=True,  # the terminal's Ctrl-C is the app's, not the engine's
            )
        finally:
            os.close(cmd_read)
            os.close(evt_write)
        return cls(proc, Connection(cmd_write, readable=False), Connection(evt_read, writable=False))

    def end(self) -> None:
        self.commands.close()  # the host sees its command pipe close and exits
        try:
            self.proc.wait(timeout=END_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.events.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


_spare: StartedHost | None = None
_spare_lock = threading.Lock()


def prestart() -> None:
    """Start an engine process now for the next load, so that Python's start and the import of
    llama_cpp (a few hundred ms) are done by the time a model is chosen (the app calls it as it
    opens, and when the model menu opens). At most one waits; ``discard_spare`` ends it."""
    global _spare
    with _spare_lock:
        if _spare is not None and _spare.proc.poll() is None:
            return
        _spare = StartedHost.start()


def take_spare() -> StartedHost | None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare.proc.poll() is not None:  # it died waiting: start afresh
        spare.end()
        return None
    return spare


def discard_spare() -> None:
    """End the engine process ``prestart`` left waiting, if any (the app calls it as it exits)."""
    spare = take_spare()
    if spare is not None:
        spare.end()


def build_info_json() -> str:
    """What this llama.cpp build can do (``buildinfo.llama_build_info`` as JSON), asked of a
    short-lived engine host so the asking process does not import llama_cpp. OSError when the
    host cannot say (llama_cpp missing or broken)."""
    try:
        out = subprocess.run([*host_command(), "--build-info"], capture_output=True, text=True,
                             env=host_env(), timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"the engine process did not answer in {exc.timeout:.0f} s") from exc
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        errors = out.stderr.strip().splitlines()
        raise OSError(errors[-1] if errors else f"the engine process exited with {out.returncode}")
    return lines[-1]
