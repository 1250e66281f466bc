"""The engine in a child process: ``EngineProcess`` is a ``ChatEngine`` whose model runs in
``python -m localchat.engine.host`` (host.py), one process per loaded model.

llama.cpp ends the process it runs in on some failures (a GGML_ASSERT aborts, a model file
truncated while mapped raises SIGBUS, the kernel kills it for memory), and an unloaded model
does not give all its memory back to the process that held it. In a child of its own, a crash is
an ``EngineCrashed`` error at the end of the reply stream (the app goes on), and closing the
engine ends the process, which returns every byte to the operating system. This module never
imports llama_cpp: only the child does.

The process is started by ``spawn`` (or taken ready from ``spawn.prestart``). A reader thread
takes the child's messages (``wire``) and hands each to the call waiting for it; llama.cpp's log
lines and whatever the child prints (an assert's message before an abort) are kept, so a crash
can say what llama.cpp said last.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from localchat.engine import wire
from localchat.engine.spawn import StartedHost, take_spare
from localchat.engine.types import (
    Message,
    ModelInfo,
    ReplyEvent,
    ReplyStats,
    Sampling,
    TextChunk,
)
from localchat.errors import EngineCrashed
from localchat.loadsettings import LoadSettings
from localchat.rpcpool import lost_workers

CLOSE_TIMEOUT_S = 5.0  # a host that has not exited this long after CLOSE is killed
CANCEL_POLL_S = 0.05  # how often a waiting reply looks at its cancel event
LOG_LINES = 200

# what a signal that ended the engine most likely means, for the one-line message
SIGNAL_CAUSES = {
    "SIGKILL": "out of memory, or by another program",
    "SIGABRT": "aborted by llama.cpp",
    "SIGBUS": "the model file changed or was cut short while in use",
    "SIGSEGV": "crashed",
    "SIGILL": "this llama.cpp build uses CPU instructions this machine cannot run",
    "SIGTERM": "stopped by another program",
}


def ended_reason(returncode: int | None) -> str:
    """``killed by SIGKILL (out of memory, or by another program)``, ``exited with status 3``."""
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        cause = SIGNAL_CAUSES.get(name)
        return f"killed by {name}" + (f" ({cause})" if cause else "")
    return f"exited with status {returncode}"


class EngineProcess:
    """A model loaded in its own process (blocks until it is loaded, or raises what the load
    raised there: ``ModelFileError`` for a bad file, ``EngineCrashed`` if the process died)."""

    def __init__(self, path: str | Path, settings: LoadSettings | None = None) -> None:
        self._settings = settings or LoadSettings()
        self._log: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._log_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._waiting: dict[int | None, queue.SimpleQueue[tuple[Any, ...]]] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._crash: EngineCrashed | None = None
        self._crash_lock = threading.Lock()
        started = take_spare() or StartedHost.start()
        self._proc, self._commands, self._events = started.proc, started.commands, started.events
        assert self._proc.stdout is not None
        self._output = threading.Thread(target=self._read_output, args=(self._proc.stdout,),
                                        name="engine-output", daemon=True)
        self._output.start()
        self._loaded: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._waiting[None] = self._loaded
        self._reader = threading.Thread(target=self._read_events, name="engine-events", daemon=True)
        self._reader.start()
        self._info: ModelInfo
        try:
            self._send((wire.LOAD, str(Path(path).expanduser()), self._settings))
            reply = self._loaded.get()
        except BaseException:
            self.close()
            raise
        if reply[0] != wire.LOADED:
            self.close()
            raise self._error(reply)
        del self._waiting[None]
        self._info = reply[1]

    # ----------------------------------------------------------------- ChatEngine
    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def pid(self) -> int:
        """The engine process's id (tests and benchmarks signal it)."""
        return self._proc.pid

    @property
    def crashed(self) -> EngineCrashed | None:
        """Why the engine process ended, once it has ended on its own; None while it runs."""
        return self._crash

    def chat(
        self,
        messages: Sequence[Message],
        sampling: Sampling | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[ReplyEvent]:
        request, answers = self._request()
        finished = cancel_sent = False
        try:
            self._send((wire.CHAT, request, list(messages), sampling or Sampling()))
            while True:
                if cancel is not None and cancel.is_set() and not cancel_sent:
                    self._send((wire.CANCEL, request))
                    cancel_sent = True
                try:
                    answer = answers.get(timeout=CANCEL_POLL_S if cancel is not None else None)
                except queue.Empty:
                    continue
                if answer[0] == wire.TEXT:
                    yield TextChunk(answer[2], answer[3])
                elif answer[0] == wire.STATS:
                    finished = True
                    stats: ReplyStats = answer[2]
                    yield stats
                    return
                else:
                    finished = True
                    raise self._error(answer)
        finally:
            self._waiting.pop(request, None)
            if not finished and not cancel_sent and self._crash is None and not self._closed:
                # the caller stopped reading: stop the reply so the next one need not wait
                self._send_quietly((wire.CANCEL, request))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        request, answers = self._request()
        try:
            self._send((wire.COUNT, request, list(messages)))
            answer = answers.get()
        finally:
            self._waiting.pop(request, None)
        if answer[0] != wire.COUNT:
            raise self._error(answer)
        return int(answer[2])

    def close(self) -> None:
        """End the engine process: ask it to unload and exit, kill it if it has not in a few
        seconds. Safe to call twice, and after a crash."""
        if self._closed:
            return
        self._closed = True
        self._send_quietly((wire.CLOSE,))
        try:
            self._proc.wait(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._commands.close()
        self._reader.join(timeout=CLOSE_TIMEOUT_S)
        self._output.join(timeout=CLOSE_TIMEOUT_S)

    def log_lines(self) -> list[str]:
        """The last lines llama.cpp logged (and the engine process printed), oldest first."""
        with self._log_lock:
            return list(self._log)

    # ----------------------------------------------------------------- plumbing
    def _request(self) -> tuple[int, queue.SimpleQueue[tuple[Any, ...]]]:
        if self._crash is not None:
            raise self._crash
        request = next(self._ids)
        answers: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._waiting[request] = answers
        return request, answers

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            try:
                self._commands.send(message)
            except OSError as exc:  # the process has ended: say how
                raise self._ended() from exc

    def _send_quietly(self, message: tuple[Any, ...]) -> None:
        with contextlib.suppress(EngineCrashed):  # it has ended: nothing left to tell it
            self._send(message)

    def _error(self, answer: tuple[Any, ...]) -> Exception:
        if answer[0] == wire.ERROR:
            return wire.rebuild_error(answer[2])
        crash = answer[1]
        assert isinstance(crash, EngineCrashed)
        return crash

    def _read_events(self) -> None:
        while True:
            try:
                message = self._events.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == wire.LOG:
                self._keep_log(message[1])
            else:  # (LOADED, info) answers the load; the others name their request
                self._deliver(None if kind == wire.LOADED else message[1], message)
        self._events.close()
        if not self._closed:
            crash = self._ended()
            for answers in list(self._waiting.values()):
                answers.put(("crashed", crash))

    def _deliver(self, request: int | None, message: tuple[Any, ...]) -> None:
        answers = self._waiting.get(request)
        if answers is not None:  # else a reply its caller stopped reading
            answers.put(message)

    def _read_output(self, stream: IO[bytes]) -> None:
        debug = os.environ.get("LOCALCHAT_DEBUG", "") not in ("", "0")
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if debug:
                print(line, file=sys.stderr, flush=True)
            if line:
                self._keep_log(line)
        stream.close()

    def _keep_log(self, line: str) -> None:
        with self._log_lock:
            self._log.append(line)

    def _ended(self) -> EngineCrashed:
        """The error for an engine process that ended on its own (waits a moment for its exit
        status and its last words)."""
        with self._crash_lock:
            if self._crash is None:
                self._crash = self._crash_error()
            return self._crash

    def _crash_error(self) -> EngineCrashed:
        try:
            returncode: int | None = self._proc.wait(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:  # its pipe broke but it lives on: end it
            self._proc.kill()
            self._proc.wait()
            returncode = None
        self._output.join(timeout=1.0)  # what it printed as it died (an assert's message)
        lines = self.log_lines()
        last = lines[-1].strip() if lines else ""
        reason = ended_reason(returncode)
        lost = lost_workers(self._settings.rpc_workers) if self._settings.rpc_workers else []
        if lost:  # llama.cpp aborts when a worker goes: say which one
            reason = (f"lost the RPC worker{'s' if len(lost) > 1 else ''} {', '.join(lost)} "
                      f"(no longer accepting connections), {reason}")
        said = f"; llama.cpp's last line: {last}" if last else ""
        hint = ("start the worker again (or drop it from --rpc), then load the model again" if lost
                else "load the model again to go on")
        return EngineCrashed(f"the model process ended: {reason}{said}", hint, reason=reason,
                             last_log=last, lost_workers=tuple(lost))
