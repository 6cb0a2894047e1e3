"""What models there are: embedded, installed, official (downloadable), and the device.

All listing functions read small JSON files only; none imports TensorFlow. `device_description`
does, because only TensorFlow can say which GPU it will use.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from dataclasses import dataclass

from core import paths
from core.command_name import command_name
from core.errors import UserError

DEFAULT_BASE_URL = "https://storage.googleapis.com/magentadata/models/music_vae/checkpoints"
URL_ENV = "LATENT_STUDIO_MODEL_URL"


@dataclass(frozen=True)
class OfficialModel:
    """A checkpoint Magenta published at <base>/<name>.tar."""

    name: str
    config: str | None  # the engine config it loads with; None: the engine cannot run it yet
    description: str
    note: str = ""


OFFICIAL: tuple[OfficialModel, ...] = (
    OfficialModel("cat-mel_2bar_big", "cat-mel_2bar_big", "2-bar melodies, big model"),
    OfficialModel("cat-mel_2bar_small", "cat-mel_2bar_small", "2-bar melodies, small model"),
    OfficialModel("hierdec-mel_16bar", "hierdec-mel_16bar", "16-bar melodies, hierarchical decoder"),
    OfficialModel("hierdec-trio_16bar", "hierdec-trio_16bar", "16-bar trios: melody, bass, drums"),
    OfficialModel("cat-drums_2bar_small.lokl", "cat-drums_2bar_small",
                  "2-bar drums, 9 classes, low KL: more realistic samples"),
    OfficialModel("cat-drums_2bar_small.hikl", "cat-drums_2bar_small",
                  "2-bar drums, 9 classes, high KL: closer reconstructions"),
    OfficialModel("groovae_2bar_humanize", None, "GrooVAE: add velocity and timing to 2-bar drums",
                  note="GrooVAE models are not supported by this engine yet"),
    OfficialModel("groovae_4bar", None, "GrooVAE: 4-bar drum performances",
                  note="GrooVAE models are not supported by this engine yet"),
)


@dataclass
class ModelEntry:
    """One line of the catalogue."""

    name: str
    origin: str  # "embedded", "installed" or "official"
    config: str | None = None
    path: str | None = None  # folder on disk (embedded / installed)
    url: str | None = None  # official download address
    size_bytes: int | None = None  # on disk, or for official models the float32 weights
    sizes: str = ""  # "enc 2048 / dec 2048x3 / z 512"
    summary: str = ""
    supported: bool = True
    installed: bool = False  # official models: already in the installed folder
    problem: str = ""  # why a model on disk cannot be used
    kind: str = "musicvae"  # "musicvae", or "sequence" (continue / infill: core/seq/)

    @property
    def is_sequence(self) -> bool:
        return self.kind == "sequence"


# ------------------------------------------------------------------ places
def embedded_dir() -> str:
    return os.path.join(str(paths.resources_dir()), "models")


def installed_dir(create: bool = True) -> str:
    folder = os.path.join(str(paths.data_dir()), "models")
    if create:
        os.makedirs(folder, exist_ok=True)
    return folder


def downloads_dir() -> str:
    folder = os.path.join(str(paths.data_dir()), "downloads")
    os.makedirs(folder, exist_ok=True)
    return folder


def base_url(override: str | None = None) -> str:
    """Where official checkpoints are downloaded from: the argument, $LATENT_STUDIO_MODEL_URL, or Magenta's."""
    return (override or os.environ.get(URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def official_url(name: str, base: str | None = None) -> str:
    from urllib.parse import quote

    return f"{base_url(base)}/{quote(name)}.tar"


# ------------------------------------------------------------------ helpers
def layer_sizes(cfg: dict) -> str:
    def fmt(sizes):
        sizes = list(sizes or [])
        if sizes and all(s == sizes[0] for s in sizes):
            return f"{sizes[0]}x{len(sizes)}" if len(sizes) > 1 else str(sizes[0])
        return "+".join(str(s) for s in sizes)

    return f"enc {fmt(cfg.get('enc_rnn_size'))} / dec {fmt(cfg.get('dec_rnn_size'))} / z {cfg.get('z_size')}"


SEQ_FORMAT = "latent-studio-seq"  # core/seq/model.py (not imported here: it needs no TensorFlow, but keep listings light)


def seq_sizes(cfg: dict) -> str:
    """"transformer 4x128 (4 heads), window 512" / "lstm 2x256" for a sequence model's config."""
    if cfg.get("arch") == "transformer":
        return (f"transformer {cfg.get('layers')}x{cfg.get('d_model')} ({cfg.get('heads')} heads), "
                f"window {cfg.get('max_len')}")
    return f"{cfg.get('arch')} {cfg.get('layers')}x{cfg.get('units')}"


def folder_size(folder: str) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def card_summary(card: dict) -> str:
    """One line from a model card: its summary (or description) and a few headline numbers."""
    parts = []
    text = card.get("summary") or card.get("description")
    if isinstance(text, str) and text.strip():
        parts.append(text.strip().splitlines()[0])
    for key in ("steps", "training_steps"):
        if isinstance(card.get(key), (int, float)):
            parts.append(f"{card[key]:g} steps")
            break
    held = card.get("held_out") or card.get("evaluation") or card.get("metrics")
    if isinstance(held, dict):
        for key, label in (("free_running_accuracy", "free-running acc"),
                           ("teacher_forced_accuracy", "teacher-forced acc")):
            if isinstance(held.get(key), (int, float)):
                parts.append(f"{label} {held[key]:.3f}")
    return "; ".join(parts)


def _entry_from_folder(folder: str, origin: str) -> ModelEntry:
    name = os.path.basename(folder)
    entry = ModelEntry(name, origin, path=folder, size_bytes=folder_size(folder))
    meta_path = os.path.join(folder, "model.json")
    try:
        meta = _read_json(meta_path)
        cfg = meta.get("config") or {}
        if not isinstance(cfg, dict):
            raise ValueError("its config is not a JSON object")
        if meta.get("format") == SEQ_FORMAT:
            entry.kind = "sequence"
            entry.sizes = seq_sizes(cfg)
            entry.summary = "continues clips and rewrites chosen bars"
        else:
            entry.config = cfg.get("name") if isinstance(cfg.get("name"), str) else None
            entry.sizes = layer_sizes(cfg)
            entry.summary = cfg.get("description") if isinstance(cfg.get("description"), str) else ""
    except FileNotFoundError:
        entry.problem = "no model.json in the folder"
        entry.supported = False
        return entry
    except (OSError, ValueError, TypeError, RecursionError) as exc:  # a damaged model.json lists as unusable
        entry.problem = f"model.json cannot be read: {exc}"
        entry.supported = False
        return entry
    install_path = os.path.join(folder, "install.json")
    if os.path.isfile(install_path):
        try:
            source = _read_json(install_path).get("source")
            source = source if isinstance(source, str) else None
        except (OSError, ValueError, RecursionError):
            source = None  # install.json only says where the model came from
        if source:
            entry.summary = f"{entry.summary}; from {source}".lstrip("; ")
    card_path = os.path.join(folder, "model-card.json")
    if os.path.isfile(card_path):
        try:
            summary = card_summary(_read_json(card_path))
            if summary:
                entry.summary = summary
        except (OSError, ValueError, TypeError, RecursionError) as exc:
            entry.summary = f"(model-card.json cannot be read: {exc})"
    if meta.get("code_prior"):
        entry.summary = f"{entry.summary}; samples from its code prior".lstrip("; ")
    return entry


def _folders(root: str) -> list[str]:
    if not os.path.isdir(root):
        return []
    return [os.path.join(root, n) for n in sorted(os.listdir(root))
            if not n.startswith(".") and os.path.isdir(os.path.join(root, n))]


# ------------------------------------------------------------------ listings
def embedded_models() -> list[ModelEntry]:
    return [_entry_from_folder(f, "embedded") for f in _folders(embedded_dir())]


def installed_models() -> list[ModelEntry]:
    """Installed models; folders whose name starts with a dot are unfinished installs and are left out."""
    from core.models.install import restore_interrupted  # install imports this module

    root = installed_dir(create=False)
    if os.path.isdir(root):
        restore_interrupted(root)  # a model moved aside by a replacing install that was killed
    return [_entry_from_folder(f, "installed") for f in _folders(root)]


def weights_bytes(config) -> int:
    """Size of a config's weights in float32 (what an installed copy takes on disk)."""
    from core.musicvae.configs import get_config
    from core.musicvae.variables import expected_variables

    total = 0
    for shape in expected_variables(get_config(config)).values():
        n = 1
        for s in shape:
            n *= int(s)
        total += n
    return 4 * total


def official_models(base: str | None = None) -> list[ModelEntry]:
    installed = {e.name for e in installed_models()}
    out = []
    for m in OFFICIAL:
        entry = ModelEntry(m.name, "official", config=m.config, url=official_url(m.name, base),
                           summary=m.description, supported=m.config is not None,
                           installed=m.name in installed, problem=m.note)
        if m.config is not None:
            from core.musicvae.configs import get_config

            entry.size_bytes = weights_bytes(m.config)
            entry.sizes = layer_sizes(get_config(m.config).to_dict())
        out.append(entry)
    return out


def official(name: str) -> OfficialModel:
    for m in OFFICIAL:
        if m.name == name:
            return m
    raise UserError(f"{name!r} is not an official Magenta checkpoint; known: {', '.join(m.name for m in OFFICIAL)}")


def models_by_name() -> list[ModelEntry]:
    """One entry per model name, the one a name means: an installed model hides an embedded
    model of the same name. This is the only place that order is decided; find_model, the
    CLI's --model NAME (core.musicvae.model_paths) and the GUI's model picker all use it."""
    installed = {entry.name: entry for entry in installed_models()}
    out = [installed.pop(entry.name, entry) for entry in embedded_models()]
    return out + list(installed.values())


def find_model(name: str) -> ModelEntry:
    """The model a name means (see models_by_name); a UserError saying why when there is none."""
    for entry in models_by_name():
        if entry.name == name:
            if entry.problem:
                raise UserError(f"model {name} in {entry.path} cannot be used: {entry.problem}")
            return entry
    raise UserError(f"no model named {name!r} is installed or embedded; "
                    f"`{command_name()} models` lists them")


# ------------------------------------------------------------------ device
def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


@contextlib.contextmanager
def _native_stderr_muted():
    """Hide what TensorFlow's C++ start-up writes to file descriptor 2 (CUDA probing, oneDNN notes)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def device_description(quiet: bool = True) -> str:
    """The device models will run on: the GPU TensorFlow sees, else the CPU. Imports TensorFlow.

    quiet: hide TensorFlow's native start-up messages while it looks for a GPU (file descriptor 2
    is pointed at /dev/null meanwhile, for the whole process: pass False from a GUI worker thread
    if other threads may write to stderr then).
    """
    with (_native_stderr_muted() if quiet else contextlib.nullcontext()):
        try:
            import tensorflow as tf
        except Exception as exc:  # a broken install raises more than ImportError
            return f"none: TensorFlow cannot be imported ({exc})"
        try:
            gpus = tf.config.list_physical_devices("GPU")
        except Exception:  # noqa: BLE001 - a bad driver must not break the listing
            gpus = []
    cores = os.cpu_count() or 1
    if gpus:
        names = []
        for gpu in gpus:
            try:
                details = tf.config.experimental.get_device_details(gpu)
            except Exception:  # noqa: BLE001
                details = {}
            names.append(details.get("device_name") or gpu.name)
        return f"GPU: {', '.join(names)} (TensorFlow {tf.__version__})"
    return f"CPU: {cpu_name()}, {cores} cores (TensorFlow {tf.__version__} sees no GPU)"
