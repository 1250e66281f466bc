"""The engine host: one model in a process of its own, ``python -m localchat.engine.host CMD EVT``.

``process.EngineProcess`` starts it with two pipes (file descriptors CMD and EVT) and talks to it
in ``wire``'s messages. The main thread loads the model and runs replies one at a time; a reader
thread takes the app's commands as they come, so a cancel reaches the running reply at once (it
sets the reply's cancel event, and the engine's ``interrupt`` stops the decode in progress part
way, be it a token or a long prompt), and token counts are answered while a reply streams.
When the app goes away (its end of the pipe closes) the host stops the reply and exits.
Text pieces that come faster than one per ``PIECE_INTERVAL_S`` travel together
(``PieceBatcher``): one message for several tokens, the first piece always at once.

``python -m localchat.engine.host --build-info`` prints what this llama.cpp build can do as JSON
(the app's hardware probe asks it here, so the app itself never imports llama_cpp);
``--rpc-memory HOST:PORT`` a llama.cpp RPC worker's memory (engine/rpcprobe.py).
"""

from __future__ import annotations

import dataclasses
import json
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from localchat.engine import wire
from localchat.engine.types import ChatEngine, Message, Sampling, TextChunk
from localchat.loadsettings import LoadSettings

# At most this often a reply's text goes to the app: 50 messages a second is more than the chat
# draws (issue 15 asks for >= 15 screen updates a second), while a small model makes 150+ tokens
PIECE_INTERVAL_S = 0.02


class PieceBatcher:
    """Joins text pieces that come less than ``interval_s`` after the last one sent. A piece
    that comes later goes at once with what was held, so the first piece is never delayed and a
    held one waits at most one token."""

    def __init__(self, interval_s: float = PIECE_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._held: list[str] = []
        self._held_tokens = 0
        self._sent_at = float("-inf")

    def add(self, chunk: TextChunk) -> TextChunk | None:
        """The chunk to send now (None while it is held)."""
        self._held.append(chunk.text)
        self._held_tokens += chunk.tokens
        now = self._clock()
        if now - self._sent_at < self._interval_s:
            return None
        self._sent_at = now
        return self.flush()

    def flush(self) -> TextChunk | None:
        """Whatever is held, as one chunk (the reply has ended)."""
        if not self._held:
            return None
        chunk = TextChunk("".join(self._held), self._held_tokens)
        self._held.clear()
        self._held_tokens = 0
        return chunk


class Host:
    def __init__(self, commands: Connection, events: Connection) -> None:
        self._commands = commands
        self._events = events
        self._send_lock = threading.Lock()  # the main thread, the reader and llama.cpp's log
        self._work: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._cancels: dict[int, threading.Event] = {}
        self._engine: ChatEngine | None = None
        # the reply running now: a late cancel for one that has ended must not stop the next
        self._replying: int | None = None
        self._replying_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            try:
                self._events.send(message)
            except OSError:  # the app has gone: the reader sees its pipe close and stops us
                self._cancel_all()

    def run(self) -> int:
        threading.Thread(target=self._read, name="engine-commands", daemon=True).start()
        from localchat.engine import logcapture
        from localchat.engine.llama import LlamaEngine
        from localchat.engine.loading import import_ahead

        import_ahead()  # before a load is asked for: a spare process waits with it done

        logcapture.add_listener(lambda line: self.send((wire.LOG, line)))
        while True:
            message = self._work.get()
            kind = message[0]
            if kind == wire.CLOSE:
                break
            if kind == wire.LOAD and self._engine is None:
                self._load(LlamaEngine, message[1], message[2])
            elif kind == wire.CHAT:
                self._chat(message[1], message[2], message[3])
        if self._engine is not None:
            self._engine.close()
        return 0

    def _read(self) -> None:
        while True:
            try:
                message = self._commands.recv()
            except (EOFError, OSError):  # the app closed its end, or died: stop and exit
                message = (wire.CLOSE,)
            kind = message[0]
            if kind == wire.CANCEL:
                self._cancel(message[1])
            elif kind == wire.COUNT:
                self._count(message[1], message[2])
            elif kind == wire.CLOSE:
                self._cancel_all()
                self._work.put(message)
                return
            else:
                if kind == wire.CHAT:  # registered before its CANCEL can arrive
                    self._cancels[message[1]] = threading.Event()
                self._work.put(message)

    def _cancel(self, request: int) -> None:
        cancel = self._cancels.get(request)
        if cancel is None:
            return
        cancel.set()
        interrupt = getattr(self._engine, "interrupt", None)  # LlamaEngine.interrupt
        with self._replying_lock:
            if request == self._replying and interrupt is not None:
                interrupt()

    def _cancel_all(self) -> None:
        for request in list(self._cancels):
            self._cancel(request)

    def _replying_to(self, request: int | None) -> None:
        with self._replying_lock:
            self._replying = request

    # The handlers below send any exception back to the app, where ``wire.rebuild_error``
    # raises it again (a LocalChatError as itself): nothing is swallowed here.
    def _load(self, engine_class: Any, path: str, settings: LoadSettings) -> None:
        try:
            self._engine = engine_class(path, settings)
        except Exception as exc:
            self.send((wire.ERROR, None, wire.error_record(exc)))
            return
        self.send((wire.LOADED, self._engine.info))

    def _chat(self, request: int, messages: list[Message], sampling: Sampling) -> None:
        cancel = self._cancels[request]
        batcher = PieceBatcher()

        def send_text(chunk: TextChunk | None) -> None:
            if chunk is not None:
                self.send((wire.TEXT, request, chunk.text, chunk.tokens))

        self._replying_to(request)
        try:
            if self._engine is None:
                from localchat.errors import LocalChatError

                raise LocalChatError("no model is loaded", "load a model first")
            for event in self._engine.chat(messages, sampling, cancel):
                if isinstance(event, TextChunk):
                    send_text(batcher.add(event))
                else:
                    send_text(batcher.flush())
                    self.send((wire.STATS, request, event))
        except Exception as exc:
            send_text(batcher.flush())  # the text before the failure is the partial reply
            self.send((wire.ERROR, request, wire.error_record(exc)))
        finally:
            self._replying_to(None)
            self._cancels.pop(request, None)

    def _count(self, request: int, messages: list[Message]) -> None:
        try:
            if self._engine is None:
                from localchat.errors import LocalChatError

                raise LocalChatError("no model is loaded", "load a model first")
            self.send((wire.COUNT, request, self._engine.count_tokens(messages)))
        except Exception as exc:
            self.send((wire.ERROR, request, wire.error_record(exc)))


def print_build_info() -> int:
    from localchat.engine.buildinfo import llama_build_info

    print(json.dumps(dataclasses.asdict(llama_build_info())))
    return 0


def print_rpc_memory(worker: str) -> int:
    """``--rpc-memory HOST:PORT``: the worker's free and total bytes as JSON, or one line on
    stderr and status 2 (engine/rpcprobe.py reads either)."""
    from localchat.engine.rpc import worker_memory
    from localchat.errors import LocalChatError

    try:
        free, total = worker_memory(worker)
    except LocalChatError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps({"free_bytes": free, "total_bytes": total}))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--build-info"]:
        return print_build_info()
    if len(args) == 2 and args[0] == "--rpc-memory":
        return print_rpc_memory(args[1])
    # Ctrl-C belongs to the app (it stops a reply with a cancel); this process ends when the app
    # closes the command pipe, so it never outlives it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    commands = Connection(int(args[0]), writable=False)
    events = Connection(int(args[1]), readable=False)
    return Host(commands, events).run()


if __name__ == "__main__":
    sys.exit(main())
