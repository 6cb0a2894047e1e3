"""Importing TensorFlow quietly, and saying once which device it will use.

TensorFlow's C++ side writes straight to file descriptor 2 while it starts: oneDNN notes,
"Could not find cuda drivers", "failed call to cuInit: ... UNKNOWN ERROR (303)" on a machine
without a GPU. They alarm a user and say nothing useful, so unless debugging is asked for
(`--debug` on the command line, or LATENT_STUDIO_DEBUG=1):

- TF_CPP_MIN_LOG_LEVEL is 3 (only fatal errors) unless the user set it; that covers what
  TensorFlow logs after its logging is set up (cuInit, oneDNN's DT_INT32 note);
- the lines it writes before that, during `import tensorflow` (which ignores the level), are
  filtered out of file descriptor 2 while the import runs; any other output passes through;
- TensorFlow's and absl's Python loggers only show errors.

It also skips what `import tensorflow` does eagerly for Keras (importing keras.src.optimizers,
which pulls in all of Keras and matplotlib: about a second on a 2-core laptop, with the GIL held
much of it). Latent Studio does not use Keras; `tf.keras` still loads on first use.

`import_tensorflow()` is the one place the model code imports TensorFlow (core.musicvae.lazy_tf
calls it). No Qt here; nothing is printed unless `configure(announce=True)` asked for the
device line.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

DEBUG_ENV = "LATENT_STUDIO_DEBUG"

# "I0000 00:00:1796283317.671569    6078 port.cc:153] ..." (absl's prefix, info/warning/error)
# and the banner absl writes once before it is set up.
NATIVE_LOG_LINE = re.compile(rb"^(?:[IWE]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.\-]+:\d+\]"
                             rb"|WARNING: All log messages before absl::InitializeLog\(\))")

_state = {"announce": False, "announced": False}
_lock = threading.Lock()


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def configure(debug: bool | None = None, announce: bool = False) -> None:
    """Call before TensorFlow is imported (main.py does, first thing).

    debug: True shows everything TensorFlow writes (and sets LATENT_STUDIO_DEBUG=1 so child
    processes do the same); None reads LATENT_STUDIO_DEBUG.
    announce: print one line on stderr naming the device once TensorFlow is imported.
    """
    if debug:
        os.environ[DEBUG_ENV] = "1"
    if debug_enabled():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _state["announce"] = announce


def announcing() -> bool:
    """Whether configure() asked for the device line (a model process is told the same)."""
    return bool(_state["announce"])


@contextlib.contextmanager
def native_log_filtered(pattern=NATIVE_LOG_LINE):
    """While the block runs, lines written to file descriptor 2 that match `pattern` are dropped;
    every other line reaches the real stderr (from any thread), in order."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2 (a GUI bundle without a console)
        yield
        return
    read_end, write_end = os.pipe()

    def forward() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(read_end, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not pattern.match(line):
                    os.write(saved, line + b"\n")
        if pending and not pattern.match(pending):
            os.write(saved, pending)

    reader = threading.Thread(target=forward, name="tf-log-filter", daemon=True)
    reader.start()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)  # the pipe's last writer goes away: the reader sees its end
        reader.join(timeout=5)
        os.close(read_end)
        os.close(saved)


def quiet_python_loggers() -> None:
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass


# What tensorflow/__init__.py imports eagerly "so that Keras registers its optimizers"; a None
# entry in sys.modules makes that import fail at once (TensorFlow catches the ImportError).
KERAS_EAGER = ("keras.src.optimizers", "tf_keras.src.optimizers")


@contextlib.contextmanager
def keras_not_loaded_eagerly():
    blocked = [name for name in KERAS_EAGER if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def import_tensorflow():
    """TensorFlow, imported without its start-up chatter (see the module docstring)."""
    if _state.get("imported"):
        return sys.modules["tensorflow"]
    with _lock:  # a second caller waits here for the first import to finish
        if "tensorflow" in sys.modules:
            import tensorflow as tf
        elif debug_enabled():
            with keras_not_loaded_eagerly():
                import tensorflow as tf
        else:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            with native_log_filtered(), keras_not_loaded_eagerly():
                import tensorflow as tf
            quiet_python_loggers()
        _state["imported"] = True
        if _state["announce"] and not _state["announced"]:
            _state["announced"] = True
            print(f"Device: {device_line(tf)}", file=sys.stderr, flush=True)
    return tf


def device_line(tf) -> str:
    """'GPU: <name> (TensorFlow x.y)' or 'CPU (TensorFlow x.y sees no GPU)'."""
    try:
        gpus = tf.config.list_physical_devices("GPU")
    except Exception:  # noqa: BLE001 - a broken driver: the models still run on the CPU
        gpus = []
    if not gpus:
        return f"CPU, {os.cpu_count() or 1} cores (TensorFlow {tf.__version__} sees no GPU)"
    try:
        details = tf.config.experimental.get_device_details(gpus[0])
    except Exception:  # noqa: BLE001
        details = {}
    more = f" and {len(gpus) - 1} more" if len(gpus) > 1 else ""
    return f"GPU: {details.get('device_name') or gpus[0].name}{more} (TensorFlow {tf.__version__})"
