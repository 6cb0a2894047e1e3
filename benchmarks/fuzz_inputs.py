"""Throw hostile files at every loader and count what happens.

    python benchmarks/fuzz_inputs.py --n 5000 [--seed S] [--jobs 2] [--quick] [--only INDEX]

Inputs (each made from the seed and its index, so any one can be replayed with --only):
- MIDI files: random bytes, a valid file truncated, bit-flipped or spliced with another, and
  structurally hostile ones (huge declared lengths and track counts, thousands of tempo and
  meter changes, notes never released, endless running status, absurd divisions), read by
  core.midi_io.import_midi_bytes and import_midi;
- project files: damaged JSON, a wrong type or a huge number in one field, NaN literals, deep
  nesting, a clip referenced by up to a million sections, read by core.project.load_project
  (and the song it gives must save again);
- model folders (tiny models from random weights): missing files, truncated or flipped weights,
  wrong shapes, NaN weights, a code prior for another model, a damaged model.json, read by the
  model loader (checkpoint.load_weights + CodePrior.from_meta, what load_model does before
  building the TensorFlow graph) and by the model list (catalogue.installed_models);
- model archives: not an archive, truncated, flipped, members named ../x or /abs, links and
  devices, a member declaring 100 GB, many members, installed with core.models.install.

Each input runs in a forked child. The child gets a CPU-time limit (RLIMIT_CPU) and an address
space limit (RLIMIT_AS, a fixed margin above what the parent already maps); the parent also kills
it after a wall-clock backstop. Why a fork per input rather than a worker pool: every loader
already sits imported in the parent, so a fork starts in a few milliseconds; a child that blows
its memory or spins is killed without poisoning the next input (a pool worker would have to be
detected and replaced, and a MemoryError deep inside one input can leave a long-lived worker in
a bad state); and the limits are per input, which is what the counts claim. CPU time rather
than wall time decides "over time" because the machines this runs on are shared and busy.

Outcomes: ok (loaded), clean (a core.errors.UserError subclass), uncaught (any other exception,
by type), over time, over memory, and broken: a MIDI file or project that loaded into a song
which cannot be saved as a project and read back unchanged, or an install that wrote outside its
target folder or left a partial model behind. Exit status 1 when any of the last four is not zero.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a forked child must not inherit BLAS threads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import collections
import io
import json
import random
import re
import resource
import select
import shutil
import signal
import sys
import tarfile
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import mido  # noqa: E402
import numpy as np  # noqa: E402

from core.errors import UserError  # noqa: E402
from core.midi_io import import_midi, import_midi_bytes  # noqa: E402
from core.models import catalogue  # noqa: E402
from core.models.install import install_from_path  # noqa: E402
from core.musicvae.checkpoint import load_weights, random_weights, save_model  # noqa: E402
from core.musicvae.code_prior import CodePrior  # noqa: E402
from core.musicvae.configs import CONFIGS  # noqa: E402
from core.project import load_project, project_bytes, song_from_dict, song_to_dict  # noqa: E402
from core.jobs import JobToken  # noqa: E402

CPU_SECONDS = 10
WALL_SECONDS = 120
MEMORY_MARGIN = 2 << 30  # address space a child may map on top of the parent's
KINDS = (("midi", 0.40), ("project", 0.30), ("model", 0.15), ("archive", 0.15))

TINY_MEL = CONFIGS["cat-mel_2bar_small"].with_sizes([8], [8], 4)
TINY_DRUMS = CONFIGS["cat-drums_2bar_small"].with_sizes([6], [6], 3)


# ====================================================================== seeds
def midi_seed(rng: random.Random, notes: int = 40) -> bytes:
    """A small valid type 1 file: tempo and meter track, a melody and a drum track."""
    f = mido.MidiFile(type=1, ticks_per_beat=rng.choice([96, 220, 480]))
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0),
                           mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
                           mido.MetaMessage("set_tempo", tempo=400000, time=f.ticks_per_beat * 4)])
    f.tracks.append(meta)
    for channel, program in ((0, 73), (9, 0)):
        t = mido.MidiTrack([mido.MetaMessage("track_name", name=f"part {channel}", time=0),
                            mido.Message("program_change", channel=channel, program=program, time=0)])
        for _ in range(notes):
            pitch = rng.randrange(30, 90)
            t.append(mido.Message("note_on", channel=channel, note=pitch, velocity=rng.randrange(1, 128),
                                  time=rng.randrange(0, f.ticks_per_beat)))
            t.append(mido.Message("note_off", channel=channel, note=pitch, velocity=0,
                                  time=rng.randrange(1, f.ticks_per_beat)))
        f.tracks.append(t)
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()


def project_seed(rng: random.Random) -> dict:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from helpers_song import rich_song

    return song_to_dict(rich_song(rng.randrange(1, 5), rng.choice([2, 5, 20])))


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def _chunk(kind: bytes, body: bytes, declared: int | None = None) -> bytes:
    return kind + (len(body) if declared is None else declared).to_bytes(4, "big") + body


def _header(fmt: int, ntrks: int, division: int) -> bytes:
    return _chunk(b"MThd", fmt.to_bytes(2, "big") + ntrks.to_bytes(2, "big") + division.to_bytes(2, "big"))


# ====================================================================== damage
def flip(data: bytes, rng: random.Random, count: int | None = None) -> bytes:
    b = bytearray(data)
    for _ in range(count or rng.randint(1, 16)):
        if b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data))]


def splice(a: bytes, b: bytes, rng: random.Random) -> bytes:
    return a[:rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1):]


def damage_bytes(data: bytes, other: bytes, rng: random.Random) -> tuple[str, bytes]:
    how = rng.choice(["random", "truncated", "flipped", "spliced", "overwritten"])
    if how == "random":
        return how, rng.randbytes(rng.choice([0, 1, 14, 100, 5000]))
    if how == "truncated":
        return how, truncate(data, rng)
    if how == "flipped":
        return how, flip(data, rng)
    if how == "spliced":
        return how, splice(data, other, rng)
    b = bytearray(data)
    at = rng.randrange(len(b))
    b[at:at + 8] = rng.randbytes(8)
    return how, bytes(b)


# ====================================================================== MIDI
def hostile_midi(rng: random.Random) -> tuple[str, bytes]:
    what = rng.choice(["tempo_storm", "meter_storm", "tempo_meter_storm", "hanging_notes", "running_status", "huge_length",
                       "many_tracks", "sysex", "division", "huge_delta", "zero_tracks"])
    tpb = rng.choice([1, 96, 480, 0x7FFF])
    if what in ("tempo_storm", "meter_storm", "tempo_meter_storm"):
        count = rng.choice([100, 1000, 2000, 10_000])
        wild = rng.random() < 0.25  # any value at all; otherwise values a real file could hold, so it loads
        ev = bytearray()
        for i in range(count):  # one change every tick (both kinds: the file of issue 20)
            if what != "meter_storm":
                us = rng.randrange(1, 1 << 24) if wild else rng.randrange(60_100, 2_000_000)
                ev += _vlq(1) + b"\xff\x51\x03" + us.to_bytes(3, "big")
            if what != "tempo_storm":
                num, den = (rng.randrange(0, 256), rng.randrange(0, 8)) if wild else (rng.randrange(1, 16),
                                                                                   rng.randrange(0, 5))
                ev += _vlq(0 if what == "tempo_meter_storm" else 1) + b"\xff\x58\x04" + bytes([num, den, 24, 8])
        what += " wild" if wild else ""
        ev += _vlq(0) + b"\x90\x3c\x40" + _vlq(tpb) + b"\x80\x3c\x00" + b"\x00\xff\x2f\x00"
        return f"{what} x{count}", _header(0, 1, tpb) + _chunk(b"MTrk", bytes(ev))
    if what == "hanging_notes":
        count = rng.choice([1000, 20000])
        ev = bytearray()
        for i in range(count):
            ev += _vlq(rng.randrange(0, 3)) + bytes([0x90 | rng.randrange(16), rng.randrange(128), 100])
        return f"{what} x{count}", _header(0, 1, tpb) + _chunk(b"MTrk", bytes(ev) + b"\x00\xff\x2f\x00")
    if what == "running_status":
        ev = b"\x00\x90\x3c\x40" + b"".join(_vlq(1) + bytes([rng.randrange(128), rng.randrange(128)])
                                             for _ in range(rng.choice([10, 5000])))
        return what, _header(0, 1, tpb) + _chunk(b"MTrk", ev)
    if what == "huge_length":
        body = b"\x00\x90\x3c\x40\x10\x80\x3c\x00\x00\xff\x2f\x00"
        return what, _header(1, 2, tpb) + _chunk(b"MTrk", body, declared=rng.choice([0xFFFFFFFF, 1 << 30, 13]))
    if what == "many_tracks":
        ntrks = rng.choice([128, 129, 1000, 65535])
        made = rng.choice([1, ntrks if ntrks <= 1000 else 200])
        tracks = b"".join(_chunk(b"MTrk", b"\x00\x90\x3c\x40\x10\x80\x3c\x00\x00\xff\x2f\x00") for _ in range(made))
        return f"{what} {ntrks}/{made}", _header(1, ntrks, tpb) + tracks
    if what == "sysex":
        ev = b"\x00\xf0" + _vlq(rng.choice([5, 1 << 27, 0x0FFFFFFF])) + b"\x01\x02\xf7\x00\xff\x2f\x00"
        return what, _header(0, 1, tpb) + _chunk(b"MTrk", ev)
    if what == "division":
        division = rng.choice([0, 0x8000, 0xE250, 0xFFFF, 1])
        return f"{what} {division:#x}", _header(0, 1, division) + _chunk(
            b"MTrk", b"\x00\x90\x3c\x40\x81\x00\x80\x3c\x00\x00\xff\x2f\x00")
    if what == "huge_delta":
        ev = b"\x00\x90\x3c\x40" + _vlq(0x0FFFFFFF) + b"\x80\x3c\x00" + _vlq(0x0FFFFFFF) + b"\x90\x40\x40" \
             + b"\x00\xff\x2f\x00"
        return what, _header(0, 1, tpb) + _chunk(b"MTrk", ev)
    return what, _header(1, 0, tpb)


def midi_input(rng: random.Random, work: str):
    seed = midi_seed(rng)
    r = rng.random()
    if r < 0.25:
        label, data = hostile_midi(rng)
    else:
        how, data = damage_bytes(seed, midi_seed(rng), rng)
        label = how
    if rng.random() < 0.5:
        return f"midi bytes {label}", lambda: import_midi_bytes(data, "fuzzed.mid")
    path = os.path.join(work, "fuzzed.mid")
    with open(path, "wb") as f:
        f.write(data)
    return f"midi file {label}", lambda: import_midi(path)


# ====================================================================== projects
def _paths(doc, prefix=()):
    """Every place in a JSON document (key paths to each value)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


WRONG = [None, True, False, 0, -1, 1.5, -1e308, 1e308, 10 ** 400, -(10 ** 400), "", "x" * 1000, "melody",
         [], [0], [[1, 2]], {}, {"a": 1}, float("nan"), float("inf"), 2 ** 63, 127, 128]


def project_text(doc) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()  # NaN/Infinity literals: Python reads them


def hostile_project(rng: random.Random, doc: dict) -> tuple[str, bytes]:
    what = rng.choice(["many_sections", "deep", "huge_numbers", "many_notes", "nan_literal", "long_strings",
                       "duplicate_ids", "top_level"])
    if what == "many_sections":
        count = rng.choice([1000, 100_000, 1_000_000])
        clip = next(iter(c["id"] for c in doc["clips"]))
        doc["sections"] = [{"id": f"s{i}", "label": "v", "clip_id": clip, "start": float(i), "length": 1.0}
                           for i in range(count)]
        return f"{what} {count}", project_text(doc)
    if what == "deep":
        depth = rng.choice([1000, 100_000, 1_000_000])
        where = rng.choice(["title", "tracks", "sections", "clips"])
        text = project_text(doc).decode()
        key = f'"{where}":'
        at = text.index(key) + len(key)
        end = text.index(",", at) if where == "title" else None
        nested = "[" * depth + "]" * depth
        text = text[:at] + nested + (text[end:] if end else text[text.index("]", at) + 1:])
        return f"{what} {depth} in {where}", text.encode()
    if what == "huge_numbers":
        paths = [p for p in _paths(doc) if p and isinstance(_get(doc, p), (int, float)) and not isinstance(_get(doc, p), bool)]
        for p in rng.sample(paths, min(len(paths), rng.randint(1, 5))):
            _set(doc, p, rng.choice([10 ** 400, -(10 ** 400), 1e308, -1e308, 2 ** 64, 1e-320, 10 ** 18]))
        return what, project_text(doc)
    if what == "many_notes":
        count = rng.choice([10_000, 300_000])
        clip = doc["clips"][0]
        track = doc["tracks"][0]["id"]
        clip["notes"] = {track: [[60, i * 0.25, i * 0.25 + 0.25, 100] for i in range(count)]}
        return f"{what} {count}", project_text(doc)
    if what == "nan_literal":
        paths = [p for p in _paths(doc) if p and isinstance(_get(doc, p), float)]
        _set(doc, rng.choice(paths), rng.choice([float("nan"), float("inf"), float("-inf")]))
        return what, project_text(doc)
    if what == "long_strings":
        doc["title"] = "\u266a" * rng.choice([10_000, 1_000_000])
        return what, project_text(doc)
    if what == "duplicate_ids":
        if doc["clips"]:
            doc["clips"].append(dict(doc["clips"][0]))
        doc["sections"] = doc["sections"] + doc["sections"]
        return what, project_text(doc)
    return what, project_text(rng.choice([[], 1, "x", None, {"format": "latent-studio-project"},
                                           {"format": "latent-studio-project", "schema": 10 ** 400}]))


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def wrong_type_project(rng: random.Random, doc: dict) -> tuple[str, bytes]:
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    value = rng.choice(WRONG)
    _set(doc, path, value)
    shown = "/".join(str(k) for k in path)
    return f"wrong type at {shown} = {str(value)[:20]}", project_text(doc)


def project_input(rng: random.Random, work: str):
    doc = project_seed(rng)
    r = rng.random()
    if r < 0.35:
        label, data = wrong_type_project(rng, doc)
    elif r < 0.65:
        label, data = hostile_project(rng, doc)
    else:
        how, data = damage_bytes(project_text(doc), project_text(project_seed(rng)), rng)
        label = f"damaged json {how}"
    path = os.path.join(work, "fuzzed.lstudio")
    with open(path, "wb") as f:
        f.write(data)

    return f"project {label}", lambda: load_project(path)


# ====================================================================== models
def make_model(folder: str, rng: random.Random, prior: bool = True) -> str:
    cfg = rng.choice([TINY_MEL, TINY_DRUMS])
    save_model(folder, cfg, random_weights(cfg, seed=rng.randrange(1000)))
    if prior:
        CodePrior(np.zeros(cfg.z_size, np.float32), np.eye(cfg.z_size, dtype=np.float32)).save(folder)
    return folder


def _rewrite_npz(path: str, change) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def damage_model(folder: str, rng: random.Random) -> str:
    what = rng.choice(["missing", "truncated", "flipped", "wrong_shape", "nan", "other_prior", "model_json",
                       "model_json_types", "extra_and_missing_arrays", "prior_json", "empty_arrays", "dtype"])
    weights = os.path.join(folder, "weights.npz")
    meta_path = os.path.join(folder, "model.json")
    if what == "missing":
        victim = rng.choice(sorted(os.listdir(folder)))
        os.remove(os.path.join(folder, victim))
        return f"{what} {victim}"
    if what in ("truncated", "flipped"):
        victim = os.path.join(folder, rng.choice(sorted(os.listdir(folder))))
        data = open(victim, "rb").read()
        with open(victim, "wb") as f:
            f.write(truncate(data, rng) if what == "truncated" else flip(data, rng))
        return f"{what} {os.path.basename(victim)}"
    if what == "wrong_shape":
        def change(a):
            k = rng.choice(sorted(a))
            a[k] = np.zeros(tuple(s + rng.choice([-1, 1, 7]) for s in a[k].shape) or (3,), np.float32)
        _rewrite_npz(weights, change)
        return what
    if what == "nan":
        def change(a):
            k = rng.choice(sorted(a))
            a[k] = a[k].copy()
            a[k].flat[rng.randrange(a[k].size)] = rng.choice([np.nan, np.inf, -np.inf])
        _rewrite_npz(weights, change)
        return what
    if what == "other_prior":
        z = rng.choice([1, 2, 5, 16])  # a prior fitted for a model with other codes, named by this one
        with open(os.path.join(folder, "prior.npz"), "wb") as f:
            np.savez(f, mean=np.zeros(z, np.float32), scale_tril=np.eye(z, dtype=np.float32))
        meta = json.load(open(meta_path))
        meta["code_prior"] = {"file": "prior.npz"}
        open(meta_path, "w").write(json.dumps(meta))
        return f"{what} z={z}"
    if what == "extra_and_missing_arrays":
        def change(a):
            a.pop(rng.choice(sorted(a)))
            a["unexpected|thing"] = np.ones(3, np.float32)
        _rewrite_npz(weights, change)
        return what
    if what == "empty_arrays":
        def change(a):
            for k in a:
                a[k] = np.zeros((0,), np.float32)
        _rewrite_npz(weights, change)
        return what
    if what == "dtype":
        def change(a):
            k = rng.choice(sorted(a))
            a[k] = rng.choice([a[k].astype(np.int8), a[k].astype(np.complex64), np.array(["x"] * a[k].size),
                               a[k].astype(np.float64)])
        _rewrite_npz(weights, change)
        return what
    meta = json.load(open(meta_path))
    if what == "model_json":
        text = rng.choice(["", "[]", "null", "{", json.dumps({"format": "latent-studio-musicvae"}),
                           json.dumps(dict(meta, version=10 ** 400)), json.dumps(dict(meta, weights="../../x.npz")),
                           json.dumps(dict(meta, weights="/etc/passwd"))])
        open(meta_path, "w").write(text)
        return f"{what} {text[:30]}"
    if what == "prior_json":
        meta["code_prior"] = rng.choice(WRONG + [{"file": 5}, {"file": "../x"}, {"file": ""}, {"file": "/"}])
        open(meta_path, "w").write(json.dumps(meta))
        return what
    paths = [p for p in _paths(meta) if p]
    path = rng.choice(paths)
    _set(meta, path, rng.choice(WRONG))
    open(meta_path, "w").write(json.dumps(meta))
    return f"{what} {'/'.join(map(str, path))}"


def load_model_files(folder: str):
    """What load_model does before TensorFlow: read and check the weights and the code prior."""
    cfg, weights, source = load_weights(None, folder)
    CodePrior.from_meta(source.path, source.meta, cfg.z_size)
    return cfg


def model_input(rng: random.Random, work: str):
    models = os.path.join(work, "data", "models")
    folder = make_model(os.path.join(models, "fuzzed"), rng, prior=rng.random() < 0.7)
    label = damage_model(folder, rng) if rng.random() < 0.9 else "intact"

    def run():
        entries = catalogue.installed_models()  # the model list reads model.json too
        for e in entries:
            e.summary, e.sizes, e.config, e.problem  # noqa: B018 - computed fields must exist
        return load_model_files(folder)
    return f"model {label}", run


# ====================================================================== archives
def _tar_of_folder(folder: str, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for n in sorted(os.listdir(folder)):
            tar.add(os.path.join(folder, n), arcname=prefix + n)
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", kind=tarfile.REGTYPE, link: str = "",
         size: int | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if size is None else size
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE and data else None)


def hostile_archive(rng: random.Random, model: str) -> tuple[str, bytes]:
    what = rng.choice(["dotdot", "absolute", "symlink_out", "hardlink_out", "device", "fifo", "huge_member",
                       "many_members", "link_then_write", "dir_over_file"])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for n in sorted(os.listdir(model)):
            tar.add(os.path.join(model, n), arcname=n)
        if what == "dotdot":
            _add(tar, rng.choice(["../x", "a/../../x", "..", "./../x"]), b"escaped")
        elif what == "absolute":
            _add(tar, rng.choice(["/tmp/fuzz-escaped", "//x", "C:/x", "\\x"]), b"escaped")
        elif what == "symlink_out":
            _add(tar, "ln", kind=tarfile.SYMTYPE, link=rng.choice(["/", "..", "../../etc", "/tmp"]))
        elif what == "hardlink_out":
            _add(tar, "hl", kind=tarfile.LNKTYPE, link=rng.choice(["/etc/passwd", "../x", "../../etc/hosts"]))
        elif what == "device":
            _add(tar, "dev", kind=rng.choice([tarfile.CHRTYPE, tarfile.BLKTYPE]))
        elif what == "fifo":
            _add(tar, "pipe", kind=tarfile.FIFOTYPE)
        elif what == "huge_member":
            end = tar.offset  # a header declaring 100 GB followed by one block: added by hand below
        elif what == "many_members":
            count = rng.choice([1000, 20_000, 100_000])
            for i in range(count):
                _add(tar, f"m/{i}", b"")
            what = f"{what} {count}"
        elif what == "link_then_write":
            _add(tar, "sub", kind=tarfile.SYMTYPE, link=".")
            _add(tar, "sub/weights.npz", b"overwritten")
        else:
            _add(tar, "model.json", kind=tarfile.DIRTYPE)
    data = buf.getvalue()
    if what == "huge_member":
        info = tarfile.TarInfo("huge.bin")
        info.size = 100 * 10 ** 9
        data = data[:end] + info.tobuf(tarfile.PAX_FORMAT) + b"\0" * rng.choice([512, 1 << 16])
    return what, data


def archive_input(rng: random.Random, work: str):
    src = make_model(os.path.join(work, "src", "fuzzed"), rng, prior=rng.random() < 0.5)
    r = rng.random()
    if r < 0.4:
        label, data = hostile_archive(rng, src)
    elif r < 0.7:
        how, data = damage_bytes(_tar_of_folder(src, rng.choice(["", "fuzzed/"])), _tar_of_folder(src), rng)
        label = how
    elif r < 0.9:
        label = "damaged model " + damage_model(src, rng)
        data = _tar_of_folder(src, rng.choice(["", "fuzzed/"]))
    else:
        label, data = "intact", _tar_of_folder(src, rng.choice(["", "fuzzed/"]))
    if rng.random() < 0.2:
        import gzip
        data, suffix = gzip.compress(data, compresslevel=1), ".tar.gz"
    else:
        suffix = rng.choice([".tar", ".tar", ".bin"])
    path = os.path.join(work, "incoming", "fuzzed" + suffix)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(data)
    os.makedirs(os.path.join(work, "data", "models"))
    return f"archive {label}", lambda: install_from_path(JobToken(), path, name="fuzzed")


def verify_song(song) -> None:
    """What a loaded song must allow: being saved as a project and read back unchanged."""
    again = song_from_dict(json.loads(project_bytes(song)))
    if again.snapshot() != song.snapshot():
        raise AssertionError("the song changes when saved and read back")


def check_install(work: str, error: BaseException | None) -> str | None:
    """Why the installer's result is unsafe, or None: nothing outside data/models, and there either a
    complete model (on success) or nothing at all (on failure)."""
    allowed = {"src", "incoming", "data", "cache"}
    extra = sorted(set(os.listdir(work)) - allowed)
    if extra:
        return f"wrote outside its folder: {extra}"
    models = os.path.join(work, "data", "models")
    left = sorted(os.listdir(models)) if os.path.isdir(models) else []
    if error is None:
        if left != ["fuzzed"] or not os.path.isfile(os.path.join(models, "fuzzed", "model.json")):
            return f"success without a whole model: {left}"
        try:
            load_model_files(os.path.join(models, "fuzzed"))
        except UserError as exc:
            return f"installed a model that does not load: {exc}"
    elif left:
        return f"failed install left {left}"
    if os.path.exists("/tmp/fuzz-escaped"):
        return "wrote /tmp/fuzz-escaped"
    return None


# ====================================================================== running
# "the data is damaged (KeyError: ...)": core.midi_io's catch-all names the exception it caught
MASKED = re.compile(r"damaged \((\w+(?:Error|Exception|Warning)\w*):")
MAKERS = {"midi": midi_input, "project": project_input, "model": model_input, "archive": archive_input}


def pick_kind(rng: random.Random) -> str:
    r, acc = rng.random(), 0.0
    for kind, share in KINDS:
        acc += share
        if r < acc:
            return kind
    return KINDS[-1][0]


def run_one(seed: int, index: int, work: str, announce=None, limit=None) -> dict:
    """Make input `index` and feed it to its loader in this process; the outcome as a dict."""
    rng = random.Random(f"{seed}:{index}")
    kind = pick_kind(rng)
    os.makedirs(work, exist_ok=True)
    os.environ["LATENT_STUDIO_DATA"] = os.path.join(work, "data")
    os.environ["LATENT_STUDIO_CACHE"] = os.path.join(work, "cache")
    label, call = MAKERS[kind](rng, work)
    out = {"index": index, "kind": kind, "label": label}
    if announce is not None:
        announce(dict(out, outcome="started"))  # so that a child killed for time still says what it read
    if limit is not None:
        limit()  # the limits count from here: making the input is not the loader's cost
    error = None
    try:
        loaded = call()
        out["outcome"] = "ok"
    except UserError as exc:
        error = exc
        out["outcome"], out["type"], out["message"] = "clean", type(exc).__name__, str(exc)[:300]
    except MemoryError:
        out["outcome"] = "memory"
    except RecursionError as exc:
        error = exc
        out["outcome"], out["type"], out["trace"] = "uncaught", "RecursionError", traceback.format_exc()[-1500:]
    except Exception as exc:  # noqa: BLE001 - this is what is being counted
        error = exc
        out["outcome"], out["type"] = "uncaught", type(exc).__name__
        out["message"], out["trace"] = str(exc)[:300], traceback.format_exc()[-3000:]
    if kind in ("midi", "project") and out["outcome"] == "ok":
        try:
            verify_song(loaded)
        except Exception as exc:  # noqa: BLE001 - the loader accepted something it should not have
            out["outcome"], out["type"] = "broken", "song"
            out["message"], out["trace"] = f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()[-3000:]
    if kind == "archive" and out["outcome"] in ("ok", "clean"):
        why = check_install(work, error)
        if why:
            out["outcome"], out["type"], out["message"] = "broken", "install", why
    return out


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def set_limits() -> None:
    """Limit this process to CPU_SECONDS more CPU time and MEMORY_MARGIN more address space."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + 1 + CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    vm = _vm_bytes() + MEMORY_MARGIN
    resource.setrlimit(resource.RLIMIT_AS, (vm, vm))


def start_child(seed: int, index: int, scratch: str, vm_base: int):
    """Fork a child that runs input `index` under the limits; (pid, read fd, started, work folder)."""
    work = os.path.join(scratch, str(index))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(r)
            signal.signal(signal.SIGXCPU, signal.SIG_DFL)
            result = run_one(seed, index, work, lambda d: os.write(w, (json.dumps(d) + "\n").encode()),
                             set_limits)
            os.write(w, (json.dumps(result) + "\n").encode())
        except MemoryError:
            os.write(w, (json.dumps({"index": index, "outcome": "memory"}) + "\n").encode())
        except BaseException:  # noqa: BLE001 - a harness failure is reported, not hidden
            try:
                os.write(w, (json.dumps({"index": index, "outcome": "uncaught", "type": "harness",
                                         "trace": traceback.format_exc()[-2000:]}) + "\n").encode())
            except BaseException:  # noqa: BLE001
                code = 3
        finally:
            os._exit(code)
    os.close(w)
    return pid, r, time.monotonic(), work


def finish_child(pid: int, fd: int, work: str, index: int, killed: bool) -> dict:
    chunks = []
    while True:
        try:
            block = os.read(fd, 1 << 16)
        except OSError:
            break
        if not block:
            break
        chunks.append(block)
    os.close(fd)
    _, status, usage = os.wait4(pid, 0)
    shutil.rmtree(work, ignore_errors=True)
    text = b"".join(chunks).decode(errors="replace").strip()
    last = json.loads(text.splitlines()[-1]) if text else {"index": index}
    # what the whole child cost, making the input included (ru_maxrss is in KB on Linux)
    last["cpu_s"], last["max_rss_mb"] = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    if last.get("outcome", "started") != "started":
        return last
    if killed:
        return dict(last, outcome="time", why="wall-clock backstop")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return dict(last, outcome="time", why=signal.Signals(sig).name)
        return dict(last, outcome="uncaught", type=f"signal {signal.Signals(sig).name}")
    return dict(last, outcome="uncaught", type=f"exit {os.WEXITSTATUS(status)} without a report")


def fuzz(n: int, seed: int, jobs: int = 2, start: int = 0, quiet: bool = False) -> dict:
    """Run inputs start..start+n-1, `jobs` children at a time; the counts and the failures."""
    scratch = tempfile.mkdtemp(prefix="latent-fuzz-")
    vm_base = _vm_bytes()
    counts = collections.Counter()
    by_kind = collections.Counter()
    uncaught = collections.Counter()
    masked = collections.Counter()  # clean errors that a loader's catch-all made out of another exception
    failures = []
    costliest = {"cpu_s": (0.0, None), "max_rss_mb": (0.0, None)}
    running = {}
    next_index = start
    t0 = time.monotonic()
    try:
        while next_index < start + n or running:
            while next_index < start + n and len(running) < jobs:
                pid, fd, began, work = start_child(seed, next_index, scratch, vm_base)
                running[fd] = (pid, began, work, next_index)
                next_index += 1
            ready, _, _ = select.select(list(running), [], [], 0.5)
            now = time.monotonic()
            for fd, (pid, began, work, index) in list(running.items()):
                killed = False
                if fd not in ready and now - began > WALL_SECONDS:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                elif fd not in ready:
                    continue
                del running[fd]
                res = finish_child(pid, fd, work, index, killed)
                counts[res["outcome"]] += 1
                for key, (worst, _) in costliest.items():
                    if res.get(key, 0.0) > worst:
                        costliest[key] = (res[key], f"input {res['index']}: {res.get('label', '?')}")
                by_kind[res.get("kind", "?")] += 1
                if res["outcome"] == "uncaught":
                    uncaught[res.get("type", "?")] += 1
                if res["outcome"] == "clean":
                    m = MASKED.search(res.get("message", ""))
                    if m:
                        masked[f"{res.get('kind')} {m.group(1)}"] += 1
                if res["outcome"] in ("uncaught", "time", "memory", "broken"):
                    failures.append(res)
                    if not quiet:
                        print(f"  input {res['index']}: {res['outcome']} {res.get('type', '')} "
                              f"{res.get('label', '')} {res.get('message', res.get('why', ''))}"[:300], flush=True)
    finally:
        for fd, (pid, *_rest) in running.items():
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        shutil.rmtree(scratch, ignore_errors=True)
    return {"inputs": n, "seconds": time.monotonic() - t0, "counts": counts, "by_kind": by_kind,
            "uncaught": uncaught, "failures": failures, "costliest": costliest, "masked": masked}


def report(result: dict, seed: int) -> str:
    c = result["counts"]
    lines = [f"fuzz_inputs seed {seed}: {result['inputs']} inputs in {result['seconds']:.0f} s "
             f"({', '.join(f'{k} {v}' for k, v in sorted(result['by_kind'].items()))})",
             f"  loaded: {c['ok']}",
             f"  clean errors (UserError): {c['clean']}",
             f"  uncaught exceptions: {c['uncaught']}"
             + (" (" + ", ".join(f"{t} {k}" for t, k in result["uncaught"].most_common()) + ")"
                if result["uncaught"] else ""),
             f"  over time (> {CPU_SECONDS} s CPU): {c['time']}",
             f"  over memory (> {MEMORY_MARGIN >> 30} GiB more address space): {c['memory']}",
             f"  broken results (a loaded song that cannot be saved and read back; an install that "
             f"wrote outside its folder or left a partial model): {c['broken']}"]
    if result["masked"]:
        lines.append("  of the clean errors, made by a catch-all from: "
                     + ", ".join(f"{t} {k}" for t, k in result["masked"].most_common()))
    cpu, rss = result["costliest"]["cpu_s"], result["costliest"]["max_rss_mb"]
    lines.append(f"  most CPU in one child (making the input included): {cpu[0]:.1f} s ({cpu[1]})")
    lines.append(f"  most memory in one child (peak RSS): {rss[0]:.0f} MB ({rss[1]})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="how many inputs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="children at a time")
    parser.add_argument("--quick", action="store_true", help="300 inputs (what the test suite runs)")
    parser.add_argument("--only", type=int, help="run this one input in this process and show the traceback")
    args = parser.parse_args(argv)
    if args.only is not None:
        work = tempfile.mkdtemp(prefix="latent-fuzz-one-")
        try:
            res = run_one(args.seed, args.only, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps({k: v for k, v in res.items() if k != "trace"}, indent=1))
        print(res.get("trace", ""))
        return 0 if res["outcome"] in ("ok", "clean") else 1
    n = 300 if args.quick else args.n
    result = fuzz(n, args.seed, jobs=args.jobs)
    print(report(result, args.seed))
    c = result["counts"]
    return 1 if c["uncaught"] or c["time"] or c["memory"] or c["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
