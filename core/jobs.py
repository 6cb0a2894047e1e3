"""Long work as a Job: a plain callable that receives a token.

    def my_job(token, ...):
        for i in range(n):
            token.check()                       # raises JobCancelled once cancelled
            token.progress(i / n, "step %d" % i)

The GUI runs jobs on a worker thread and turns token updates into Qt signals; the CLI
prints them. The token is thread-safe and Qt-free.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from core.errors import JobCancelled


class JobToken:
    def __init__(self, on_progress: Callable[[float, str], None] | None = None):
        self._cancel = threading.Event()
        self._finish = threading.Event()
        self._on_progress = on_progress
        self.fraction = 0.0
        self.message = ""
        self.started = time.monotonic()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def finish_early(self) -> None:
        """Ask the job to end soon and return what it has so far ("good enough, stop now").
        Only jobs that can stop half-way with a useful result look at it (training); the others
        run on. Unlike cancel, the job's result is kept."""
        self._finish.set()

    @property
    def finish_requested(self) -> bool:
        return self._finish.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()

    def report_to(self, on_progress: Callable[[float, str], None] | None) -> None:
        """Send progress to this callback from now on (set where progress is reported from)."""
        self._on_progress = on_progress

    def progress(self, fraction: float, message: str = "") -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.message = message
        if self._on_progress is not None:
            self._on_progress(self.fraction, message)
        self.check()

    def eta_seconds(self) -> float | None:
        if self.fraction <= 0:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed * (1 - self.fraction) / self.fraction


def run_job(fn: Callable, *args, on_progress=None, **kwargs):
    """Run a job in this thread with a fresh token (used by the CLI and tests)."""
    token = JobToken(on_progress)
    return fn(token, *args, **kwargs)
