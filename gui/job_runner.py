"""Run core Jobs on one worker thread and report back through Qt signals.

A Job is a plain callable whose first argument is a `core.jobs.JobToken` (docs/architecture.md). The
runner owns a single worker thread; submitted jobs wait in a queue and run one at a time.
The worker only calls the job and puts messages on Qt signals; it never touches a widget.
Every callback (`on_done`, `on_error`, `on_cancel`) runs later on the thread that owns the
runner (the GUI thread), through queued signal connections.

Signals (all delivered on the GUI thread):
    started(description)          a job began running
    progress(fraction, message)   the running job reported progress (throttled)
    finished(description)         a job returned; its on_done has been called
    failed(message, detail)       a job raised; message is readable, detail is the traceback
    cancelled(description)        a job was cancelled; its result (if any) is dropped
    busy_changed(bool)            True while a job runs or waits, False when all is done

`failed` always fires for a failed job, so one place (the main window) can show the error
dialog; `on_error` is for the caller's own clean-up (re-enable a button and so on).

The worker runs at a lower CPU priority (nice WORKER_NICE, Linux): TensorFlow's compute
threads are created from it and inherit that priority, so when they keep the cores busy the
GUI thread is still picked first. benchmarks/bench_gui_stall.py showed that the long stalls
while a big model decodes on a CPU are the GUI thread waiting for a free core, not for the GIL
(the worker itself runs almost no Python then); with the worker niced the GUI thread waited
less than half as long in all, at the same decoding speed. Stalls that remain come from other
programs keeping every core busy, which no priority inside this process can change.
"""
from __future__ import annotations

import itertools
import os
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal

from core.errors import JobCancelled, UserError
from core.jobs import JobToken

# The worker emits at most one progress signal per interval (plus the first and the last),
# so a job that reports in a tight loop cannot flood the GUI thread's event queue.
PROGRESS_INTERVAL_S = 0.03

# How much nicer than the GUI the worker (and every thread it starts) runs; 0 leaves it alone.
WORKER_NICE = 10

_ids = itertools.count(1)


def lower_thread_priority(nice: int, native_id: int | None = None) -> bool:
    """Make one thread (default: the calling one) nicer by `nice`; True when it worked.

    Linux keeps a nice value per thread and threads inherit it from the thread that starts
    them. Elsewhere `setpriority` would change the whole process, so this does nothing there.
    Raising the nice value needs no privileges; it cannot be undone without them.
    """
    if nice <= 0 or not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    tid = native_id if native_id is not None else threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + nice))
        return True
    except OSError:
        return False


@dataclass
class Job:
    """One submitted piece of work. `token` is the job's cancel/progress token."""

    fn: Callable
    args: tuple
    kwargs: dict
    description: str
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[str, str], None] | None = None
    on_cancel: Callable[[], None] | None = None
    id: int = field(default_factory=lambda: next(_ids))
    token: JobToken = field(default_factory=JobToken)

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


def describe_error(exc: BaseException, description: str) -> tuple[str, str]:
    """A readable message and a technical detail for an exception raised by a job."""
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, UserError):
        if exc.detail:
            detail = exc.detail + "\n\n" + detail
        return exc.message, detail
    what = description or "the job"
    return f"Something went wrong while {what.lower()}: {exc or type(exc).__name__}", detail


class _Bridge(QObject):
    """Carries the worker's reports to the GUI thread (it lives there; emits are queued)."""

    job_started = Signal(object)
    job_progress = Signal(object, float, str)
    job_done = Signal(object, object)
    job_failed = Signal(object, str, str)
    job_cancelled = Signal(object)


class _Worker:
    """The worker thread: takes jobs from the queue and runs them, one at a time.

    A daemon Python thread rather than a QThread: a job still running when the interpreter
    exits (a model that ignores cancel) must not abort the process on the way out.
    """

    def __init__(self, jobs: "queue.Queue[Job | None]", bridge: _Bridge):
        self._jobs = jobs
        self._bridge = bridge
        self._thread = threading.Thread(target=self.run, name="latent-studio-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_ms: int) -> bool:
        self._thread.join(timeout_ms / 1000.0)
        return not self._thread.is_alive()

    def _emit(self, name: str, *args) -> None:
        try:
            getattr(self._bridge, name).emit(*args)
        except RuntimeError:
            pass  # the runner was deleted while a job still ran: nobody is listening

    def run(self) -> None:
        lower_thread_priority(WORKER_NICE)  # before any job starts TensorFlow's threads
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.cancelled:
                self._emit("job_cancelled", job)
                continue
            self._run_one(job)

    def _run_one(self, job: Job) -> None:
        last = [0.0]

        def report(fraction: float, message: str) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                self._emit("job_progress", job, fraction, message)

        # The token was made at submit time (so a waiting job can be cancelled); its
        # progress callback is attached here, on the worker, where it is called from.
        job.token.report_to(report)
        self._emit("job_started", job)
        try:
            result = job.fn(job.token, *job.args, **job.kwargs)
        except JobCancelled:
            self._emit("job_cancelled", job)
            return
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the user
            if job.cancelled:
                self._emit("job_cancelled", job)
                return
            message, detail = describe_error(exc, job.description)
            self._emit("job_failed", job, message, detail)
            return
        if job.cancelled:
            # The job finished without noticing the cancel: its result is not wanted.
            self._emit("job_cancelled", job)
        else:
            self._emit("job_done", job, result)


class JobRunner(QObject):
    """Runs jobs one at a time on a worker thread; see the module docstring."""

    started = Signal(str)
    progress = Signal(float, str)
    finished = Signal(str)
    failed = Signal(str, str)
    cancelled = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._queue: "queue.Queue[Job | None]" = queue.Queue()
        self._pending: list[Job] = []  # submitted and not yet reported back, in order
        self._current: Job | None = None
        self._bridge = _Bridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.job_started.connect(self._on_started, queued)
        self._bridge.job_progress.connect(self._on_progress, queued)
        self._bridge.job_done.connect(self._on_done, queued)
        self._bridge.job_failed.connect(self._on_failed, queued)
        self._bridge.job_cancelled.connect(self._on_cancelled, queued)
        self._worker = _Worker(self._queue, self._bridge)
        self._worker.start()
        self._shut = False

    # ----------------------------------------------------------------- public API
    def submit(self, fn: Callable, *args, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[str, str], None] | None = None,
               on_cancel: Callable[[], None] | None = None, description: str = "",
               **kwargs) -> Job:
        """Queue `fn(token, *args, **kwargs)`; returns the Job (its token can cancel it)."""
        if self._shut:
            raise RuntimeError("the job runner has been shut down")
        job = Job(fn, args, kwargs, description or getattr(fn, "__name__", "job"),
                  on_done, on_error, on_cancel)
        was_busy = self.is_busy()
        self._pending.append(job)
        self._queue.put(job)
        if not was_busy:
            self.busy_changed.emit(True)
        return job

    def is_busy(self) -> bool:
        return bool(self._pending)

    @property
    def current(self) -> Job | None:
        """The job running now (None between jobs)."""
        return self._current

    def cancel(self, job: Job | None = None) -> None:
        """Cancel one job (default: the running one, else the next waiting one)."""
        if job is None:
            job = self._current or (self._pending[0] if self._pending else None)
        if job is not None:
            job.token.cancel()

    def cancel_all(self) -> None:
        for job in list(self._pending):
            job.token.cancel()

    def shutdown(self, wait_ms: int = 5000) -> bool:
        """Cancel everything and stop the worker; True when it stopped in time."""
        if self._shut:
            return True
        self._shut = True
        self.cancel_all()
        self._queue.put(None)
        return self._worker.wait(wait_ms)

    # ----------------------------------------------------------------- worker reports (GUI thread)
    def _on_started(self, job: Job) -> None:
        self._current = job
        self.started.emit(job.description)
        self.progress.emit(0.0, job.description)

    def _on_progress(self, job: Job, fraction: float, message: str) -> None:
        if job is self._current and not job.cancelled:
            self.progress.emit(fraction, message or job.description)

    def _on_done(self, job: Job, result: Any) -> None:
        try:
            if job.cancelled:  # cancelled while the result was on its way
                self._finish_cancelled(job)
                return
            if job.on_done is not None:
                try:
                    job.on_done(result)
                except Exception as exc:  # a failing callback is reported like a failing job
                    message, detail = describe_error(exc, job.description)
                    self.failed.emit(message, detail)
                    return
            self.finished.emit(job.description)
        finally:
            self._retire(job)

    def _on_failed(self, job: Job, message: str, detail: str) -> None:
        try:
            if job.on_error is not None:
                job.on_error(message, detail)
            self.failed.emit(message, detail)
        finally:
            self._retire(job)

    def _on_cancelled(self, job: Job) -> None:
        try:
            self._finish_cancelled(job)
        finally:
            self._retire(job)

    def _finish_cancelled(self, job: Job) -> None:
        if job.on_cancel is not None:
            job.on_cancel()
        self.cancelled.emit(job.description)

    def _retire(self, job: Job) -> None:
        if job is self._current:
            self._current = None
        if job in self._pending:
            self._pending.remove(job)
            if not self._pending:
                self.busy_changed.emit(False)
