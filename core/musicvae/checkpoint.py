"""Finding, reading, checking and writing MusicVAE weights.

Accepted checkpoints:
- a Magenta `.tar` (or .tar.gz / .tgz) as published: extracted once into a cache folder;
- a folder holding a TF1 checkpoint (a `checkpoint` state file or one `*.index`);
- a TF1 checkpoint prefix (`.../model.ckpt`, or that path with `.index` / `.data-*` appended);
- Latent Studio's own format: a folder with `model.json` (format, config with its sizes, storage
  dtype) and `weights.npz` (arrays keyed by Magenta variable names, float32 or float16).

TF1 files are read with `tf.train.load_checkpoint` (TensorFlow imported only then). Weights come
back as numpy float32 arrays keyed by canonical names (see variables.canonical).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.atomic_write import atomic_write_bytes, atomic_write_with
from core.errors import CheckpointError
from core.musicvae.configs import MusicVAEConfig, get_config
from core.musicvae.variables import canonical, expected_variables, infer_sizes, is_ignored

OWN_FORMAT = "latent-studio-musicvae"
OWN_FORMAT_VERSION = 1
MAX_LAYER = 1 << 16  # no MusicVAE layer is wider than this; a bigger number is a damaged file
KINDS_HELP = ("expected a Magenta .tar, a folder with a TF1 checkpoint, a TF1 checkpoint prefix "
              "(model.ckpt) or a Latent Studio model folder (model.json + weights.npz)")


def cache_dir() -> str:
    """Where extracted Magenta archives are kept (core.paths decides the cache root)."""
    from core.paths import cache_dir as root

    return os.path.join(str(root()), "checkpoints")


@dataclass
class WeightSource:
    """Variables of one checkpoint: canonical name -> shape, and a reader per variable."""

    path: str
    kind: str  # "tf1" or "own"
    shapes: dict[str, tuple[int, ...]]
    names: dict[str, str]  # canonical -> name as stored
    read: Callable[[str], np.ndarray]
    config: dict | None = None  # own format only
    meta: dict = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        arr = np.asarray(self.read(self.names[name]), dtype=np.float32)
        if self.kind != "own" and not np.isfinite(arr).all():  # own files are checked when opened
            raise CheckpointError(f"{self.path}: {name} holds numbers that are not finite (NaN or infinity); "
                                  "the checkpoint is damaged")
        return arr


# ------------------------------------------------------------------ finding
def _safe_extract(tar_path: str, dest: str) -> None:
    """Extract with the installer's checks (core.models.archive, no links allowed) into a temporary
    folder beside `dest`, renamed to `dest` only when whole."""
    from core.models.archive import extract

    tmp = tempfile.mkdtemp(prefix=".extract-", dir=os.path.dirname(dest))
    try:
        extract(tar_path, tmp, links=False)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _extract_tar(path: str) -> str:
    st = os.stat(path)
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()[:12]
    stem = re.sub(r"\.(tar|tar\.gz|tgz)$", "", os.path.basename(path))
    dest = os.path.join(cache_dir(), f"{stem}-{key}")
    if not os.path.isdir(dest):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        _safe_extract(path, dest)
    return dest


def _step_of(prefix: str) -> int:
    m = re.search(r"-(\d+)$", prefix)
    return int(m.group(1)) if m else -1


def _find_in_folder(folder: str) -> tuple[str, str]:
    """(kind, location) of the checkpoint inside a folder (searched two levels deep)."""
    if os.path.isfile(os.path.join(folder, "model.json")):
        return "own", folder
    state = os.path.join(folder, "checkpoint")
    if os.path.isfile(state):
        with open(state, encoding="utf-8", errors="replace") as f:
            m = re.search(r'model_checkpoint_path:\s*"([^"]+)"', f.read())
        if m:
            prefix = m.group(1)
            if not os.path.isabs(prefix):
                prefix = os.path.join(folder, os.path.basename(prefix))
            if os.path.isfile(prefix + ".index"):
                return "tf1", prefix
    prefixes = [os.path.join(folder, n[:-len(".index")]) for n in os.listdir(folder) if n.endswith(".index")]
    if prefixes:
        return "tf1", max(prefixes, key=lambda p: (_step_of(p), p))
    subdirs = [os.path.join(folder, n) for n in sorted(os.listdir(folder))
               if os.path.isdir(os.path.join(folder, n)) and not n.startswith(".")]
    for sub in subdirs:
        try:
            return _find_in_folder(sub)
        except CheckpointError:
            continue
    raise CheckpointError(f"{folder} holds no MusicVAE checkpoint ({KINDS_HELP})")


def locate(path: str) -> tuple[str, str]:
    """Resolve a user-given checkpoint path to ("tf1", prefix) or ("own", folder)."""
    path = os.path.expanduser(str(path))
    if os.path.isdir(path):
        return _find_in_folder(path)
    if os.path.isfile(path + ".index"):
        return "tf1", path
    m = re.match(r"(.*)\.(index|data-\d+-of-\d+|meta)$", path)
    if m and os.path.isfile(m.group(1) + ".index"):
        return "tf1", m.group(1)
    if os.path.isfile(path):
        if re.search(r"\.(tar|tar\.gz|tgz)$", path) or tarfile.is_tarfile(path):
            return _find_in_folder(_extract_tar(path))
        if os.path.basename(path) == "model.json":
            return "own", os.path.dirname(path) or "."
        raise CheckpointError(f"{path} is not a MusicVAE checkpoint ({KINDS_HELP})")
    raise CheckpointError(f"checkpoint not found: {path}")


# ------------------------------------------------------------------ reading
def _open_tf1(prefix: str) -> WeightSource:
    from core.musicvae.lazy_tf import tf

    try:
        reader = tf.train.load_checkpoint(prefix)
        shape_map = reader.get_variable_to_shape_map()
    except Exception as exc:  # TF raises several error types for damaged files
        raise CheckpointError(f"{prefix} could not be read as a TensorFlow checkpoint: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                              detail=str(exc)) from exc
    shapes, names = {}, {}
    for name, shape in shape_map.items():
        if is_ignored(name):
            continue
        shapes[canonical(name)] = tuple(int(s) for s in shape)
        names[canonical(name)] = name
    return WeightSource(prefix, "tf1", shapes, names, reader.get_tensor)


def _own_config(meta_path: str, config) -> dict:
    """The config a model.json holds, checked to make a model (sizes that are positive integers)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{meta_path} has no model config")
    try:
        cfg = MusicVAEConfig.from_dict(config)
        sizes = list(cfg.enc_rnn_size) + list(cfg.dec_rnn_size) + [cfg.z_size, cfg.steps]
        if not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s <= MAX_LAYER for s in sizes):
            raise ValueError(f"layer sizes {sizes} are not whole numbers from 1 to {MAX_LAYER}")
        expected_variables(cfg)
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - any field of the wrong kind makes the config unusable
        raise CheckpointError(f"{meta_path} holds a config that does not describe a MusicVAE model "
                              f"({type(exc).__name__}: {exc})") from None
    return config


def own_file(folder: str, name, what: str) -> str:
    """A file that model.json names: a plain name inside the model folder, nothing else."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name:
        raise CheckpointError(f"{os.path.join(folder, 'model.json')} names {what} {name!r}, "
                              "which is not a file name inside the model folder")
    return os.path.join(folder, name)


def _open_own(folder: str) -> WeightSource:
    meta_path = os.path.join(folder, "model.json")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{meta_path} could not be read: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != OWN_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{meta_path} is not a Latent Studio model file (format {found!r})")
    version = meta.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{meta_path} has no valid format version ({version!r})")
    if version > OWN_FORMAT_VERSION:
        raise CheckpointError(f"{meta_path} was written by a newer Latent Studio (version {version})")
    config = _own_config(meta_path, meta.get("config"))
    npz_path = own_file(folder, meta.get("weights", "weights.npz"), "its weights")
    shapes, names, arrays = {}, {}, {}
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            for key in data.files:
                arr = data[key]  # each array is read from the archive once (its CRC is checked then)
                if arr.dtype.kind != "f":
                    raise CheckpointError(f"{npz_path}: {key} holds {arr.dtype} values, not floating point numbers")
                if not np.isfinite(arr).all():
                    raise CheckpointError(f"{npz_path}: {key} holds numbers that are not finite (NaN or infinity); "
                                          "the model is damaged")
                name = canonical(key.replace("|", "/"))
                names[name] = key
                arrays[key] = arr
                shapes[name] = tuple(int(s) for s in arr.shape)
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy parses each array's header with tokenize and ast:
        # a cut-off archive is a BadZipFile, a damaged array a CRC error, a damaged header a TokenError,
        # SyntaxError, ValueError... all of them mean the same to the user
        raise CheckpointError(f"{npz_path} could not be read (damaged file?): {exc}") from exc
    return WeightSource(folder, "own", shapes, names, arrays.__getitem__, config=config, meta=meta)


def open_checkpoint(path: str) -> WeightSource:
    kind, where = locate(path)
    return _open_own(where) if kind == "own" else _open_tf1(where)


# ------------------------------------------------------------------ checking
def check_shapes(cfg: MusicVAEConfig, source: WeightSource) -> None:
    """Raise CheckpointError naming the first missing or mismatched variable."""
    expected = expected_variables(cfg)
    missing = [n for n in expected if canonical(n) not in source.shapes]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(
            f"{source.path}: variable {missing[0]} is missing{more}; this checkpoint does not fit "
            f"config {cfg.name}", detail="missing:\n" + "\n".join(missing))
    for name, shape in expected.items():
        found = source.shapes[canonical(name)]
        if tuple(found) != tuple(shape):
            raise CheckpointError(
                f"{source.path}: variable {name} has shape {list(found)} but config {cfg.name} "
                f"expects {list(shape)} (expected {list(shape)}, found {list(found)})")


def load_weights(config: str | MusicVAEConfig | None, path: str, infer: bool = True
                 ) -> tuple[MusicVAEConfig, dict[str, np.ndarray], WeightSource]:
    """Config (sizes read from the checkpoint when `infer`) and float32 weights by canonical name."""
    source = open_checkpoint(path)
    if config is None:
        if source.config is None:
            raise CheckpointError(f"{source.path}: a TF1 checkpoint needs a config name (for example cat-mel_2bar_big)")
        cfg = MusicVAEConfig.from_dict(source.config)
    else:
        cfg = get_config(config)
        if source.config is not None:
            own = MusicVAEConfig.from_dict(source.config)
            if (own.decoder, own.data, own.steps) != (cfg.decoder, cfg.data, cfg.steps):
                raise CheckpointError(f"{source.path} holds a {own.name} model, not {cfg.name}")
            cfg = cfg.with_sizes(own.enc_rnn_size, own.dec_rnn_size, own.z_size)
    if infer:
        cfg = infer_sizes(cfg, source.shapes)
    check_shapes(cfg, source)
    weights = {canonical(n): source.get(canonical(n)) for n in expected_variables(cfg)}
    return cfg, weights, source


# ------------------------------------------------------------------ writing
def save_model(folder: str, cfg: MusicVAEConfig, weights: dict[str, np.ndarray],
               storage: str = "float32", extra: dict | None = None) -> str:
    """Write Latent Studio's format (model.json + weights.npz); returns the folder.

    `storage` "float16" halves the file; weights are widened to float32 again on load.
    """
    if storage not in ("float32", "float16"):
        raise ValueError(f"storage must be float32 or float16, not {storage!r}")
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for name in expected_variables(cfg):
        arr = np.asarray(weights[canonical(name)])
        arrays[name.replace("/", "|")] = arr.astype(np.float16 if storage == "float16" else np.float32)
    atomic_write_with(os.path.join(folder, "weights.npz"), lambda f: np.savez(f, **arrays))
    meta = {"format": OWN_FORMAT, "version": OWN_FORMAT_VERSION, "config": cfg.to_dict(),
            "storage": storage, "weights": "weights.npz"}
    meta.update(extra or {})
    atomic_write_bytes(os.path.join(folder, "model.json"), json.dumps(meta, indent=1).encode("utf-8"))
    return folder


def random_weights(cfg: MusicVAEConfig, seed: int = 0, std: float = 0.1) -> dict[str, np.ndarray]:
    """Random weights of the right shapes (tests and benchmarks; no download)."""
    rng = np.random.default_rng(seed)
    return {canonical(n): (rng.standard_normal(s, dtype=np.float32) * std).astype(np.float32)
            for n, s in expected_variables(cfg).items()}


def write_tf1_checkpoint(prefix: str, arrays: dict[str, np.ndarray]) -> str:
    """Write arrays under the given variable names as a TF1 checkpoint (tests and benchmarks)."""
    import tensorflow as tf

    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    names = sorted(arrays)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(arrays[n]) for n in names])
    with open(os.path.join(os.path.dirname(os.path.abspath(prefix)), "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "{os.path.basename(prefix)}"\n')
    return prefix


def magenta_names(cfg: MusicVAEConfig, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weights keyed by the names Magenta's graph gives them (for writing TF1 checkpoints)."""
    return {name: weights[canonical(name)] for name in expected_variables(cfg)}
