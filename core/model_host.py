"""A separate process that holds the loaded models and runs model jobs for the window.

Importing TensorFlow, loading weights and tracing the first graph hold Python's GIL for up
to a second at a time; done in a thread of the window's process they freeze the window just as
long (benchmarks/bench_startup.py measured 0.5 to 1.4 s). In a child process they cannot: the
window's job thread only waits on a pipe. So the app loads its models here:

    host = ModelHost()
    model = host.load(token, "mel_2bar", None, path)          # a RemoteModel: name, kind, config
    clips = host.run(token, model, generation.sample, 8, 0.5, None)

Both calls block (call them from a job); progress, cancel and "finish early" go through the
job's token and reach the child's own token. A job function is any module-level function
`fn(token, model, *args)`: it and its arguments and result travel pickled. The child starts on
first use (`start()` starts it early), runs at a lower CPU priority, and ends with the parent
(or `close()`). When it dies, the next call starts a new one and loads the model there again.

No Qt here (core/): the GUI side is gui/model_service.py.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field

from core.errors import JobCancelled, UserError

POLL_S = 0.05  # how often a waiting call looks at its token for a cancel
# A job checks its token at least every quarter second (core/generation.py decodes in chunks),
# but importing TensorFlow or reading weights cannot stop half-way: a cancel not answered within
# this long ends the process instead (the next job starts a fresh one).
CANCEL_GRACE_S = 1.0


class ModelProcessError(UserError):
    """The model process stopped, or a job failed there with an error that could not be sent."""


@dataclass
class RemoteModel:
    """What the window knows of a model that lives in the model process."""

    name: str
    config: object  # the model's MusicVAEConfig
    kind: str
    z_size: int
    device: str
    device_text: str  # "CPU" / "GPU: <name>" for the status bar
    load_args: tuple = field(default=(), repr=False)  # (config, path, device) to load it again

    def __str__(self) -> str:
        return f"{self.name} (in the model process, on {self.device})"


# ------------------------------------------------------------------ the child's side
def _describe(exc: BaseException) -> tuple[BaseException | None, str]:
    """The exception if it pickles (so the window shows the same message), and its traceback."""
    import pickle

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        pickle.loads(pickle.dumps(exc))
        exc.__traceback__ = None
        return exc, text
    except Exception:  # noqa: BLE001 - e.g. an exception holding a TensorFlow object
        return None, text


def serve(conn, nice: int = 0, announce: bool = False) -> None:
    """The model process: load models and run jobs as the parent asks, one at a time.
    announce: say on stderr which device it uses once TensorFlow is imported (core.tf_setup)."""
    import signal

    from core import tf_setup

    # Ctrl+C in the terminal reaches the whole process group: the window decides when this
    # process ends (it closes the pipe), so it neither dies half-way nor prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tf_setup.configure(announce=announce)
    if nice:
        try:
            os.nice(nice)  # the window's process keeps the upper hand for the CPU
        except OSError:
            pass
    from core import generation
    from core.jobs import JobToken

    models: dict[str, object] = {}
    inbox: "queue.Queue" = queue.Queue()
    current: dict = {}  # job id -> token of the job now running
    send_lock = threading.Lock()

    def send(*msg) -> None:
        with send_lock:
            conn.send(msg)

    def read() -> None:  # a cancel must land while a job runs, so the pipe is read here
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                inbox.put(None)
                return
            if msg[0] in ("cancel", "finish"):
                token = current.get(msg[1])
                if token is not None:
                    token.cancel() if msg[0] == "cancel" else token.finish_early()
            else:
                inbox.put(msg)

    threading.Thread(target=read, name="model-host-reader", daemon=True).start()

    def ensure(token, name, load_args):
        if name not in models:
            config, path, device = load_args
            models[name] = generation.load(token, config, path, name, device)
        return models[name]

    while True:
        msg = inbox.get()
        if msg is None:  # the parent went away
            return
        op, job_id = msg[0], msg[1]
        token = JobToken(lambda f, m, j=job_id: send("progress", j, f, m))
        current[job_id] = token
        try:
            if op == "load":
                _, _, name, load_args = msg
                models.pop(name, None)
                model = ensure(token, name, load_args)
                result = RemoteModel(name, model.config, model.kind, int(model.z_size),
                                     str(getattr(model, "device", "")), generation.describe_device(model),
                                     tuple(load_args))
            elif op == "run":
                _, _, name, load_args, fn, args, kwargs = msg
                result = fn(token, ensure(token, name, load_args), *args, **kwargs)
            elif op == "warm":  # import what every load needs while the window is being built
                from core.musicvae import model as _model  # noqa: F401
                from core.tf_setup import import_tensorflow

                import_tensorflow()
                result = None
            elif op == "call":
                _, _, fn, args, kwargs = msg
                result = fn(token, *args, **kwargs)
            elif op == "drop":
                for name in msg[2] if msg[2] is not None else list(models):
                    models.pop(name, None)
                result = None
            else:
                raise ValueError(f"unknown request {op!r}")
            send("done", job_id, result)
        except JobCancelled:
            send("cancelled", job_id)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the window
            error, text = _describe(exc)
            try:
                send("failed", job_id, error, text)
            except Exception:  # noqa: BLE001 - the exception pickled but did not send
                send("failed", job_id, None, text)
        finally:
            current.pop(job_id, None)


# ------------------------------------------------------------------ the parent's side
class ModelHost:
    """The parent's handle on the model process (see the module docstring). Thread-safe: calls
    from several threads are served one after another."""

    def __init__(self, nice: int = 10):
        self.nice = nice
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self, warm: bool = False) -> None:
        """Start the process now. warm: have it import TensorFlow and the model code straight
        away (the app does this before it builds the window, so the import runs alongside);
        a load asked for meanwhile waits its turn behind it."""
        with self._lock:
            self._start_locked()
            if warm:
                try:
                    self._conn.send(("warm", 0))  # its answer (job 0) is skipped by _call
                except (OSError, ValueError):
                    pass

    def _start_locked(self) -> None:
        if self.running:
            return
        self._stop_locked()
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs Qt threads
        parent, child = ctx.Pipe()
        from core import tf_setup

        process = ctx.Process(target=serve, args=(child, self.nice, tf_setup.announcing()),
                              name="latent-studio-models",
                              daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent

    def close(self, timeout: float = 2.0) -> None:
        """End the process (a job running there is abandoned: its call raises at once)."""
        if self._lock.acquire(timeout=0.1):
            try:
                self._stop_locked(timeout)
            finally:
                self._lock.release()
            return
        process = self._process  # a call is waiting on it: ending the process ends the call
        if process is not None and process.is_alive():
            process.kill()

    def _stop_locked(self, timeout: float = 2.0) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # the child sees the end of its pipe and returns
            except OSError:
                pass
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout)
        self._process = self._conn = None

    # ---------------------------------------------------------------- calls (blocking)
    def load(self, token, name: str, config: str | None, path: str, device: str | None = None) -> RemoteModel:
        """Load (or load again) a model in the process; what the window needs to know of it."""
        return self._call(token, "load", name, (config, path, device))

    def run(self, token, model: RemoteModel, fn, *args, **kwargs):
        """fn(token, <the real model>, *args, **kwargs) in the process; its result."""
        return self._call(token, "run", model.name, model.load_args, fn, args, kwargs)

    def call(self, token, fn, *args, **kwargs):
        """fn(token, *args, **kwargs) in the process, for model work without a loaded model
        (installing a checkpoint reads it with TensorFlow); its result."""
        return self._call(token, "call", fn, args, kwargs)

    def drop(self, names: list[str] | None = None) -> None:
        """Forget loaded models (all when names is None); nothing to do when the process is not running."""
        if not self.running:
            return
        from core.jobs import JobToken

        self._call(JobToken(), "drop", names)

    def _call(self, token, op: str, *payload):
        with self._lock:
            self._start_locked()
            job_id = next(self._ids)
            conn = self._conn
            try:
                conn.send((op, job_id) + payload)
            except (OSError, ValueError) as exc:
                self._stop_locked()
                raise ModelProcessError(f"could not send the job to the model process: {exc}") from None
            asked_to_stop = None  # when the cancel was passed on
            asked_to_finish = False
            while True:
                if not asked_to_finish and getattr(token, "finish_requested", False):
                    asked_to_finish = True  # "good enough": the job ends early and keeps its result
                    conn.send(("finish", job_id))
                if token.cancelled and asked_to_stop is None:
                    asked_to_stop = time.monotonic()
                    conn.send(("cancel", job_id))
                elif asked_to_stop is not None and time.monotonic() - asked_to_stop > CANCEL_GRACE_S:
                    self._stop_locked(0.5)
                    raise JobCancelled()
                try:
                    if not conn.poll(POLL_S):
                        if not self._process.is_alive():
                            raise EOFError
                        continue
                    msg = conn.recv()
                except (EOFError, OSError):
                    code = self._process.exitcode if self._process is not None else None
                    self._stop_locked()
                    if asked_to_stop is not None:
                        raise JobCancelled() from None
                    raise ModelProcessError(
                        f"the model process stopped unexpectedly (exit code {code}); "
                        "the next model job starts it again") from None
                kind, msg_id = msg[0], msg[1]
                if msg_id != job_id:
                    continue  # a late report of an earlier, abandoned job
                if kind == "progress":
                    try:
                        token.progress(msg[2], msg[3])
                    except JobCancelled:
                        pass  # the loop above passes the cancel on and waits for the child
                elif kind == "done":
                    return msg[2]
                elif kind == "cancelled":
                    raise JobCancelled()
                elif kind == "failed":
                    error, text = msg[2], msg[3]
                    if error is not None:
                        if isinstance(error, UserError) and not error.detail:
                            error.detail = text
                        raise error
                    raise ModelProcessError("a model job failed in the model process", detail=text)
