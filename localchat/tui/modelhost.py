"""The app's loaded model: load, switch and unload it in a thread worker, and mark it in use.

``switch_model(target, settings)`` is the one way a model gets loaded (at start, from the first-run
setup, from a model menu): it stops a streaming reply, unloads the current engine, loads the new
one in the ``load`` worker and posts ``ModelLoaded`` or ``ModelLoadFailed`` to every screen. While
a model loads ``engine`` is None and the chat queues what the user sends; the conversation goes on
with the new model once it is ready.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.worker import Worker, get_current_worker

from localchat.engine.target import LoadTarget, RemoteModel
from localchat.engine.types import ChatEngine
from localchat.errors import EngineCrashed, LocalChatError
from localchat.loadsettings import LoadSettings
from localchat.safetext import for_terminal, one_line
from localchat.tui.messages import ModelLoaded, ModelLoadFailed, ModelLoading
from localchat.tui.workers import worker_failure

if TYPE_CHECKING:
    from localchat.config import Config, ModelChoice
    from localchat.download.inuse import InUse
    from localchat.hardware.profile import HardwareProfile, RpcWorkerInfo
    from localchat.options.sources import Sources

EngineLoader = Callable[[LoadTarget, LoadSettings], ChatEngine]


def real_engine_loader(target: LoadTarget, settings: LoadSettings) -> ChatEngine:
    """A GGUF file: the model in a process of its own (engine/process.py): a llama.cpp crash
    ends that process, not the app, and unloading returns all its memory. The app never imports
    llama_cpp. A model on a server: its HTTP client, here (engine/remote.py)."""
    if isinstance(target, RemoteModel):
        from localchat.engine.remote import RemoteEngine

        return RemoteEngine(target)
    from localchat.engine.process import EngineProcess

    return EngineProcess(target, settings)


def engine_crash(engine: ChatEngine | None) -> EngineCrashed | None:
    """Why the engine's process ended on its own, if it has (an in-process engine never says)."""
    crash = getattr(engine, "crashed", None)
    return crash if isinstance(crash, EngineCrashed) else None


class ModelHost(App[int]):
    """Base of the app: owns the engine; screens read ``app.engine`` and listen for the model
    messages (screens/chat.py is the example)."""

    engine: ChatEngine | None = None
    model_path: LoadTarget | None = None  # the model loaded, or loading: a file, or a server's
    load_settings: LoadSettings = LoadSettings()
    loading: bool = False
    engine_loader: EngineLoader = staticmethod(real_engine_loader)  # tests pass a scripted one
    _in_use: InUse | None = None
    _remember: ModelChoice | None = None  # saved once the load under way succeeds
    sources: Sources  # set by the app
    config: Config  # set by the app

    def __init__(self) -> None:
        super().__init__()
        self._profile: HardwareProfile | None = None
        self._pool: tuple[RpcWorkerInfo, ...] = ()  # the RPC workers' memory, once they said it
        self._profile_lock = threading.Lock()
        self._beside: set[ChatEngine] = set()  # models loaded beside the app's (compare quants)
        self._beside_lock = threading.Lock()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification (widgets' and screens' ``notify`` come here) shows its text as
        text: never parsed as markup (a title or path may hold ``[/x]``), control characters
        inert (``localchat.safetext``)."""
        super().notify(for_terminal(message), title=one_line(title), severity=severity,
                       timeout=timeout, markup=False)

    def hardware_profile(self, *, ask_pool: bool = False) -> HardwareProfile:
        """The machine as the probe sees it, measured once per run (about 0.2 s: call it from a
        worker thread), with the RPC workers' memory when the model loads over a pool (``--rpc``,
        ``[rpc] workers``), so the setup screen and the model menu size for the pool as
        ``recommend --rpc`` does. A worker serves one client at a time, so the pool is asked
        before the first model loads over it (``ask_pool``: the load worker, once the old model
        has let go), or while no model holds it; until then, and if a worker cannot say, the
        profile is this machine's alone (and the chat says so)."""
        with self._profile_lock:
            if self._profile is None:
                self._profile = self.sources.probe()
            workers = self.config.rpc_workers
            if workers and not self._pool and (ask_pool or self._pool_free()):
                try:
                    self._pool = self.sources.pool(workers)
                except LocalChatError as exc:
                    self.notify(f"The model menu sizes for this machine alone: {exc}",
                                title="RPC workers", severity="warning", timeout=15)
            if self._pool:
                return dataclasses.replace(self._profile, rpc_workers=self._pool)
            return self._profile

    def _pool_free(self) -> bool:
        """No model of this app loads or runs over the RPC workers now."""
        return not (self.load_settings.rpc_workers and (self.loading or self.engine is not None))

    @property
    def loaded_file(self) -> str | None:
        """The GGUF file loaded (or loading); None for none, or a model on a server."""
        return self.model_path if isinstance(self.model_path, str) else None

    def switch_model(self, path: LoadTarget, settings: LoadSettings | None = None, *,
                     remember: ModelChoice | None = None) -> Worker[None]:
        """Unload the current model (after stopping a streaming reply) and load ``path``;
        ``remember``: saved as the model the next start opens once this load succeeds (a load
        that fails, or that a newer switch replaces, is not remembered)."""
        settings = self.pooled(path, settings or self.load_settings)
        reply_done = self.stop_replies()
        old, self.engine = self.engine, None
        self.model_path, self.load_settings, self.loading = path, settings, True
        self._remember = remember
        self.broadcast(lambda: ModelLoading(path))
        return self._load_worker(path, settings, old, reply_done)

    def pooled(self, path: LoadTarget, settings: LoadSettings) -> LoadSettings:
        """A model on this machine loads over the config's (or ``--rpc``'s) RPC workers."""
        if isinstance(path, RemoteModel) or settings.rpc_workers == self.config.rpc_workers:
            return settings
        return dataclasses.replace(settings, rpc_workers=self.config.rpc_workers)

    def prepare_load(self) -> None:
        """A load is likely soon (the app opens on a model, the model menu opened): the real
        engine starts its process now, so Python's start and llama_cpp's import are done by
        then (``engine.process.prestart``)."""
        if self.engine_loader is not real_engine_loader:
            return

        def start() -> None:
            from localchat.engine.spawn import prestart

            try:
                prestart()
            except OSError as exc:  # the load starts its own process instead
                self.log.warning(f"engine process not started ahead: {exc}")

        threading.Thread(target=start, name="engine-prestart", daemon=True).start()

    def reload_model(self) -> Worker[None] | None:
        """Load the current model again (after its process ended); None when there is none."""
        if self.model_path is None:
            return None
        return self.switch_model(self.model_path, self.load_settings)

    def stop_replies(self) -> list[threading.Event]:
        """Ask every screen streaming a reply to stop; returns events set once each has."""
        events = []
        for screen in self.screen_stack:
            stop_reply = getattr(screen, "stop_reply", None)  # ChatScreen.stop_reply
            if stop_reply is not None:
                events.append(stop_reply())
        return events

    def broadcast(self, make: Callable[[], Message]) -> None:
        """Post a fresh copy of a message to every screen in the stack (a message is delivered
        once, so each screen gets its own)."""
        for screen in self.screen_stack:
            screen.post_message(make())

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load_worker(self, path: LoadTarget, settings: LoadSettings, old: ChatEngine | None,
                     reply_done: list[threading.Event]) -> None:
        if old is not None:
            for done in reply_done:
                done.wait()  # the reply's own worker stores it as stopped, then lets go
            old.close()
            self.release_in_use()
        if settings.rpc_workers:  # while the workers are free: the menu sizes for the pool
            self.hardware_profile(ask_pool=True)
        engine = self.engine_loader(path, settings)  # slow: runs here, never on the UI thread
        if get_current_worker().is_cancelled:  # a newer switch_model (or quit) superseded it
            engine.close()
            return
        self._mark_in_use(path)
        self.post_message(ModelLoaded(engine, path, settings))
        self._calibrate(engine)

    def _calibrate(self, engine: ChatEngine) -> None:
        """Teach the recommender what llama.cpp really allocated for this model, so its next
        estimates for it (and its architecture) are closer. Best effort, after the model is shown."""
        info = engine.info
        if not getattr(info, "allocated_weights_bytes", 0):
            return  # a scripted engine, or a build that did not report its buffers
        try:
            gpus = self.hardware_profile().gpus if info.n_gpu_layers else []
            self.sources.calibration.record_from_info(info, gpu_backend=gpus[0].backend if gpus else None)
        except (LocalChatError, OSError, ValueError) as exc:
            self.log.warning(f"calibration skipped: {exc}")

    @contextmanager
    def model_beside(self, path: LoadTarget, settings: LoadSettings) -> Iterator[ChatEngine]:
        """A second model loaded beside the app's (compare quants; a server's model: its client),
        a file marked in use while it is open, closed at the end of the ``with`` (or when the
        app ends first). Call it from a worker thread: loading is slow. A local one runs on this
        machine alone: an RPC worker serves one client at a time, the app's model."""
        engine = self.engine_loader(path, dataclasses.replace(settings, rpc_workers=()))
        # `localchat rm` must not delete the file meanwhile
        marker = mark_in_use(path) if isinstance(path, str) else None
        with self._beside_lock:
            self._beside.add(engine)
        try:
            yield engine
        finally:
            with self._beside_lock:
                self._beside.discard(engine)
            engine.close()
            if marker is not None:
                marker.release()

    def _mark_in_use(self, path: LoadTarget) -> None:
        """So `localchat rm` refuses to delete the file while it is loaded here, and
        `localchat models` shows when it was last used. Runs in the load worker."""
        from localchat.download.inuse import register
        from localchat.download.store import touch_last_used

        self.release_in_use()
        if isinstance(path, RemoteModel):  # no file here
            return
        try:
            self._in_use = register(path)
            touch_last_used(path)
        except OSError as exc:  # a read-only cache folder must not stop the chat
            self.call_from_thread(self.notify, f"Could not mark the model in use: {exc}",
                                  severity="warning")

    def release_in_use(self) -> None:
        marker, self._in_use = self._in_use, None
        if marker is not None:
            marker.release()

    @on(ModelLoaded)
    def _model_loaded(self, event: ModelLoaded) -> None:
        if event.path != self.model_path or not self.loading:  # superseded meanwhile
            event.engine.close()
            return
        self.engine, self.loading = event.engine, False
        remember, self._remember = self._remember, None
        if remember is not None:
            self.remember_model(remember)
        self.broadcast(lambda: ModelLoaded(event.engine, event.path, event.settings))

    def remember_model(self, choice: ModelChoice) -> None:
        """Save ``choice`` as the model the next start opens (a warning when it cannot be)."""
        from localchat.options.choice import remember_model

        try:
            self.config = remember_model(self.config, choice)
        except (OSError, LocalChatError) as exc:
            self.notify(f"Could not save the model choice ({exc}); the next start asks again",
                        severity="warning", timeout=20)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A failed app worker (a load) becomes a notification."""
        failure = worker_failure(event)
        if failure is None:
            return
        if failure.group == "load":
            self.loading = False
            path = self.model_path or ""
            self.notify(failure.line("Could not load the model"), severity="error", timeout=60)
            self.broadcast(lambda: ModelLoadFailed(path, failure.error))
        else:
            self.notify(failure.line(), severity="error", timeout=20)

    def on_unmount(self) -> None:
        self.unload_model()  # the screens have stopped their replies by now
        with self._beside_lock:
            beside, self._beside = list(self._beside), set()
        for engine in beside:
            engine.close()
        if self.engine_loader is real_engine_loader:
            from localchat.engine.spawn import discard_spare

            discard_spare()

    def unload_model(self) -> None:
        """Close the engine (call with no reply streaming) and drop the in-use mark."""
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()
        self.release_in_use()


def mark_in_use(path: str) -> InUse | None:
    """Mark ``path`` in use by this process (``localchat rm`` refuses it); None when the marker
    cannot be written (a read-only cache folder must not stop the chat)."""
    from localchat.download.inuse import register

    try:
        return register(path)
    except OSError:
        return None
