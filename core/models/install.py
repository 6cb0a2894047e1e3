"""Installing MusicVAE checkpoints into the user's models folder, and removing them.

An install never leaves a half-made model behind: everything happens in a hidden temporary
folder inside the models folder (`.install-<name>-*`): the archive is extracted there (safely,
see archive.py), the checkpoint is checked against its config with the engine's own reader
(variable names and shapes first, without reading weights; then every tensor is read, which
makes TensorFlow verify its checksums), the weights are written in Latent Studio's format
(model.json + weights.npz, optimizer state dropped) with an install.json saying where they came
from, and only then is the folder renamed to `<models>/<name>`. A corrupt archive or a
checkpoint that does not fit raises CheckpointError and the models folder is as before.

Jobs: `install_from_path(token, ...)` and `install_official(token, ...)` take a
core.jobs.JobToken for progress and cancel.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass

from core.command_name import command_name
from core.errors import CheckpointError, UserError
from core.models import catalogue
from core.song_files import MODEL_ARCHIVE

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
ARCHIVE_SUFFIXES = MODEL_ARCHIVE.extensions  # core.song_files is the one list of file kinds
STALE_SECONDS = 24 * 3600
OWN_FILES = ("model.json", "model-card.json")


@dataclass
class InstallResult:
    name: str
    path: str
    config: str
    sizes: str
    size_bytes: int
    source: str


class Span:
    """A token that maps progress 0..1 onto [start, end] of another token (one step of a longer job)."""

    def __init__(self, token, start: float, end: float):
        self.token, self.start, self.end = token, start, end

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def check(self) -> None:
        self.token.check()

    def progress(self, fraction: float, message: str = "") -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        self.token.progress(self.start + (self.end - self.start) * f, message)


# ------------------------------------------------------------------ names
def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise UserError(f"{name!r} cannot be a model name: use letters, digits, '.', '_', '+' or '-' "
                        "(at most 100, not starting with a dot)")
    return name


def derive_name(path: str) -> str:
    """A model name from what the user gave: the archive or folder name (cat-mel_2bar_big.tar -> cat-mel_2bar_big),
    with characters a name cannot hold replaced by '-'."""
    path = os.path.abspath(os.path.expanduser(path)).rstrip(os.sep)
    base = os.path.basename(path)
    for suffix in ARCHIVE_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    else:
        if not os.path.isdir(path):  # a TF1 prefix or one of its files: name it after its folder
            base = os.path.basename(os.path.dirname(path))
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", base).strip(".-")[:100] or "model"


def config_for(name: str, config: str | None) -> str | None:
    """The config to check a checkpoint against: the given one, or the one its name says."""
    from core.musicvae.configs import ALIASES, CONFIGS, get_config

    if config:
        get_config(config)  # a UserError lists the known ones
        return config
    for candidate in (name, name.split(".")[0]):
        if candidate in CONFIGS or candidate in ALIASES:
            return candidate
    return None


# ------------------------------------------------------------------ checking
def check_checkpoint(path: str, config: str | None):
    """Check mode of the engine's loader: (config with the checkpoint's sizes, WeightSource).

    Reads only the variable names and shapes. Raises CheckpointError naming the first variable
    that is missing or has the wrong shape.
    """
    from core.musicvae.checkpoint import check_shapes, open_checkpoint
    from core.musicvae.configs import MusicVAEConfig, get_config
    from core.musicvae.variables import infer_sizes

    source = open_checkpoint(path)
    if source.kind == "own":
        own = MusicVAEConfig.from_dict(source.config or {})
        if config is not None:
            want = get_config(config)
            if (own.decoder, own.data, own.steps) != (want.decoder, want.data, want.steps):
                raise CheckpointError(f"{source.path} holds a {own.name} model, not {want.name}")
        cfg = own
    else:
        if config is None:
            raise CheckpointError(f"{path}: say which config this checkpoint is with --config "
                                  "(for example cat-mel_2bar_big)")
        cfg = infer_sizes(get_config(config), source.shapes)
    check_shapes(cfg, source)
    if source.kind == "own":
        from core.musicvae.code_prior import CodePrior

        CodePrior.from_meta(source.path, source.meta, cfg.z_size)  # a prior it names must read and fit
    return cfg, source


def read_all(token, cfg, source) -> dict:
    """Every weight the config needs, read one by one (TensorFlow checks each tensor's checksum)."""
    from core.musicvae.variables import canonical, expected_variables

    names = [canonical(n) for n in expected_variables(cfg)]
    weights = {}
    for i, name in enumerate(names):
        token.progress(i / len(names), f"checking weights ({i + 1} of {len(names)})")
        try:
            weights[name] = source.get(name)
        except CheckpointError:
            raise
        except Exception as exc:  # TF raises DataLossError and friends for damaged data files
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"{source.path}: the weights of {name} cannot be read (damaged file?): {first}",
                                  detail=str(exc)) from None
        if weights[name].shape != tuple(source.shapes[name]):
            raise CheckpointError(f"{source.path}: {name} read with shape {list(weights[name].shape)}")
    token.progress(1.0, "weights checked")
    return weights


# ------------------------------------------------------------------ installing
def restore_interrupted(root: str) -> list[str]:
    """Put back models that a replacing install moved aside and was killed before placing the new one.

    `_place` renames <root>/<name> to <root>/.install-<name>-XXXXXXXX/old and then the new folder to
    <root>/<name>; a kill between the two renames leaves no <name>. The old model is whole, so it
    goes back. Returns the names restored. Called before every install and by the model list.
    """
    restored = []
    try:
        names = os.listdir(root)
    except OSError:
        return restored
    for n in names:
        old = os.path.join(root, n, "old")
        if not n.startswith(".install-") or len(n) < len(".install-") + 10 or not os.path.isdir(old):
            continue
        name = n[len(".install-"):-9]  # mkdtemp adds 8 characters after the name's "-"
        dest = os.path.join(root, name)
        if NAME_RE.match(name) and not os.path.exists(dest):
            try:
                os.rename(old, dest)
                restored.append(name)
            except OSError:
                pass
    return restored


def _clean_stale(root: str) -> None:
    now = time.time()
    for n in os.listdir(root):
        if n.startswith((".install-", ".remove-")):
            p = os.path.join(root, n)
            try:
                if now - os.path.getmtime(p) > STALE_SECONDS:
                    shutil.rmtree(p, ignore_errors=True)
            except OSError:
                pass


def _is_archive(path: str) -> bool:
    if path.endswith(ARCHIVE_SUFFIXES):
        return True
    try:
        return os.path.isfile(path) and tarfile.is_tarfile(path)
    except OSError:
        return False


def _place(staged: str, dest: str, replace: bool, tmp: str) -> None:
    """Rename the finished folder into place; an old one (replace) is moved aside first."""
    old = None
    if os.path.exists(dest):
        if not replace:
            raise UserError(f"a model named {os.path.basename(dest)} is installed already ({dest}); "
                            "remove it first or install with --replace")
        old = os.path.join(tmp, "old")
        os.rename(dest, old)
    try:
        os.rename(staged, dest)
    except OSError as exc:
        if old is not None:
            os.rename(old, dest)
        raise UserError(f"could not place the model in {dest}: {exc.strerror or exc}") from None


def install_from_path(token, path: str, config: str | None = None, name: str | None = None,
                      replace: bool = False, origin: dict | None = None) -> InstallResult:
    """Install a checkpoint from a .tar archive, a folder, a TF1 prefix or a Latent Studio model folder."""
    from core.musicvae.checkpoint import save_model

    path = os.path.expanduser(str(path))
    if not (os.path.exists(path) or os.path.exists(path + ".index")):
        raise UserError(f"{path} does not exist; give a Magenta .tar archive, a checkpoint folder or the name "
                        f"of an official checkpoint (`{command_name()} models` lists them)")
    name = check_name(derive_name(path) if name is None else name)
    from core.seq import model as seq_model

    if os.path.isdir(path) and seq_model.is_seq_model(path):
        return _install_seq_folder(token, path, name, replace, origin)
    config = config_for(name, config)
    root = catalogue.installed_dir()
    dest = os.path.join(root, name)
    if os.path.exists(dest) and not replace:
        raise UserError(f"a model named {name} is installed already ({dest}); remove it first or use --replace")
    restore_interrupted(root)
    _clean_stale(root)
    tmp = tempfile.mkdtemp(prefix=f".install-{name}-", dir=root)
    try:
        src = path
        if _is_archive(path):
            from core.models.archive import extract

            step = Span(token, 0.0, 0.4)
            step.progress(0.0, f"extracting {os.path.basename(path)}")
            src = os.path.join(tmp, "extracted")
            extract(path, src, token, links=False, progress=lambda done, total: step.progress(
                done / total if total else 1.0, f"extracting {os.path.basename(path)}: "
                f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"))
        token.progress(0.4, f"checking the checkpoint against config {config or '(from model.json)'}")
        cfg, source = check_checkpoint(src, config)
        staged = os.path.join(tmp, "model")
        os.makedirs(staged)
        if source.kind == "own":
            read_all(Span(token, 0.4, 0.9), cfg, source)
            prior_file = (source.meta.get("code_prior") or {}).get("file")
            for f in OWN_FILES + (source.meta.get("weights", "weights.npz"),) + ((prior_file,) if prior_file else ()):
                if os.path.isfile(os.path.join(source.path, f)):
                    shutil.copy2(os.path.join(source.path, f), os.path.join(staged, f))
        else:
            need = catalogue.weights_bytes(cfg)
            free = shutil.disk_usage(root).free
            if need > free:
                raise UserError(f"not enough free disk space in {root}: {need / 1e6:.0f} MB needed, "
                                f"{free / 1e6:.0f} MB free")
            weights = read_all(Span(token, 0.4, 0.85), cfg, source)
            token.progress(0.85, f"writing {name}")
            save_model(staged, cfg, weights, storage="float32")
            del weights
        token.progress(0.95, f"verifying {name}")
        check_checkpoint(staged, None)  # what was written reads back and fits
        info = {"name": name, "config": cfg.name, "source": os.path.abspath(path),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "checkpoint": os.path.basename(source.path)}
        info.update(origin or {})
        with open(os.path.join(staged, "install.json"), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        token.check()
        _place(staged, dest, replace, tmp)
    except OSError as exc:  # a full disk while writing the new copy: the installed models are as before
        raise UserError(f"could not install {name} into {root}: {exc.strerror or exc}", detail=repr(exc)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    token.progress(1.0, f"installed {name}")
    return InstallResult(name, dest, cfg.name, catalogue.layer_sizes(cfg.to_dict()), catalogue.folder_size(dest),
                         info["source"])


SEQ_FILES = ("model.json", "MODEL_CARD.md", "model-card.json")


def _install_seq_folder(token, path: str, name: str, replace: bool, origin: dict | None) -> InstallResult:
    """Install a sequence model folder (core/seq/model.py): copy it, check that it loads."""
    from core.seq import model as seq_model

    root = catalogue.installed_dir()
    dest = os.path.join(root, name)
    if os.path.exists(dest) and not replace:
        raise UserError(f"a model named {name} is installed already ({dest}); remove it first or use --replace")
    restore_interrupted(root)
    _clean_stale(root)
    tmp = tempfile.mkdtemp(prefix=f".install-{name}-", dir=root)
    try:
        meta = seq_model.read_meta(path)
        weights = meta.get("weights", "weights.npz")
        if not isinstance(weights, str) or os.path.basename(weights) != weights:
            raise UserError(f"{path}: model.json names an odd weights file {weights!r}")
        staged = os.path.join(tmp, "model")
        os.makedirs(staged)
        token.progress(0.2, f"copying {name}")
        for f in SEQ_FILES + (weights,):
            if os.path.isfile(os.path.join(path, f)):
                shutil.copy2(os.path.join(path, f), os.path.join(staged, f))
        token.progress(0.5, f"verifying {name}")
        model = seq_model.load(staged, name)  # a UserError when the weights do not fit the config
        info = {"name": name, "config": None, "kind": "sequence", "source": os.path.abspath(path),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        info.update(origin or {})
        with open(os.path.join(staged, "install.json"), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        token.check()
        _place(staged, dest, replace, tmp)
    except OSError as exc:
        raise UserError(f"could not install {name} into {root}: {exc.strerror or exc}", detail=repr(exc)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    token.progress(1.0, f"installed {name}")
    return InstallResult(name, dest, None, catalogue.seq_sizes(model.config.to_dict()),
                         catalogue.folder_size(dest), info["source"])


def install_official(token, name: str, base_url: str | None = None, replace: bool = False,
                     keep_archive: bool = False, retries: int = 3, timeout: float = 30.0) -> InstallResult:
    """Download an official Magenta checkpoint (resuming a partial download) and install it."""
    from core.models.download import download

    model = catalogue.official(name)
    if model.config is None:
        raise UserError(f"{name} cannot be installed: {model.note}")
    dest = os.path.join(catalogue.installed_dir(), name)
    if os.path.exists(dest) and not replace:
        raise UserError(f"{name} is installed already ({dest}); use --replace to install it again")
    url = catalogue.official_url(name, base_url)
    archive = os.path.join(catalogue.downloads_dir(), f"{name}.tar")
    if os.path.isfile(archive):
        md5 = None  # downloaded and checked by an earlier call whose install did not finish
    else:
        result = download(Span(token, 0.0, 0.7), url, archive, retries=retries, timeout=timeout, label=name)
        md5 = result.md5
    try:
        installed = install_from_path(Span(token, 0.7, 1.0), archive, config=model.config, name=name,
                                      replace=replace, origin={"source": url, "archive_md5": md5})
    except CheckpointError:
        os.remove(archive)  # a bad archive: the next try downloads it again
        raise
    if not keep_archive:
        os.remove(archive)
    return installed


def remove_model(name: str) -> str:
    """Delete an installed model; returns the folder that was removed. Embedded models cannot be removed."""
    root = catalogue.installed_dir()
    dest = os.path.join(root, name)
    if name.startswith(".") or os.sep in name or not os.path.isdir(dest):
        if any(e.name == name for e in catalogue.embedded_models()):
            raise UserError(f"{name} is embedded in the program and cannot be removed")
        names = ", ".join(e.name for e in catalogue.installed_models()) or "none"
        raise UserError(f"no installed model named {name!r} (installed: {names})")
    trash = tempfile.mkdtemp(prefix=f".remove-{name}-", dir=root)
    os.rename(dest, os.path.join(trash, name))
    shutil.rmtree(trash, ignore_errors=True)
    return dest
