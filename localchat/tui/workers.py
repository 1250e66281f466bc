"""The one rule for a thread worker that failed: which state change is a failure, and the one
line the user reads about it.

A ``Worker.StateChanged`` message goes only to the node that ran the worker (it does not bubble),
so each screen with workers has its own handler; each asks ``worker_failure`` and shows
``failure.line(...)`` its own way (a notification, a line on the screen)::

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if failure := worker_failure(event, "menu-rows"):
            self.show_message(failure.line("Could not list the models"), error=True)
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.worker import Worker, WorkerState

from localchat.tui.words import error_text


@dataclass(frozen=True)
class WorkerFailure:
    """A worker ended with ``error`` (not cancelled: a cancelled worker did not fail)."""

    group: str
    error: BaseException

    def line(self, doing: str = "") -> str:
        """``<doing>: <the error in one line>``, or the error alone."""
        text = error_text(self.error)
        return f"{doing}: {text}" if doing else text


def worker_failure(event: Worker.StateChanged, *groups: str) -> WorkerFailure | None:
    """The failure ``event`` reports, when a worker (of one of ``groups``, if any are given)
    ended with an error; None for every other state change."""
    worker = event.worker
    if event.state != WorkerState.ERROR or worker.is_cancelled:
        return None
    if groups and worker.group not in groups:
        return None
    error = worker.error if worker.error is not None else RuntimeError("the worker failed")
    return WorkerFailure(worker.group, error)
