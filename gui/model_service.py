"""The Qt side of the models: which ones exist, which are loaded, and their jobs.

One ModelService per window owns the loaded MusicVAE objects and sends every model call to
the window's JobRunner (one worker thread, so TensorFlow work never overlaps). A model is
loaded the first time something asks for it, as a job of its own with a status message; the
request that needed it is queued right behind it. Results come back to the caller's
callbacks on the GUI thread; the service never touches a widget.

The model list comes from core.models (embedded + installed) when that package is there, else
from a scan of resources/models; `register` adds any other folder (tests use the Magenta
fixtures this way). The preference "models/force_cpu" (QSettings) keeps TensorFlow off the GPU.

The app (gui/app.py) turns on `use_model_process(True)`: models found on disk are then loaded
and run in a separate process (core/model_host.py), so importing TensorFlow, loading and
tracing never hold this process's GIL and the window never stalls for them; a job's function
and its arguments travel there pickled. A model registered with an already loaded object (tests)
runs in this process as before, and so does everything when the model process is off.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from core import generation
from core.model_host import ModelHost, RemoteModel
from gui.job_runner import WORKER_NICE, Job, JobRunner

FORCE_CPU_KEY = "models/force_cpu"
PRELOAD_KEY = "models/preload"  # load the Generate panel's model at start-up (default: yes)
_MODEL_PROCESS = {"on": False, "host": None}


def use_model_process(on: bool, start: bool = False) -> None:
    """Load models in a separate process from now on (the app does; see the module docstring).

    start: start that process now and have it import TensorFlow straight away; the next
    ModelService made takes it over (the app calls this before it builds the window)."""
    _MODEL_PROCESS["on"] = bool(on)
    if on and start:
        host = ModelHost(nice=WORKER_NICE)
        host.start(warm=True)
        _MODEL_PROCESS["host"] = host


@dataclass
class ModelInfo:
    name: str
    config: str | None  # None: the folder's model.json says
    path: str
    origin: str = "embedded"  # embedded / installed / folder
    kind: str | None = None  # melody / drums / trio when known before loading
    summary: str = ""


def _kind_of(config: str | None, path: str) -> str | None:
    try:
        if config:
            from core.musicvae.configs import get_config

            return get_config(config).data
        import json

        with open(os.path.join(path, "model.json"), encoding="utf-8") as f:
            return (json.load(f).get("config") or {}).get("data")
    except Exception:  # noqa: BLE001 - unknown until loaded
        return None


def discover_models() -> list[ModelInfo]:
    """Embedded and installed models, from core.models' catalogue."""
    from core.models import catalogue

    try:
        entries = catalogue.models_by_name()  # the same name lookup as --model NAME
    except Exception:  # noqa: BLE001 - a broken catalogue must not hide the panel
        entries = []
    return [ModelInfo(e.name, None, e.path, e.origin, _kind_of(None, e.path), e.summary)
            for e in entries if not e.problem and e.path and not getattr(e, "is_sequence", False)]


def settle_memory() -> None:
    """Exempt everything alive now (TensorFlow, the model) from Python's cyclic garbage collector.

    With TensorFlow loaded there are millions of long-lived objects; a full collection walks
    them all with the GIL held, and a job that creates many notes triggers several, each
    stalling the GUI thread by a few hundred milliseconds (measured with
    benchmarks/bench_gui_stall.py). Frozen objects are simply skipped by later collections.
    """
    gc.freeze()


class ModelService(QObject):
    models_changed = Signal()
    model_loaded = Signal(str)  # model name
    device_changed = Signal(str)  # "CPU" or "GPU: <name>"

    def __init__(self, runner: JobRunner, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.settings = settings if settings is not None else QSettings()
        self._infos: dict[str, ModelInfo] = {}
        self._models: dict[str, object] = {}
        self._loading: dict[str, list[tuple[Callable, Callable | None]]] = {}
        self._attributes: dict[str, dict] = {}
        self.host = None  # core.model_host.ModelHost once a model is loaded in its own process
        self.device_text = "CPU" if self.force_cpu else "not loaded"
        self.refresh()

    # ------------------------------------------------------------------ the list
    def refresh(self) -> None:
        registered = {k: v for k, v in self._infos.items() if v.origin == "folder"}
        self._infos = {m.name: m for m in discover_models()}
        self._infos.update(registered)
        self.models_changed.emit()

    def register(self, name: str, config: str | None, path: str, kind: str | None = None,
                 model=None) -> ModelInfo:
        """Offer a model from any folder or checkpoint (tests, or "Add model folder...").

        `model`: an already loaded MusicVAE for it (skips the load job).
        """
        info = ModelInfo(name, config, path, "folder", kind or _kind_of(config, path))
        self._infos[name] = info
        if model is not None:
            self._models[name] = model
            settle_memory()
            self.device_text = generation.describe_device(model)
            self.device_changed.emit(self.device_text)
        self.models_changed.emit()
        return info

    def infos(self) -> list[ModelInfo]:
        return list(self._infos.values())

    def info(self, name: str) -> ModelInfo:
        return self._infos[name]

    # ------------------------------------------------------------------ device
    @property
    def force_cpu(self) -> bool:
        value = self.settings.value(FORCE_CPU_KEY, False)
        return value in (True, "true", "1", 1)

    def set_force_cpu(self, on: bool) -> None:
        """Change the preference; loaded models are dropped so the next use loads them there."""
        if on == self.force_cpu:
            return
        self.settings.setValue(FORCE_CPU_KEY, bool(on))
        self._models.clear()
        self._attributes.clear()
        self.device_text = "CPU" if on else "not loaded"
        self.device_changed.emit(self.device_text)

    # ------------------------------------------------------------------ loading
    def is_loaded(self, name: str) -> bool:
        return name in self._models

    def model(self, name: str):
        return self._models.get(name)

    def with_model(self, name: str, then: Callable, on_fail: Callable | None = None) -> None:
        """Call then(model) on the GUI thread once the model is loaded (loading it if needed)."""
        if name in self._models:
            then(self._models[name])
            return
        if name not in self._infos:
            raise KeyError(name)
        waiting = self._loading.get(name)
        if waiting is not None:
            waiting.append((then, on_fail))
            return
        self._loading[name] = [(then, on_fail)]
        info = self._infos[name]
        device = "cpu" if self.force_cpu else None
        host = self._host()

        def load_job(token):
            if host is not None:
                remote = host.load(token, name, info.config, info.path, device)
                return remote, remote.device_text
            model = generation.load(token, info.config, info.path, name, device)
            return model, generation.describe_device(model)

        def done(result):
            model, device_text = result
            self._models[name] = model
            settle_memory()
            self.device_text = device_text
            self.device_changed.emit(device_text)
            self.model_loaded.emit(name)
            for cb, _ in self._loading.pop(name, []):
                cb(model)

        def failed(*_args):
            for _, fail in self._loading.pop(name, []):
                if fail is not None:
                    fail()

        self.runner.submit(load_job, on_done=done, on_error=lambda m, d: failed(),
                           on_cancel=failed, description=f"Loading model {name}")

    def _host(self):
        """The model process's handle when models run there, else None."""
        if not _MODEL_PROCESS["on"]:
            return None
        if self.host is None:
            self.host, _MODEL_PROCESS["host"] = _MODEL_PROCESS["host"], None  # started early by the app
            if self.host is None:
                self.host = ModelHost(nice=WORKER_NICE)
        return self.host

    def close(self) -> None:
        """End the model process (the app calls this as it quits)."""
        if self.host is not None:
            self.host.close()

    def preload(self, name: str | None) -> bool:
        """Start loading a model now (TensorFlow's import included), behind the open window, so
        the first Generate only waits for what is left of it. False when there is nothing to do:
        no such model, already loaded or loading, or the preference "models/preload" is off."""
        if not name or name not in self._infos or name in self._models or name in self._loading:
            return False
        if self.settings.value(PRELOAD_KEY, True) in (False, "false", "0", 0):
            return False
        self.with_model(name, lambda _model: None)
        return True

    # ------------------------------------------------------------------ jobs
    def run(self, name: str, fn: Callable, *args, on_done: Callable, description: str,
            on_finish: Callable | None = None, **kwargs) -> None:
        """Run fn(token, model, *args, **kwargs) as a job; on_done(result) on the GUI thread.

        on_finish (no arguments) is called however the job ends (done, failed, cancelled), so a
        caller can re-enable its buttons.
        """
        def submit(model):
            def done(result):
                try:
                    on_done(result)
                finally:
                    if on_finish:
                        on_finish()

            call, head = self.job_call(model, fn)
            self.last_job: Job = self.runner.submit(
                call, *head, *args, on_done=done, description=description,
                on_error=lambda m, d: on_finish and on_finish(),
                on_cancel=lambda: on_finish and on_finish(), **kwargs)

        self.with_model(name, submit, on_fail=on_finish)

    def job_call(self, model, fn: Callable) -> tuple[Callable, tuple]:
        """(callable, leading arguments) that run fn(token, model, ...) where the model lives: in
        the model process for a model loaded there, else here. For callers that submit to the
        JobRunner themselves (a dialog that keeps its Job to cancel it or end it early):
        runner.submit(call, *head, *args, on_done=...)."""
        if self.host is None or not isinstance(model, RemoteModel):
            return fn, (model,)
        return self.host.run, (model, fn)

    def submit(self, fn: Callable, *args, on_done: Callable | None = None, description: str = "",
               **kwargs) -> Job:
        """Run fn(token, *args) as a job that needs no loaded model but may use TensorFlow
        (installing a checkpoint): in the model process when models run there. on_error and
        on_cancel pass on to the JobRunner; returns the Job (its token cancels it)."""
        host = self._host()
        if host is None:
            return self.runner.submit(fn, *args, on_done=on_done, description=description, **kwargs)
        return self.runner.submit(host.call, fn, *args, on_done=on_done, description=description, **kwargs)

    def attributes(self, name: str, then: Callable[[dict], None], on_finish: Callable | None = None,
                   samples: int | None = None) -> None:
        """then(vectors) once the model's attribute vectors are known (computed or from the cache)."""
        if name in self._attributes:
            then(self._attributes[name])
            if on_finish:
                on_finish()
            return
        from core import attributes

        def store(vectors):
            self._attributes[name] = vectors
            then(vectors)

        n = samples or attributes.DEFAULT_SAMPLES
        self.run(name, attributes.load_or_compute, None, n, on_done=store, on_finish=on_finish,
                 description=f"Measuring the attributes of {name}")

    def cached_attributes(self, name: str) -> dict | None:
        return self._attributes.get(name)
