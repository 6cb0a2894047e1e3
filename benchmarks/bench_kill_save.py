"""Killed saves and full disks: is the file on disk always the old one or the new one?

    python benchmarks/bench_kill_save.py [--kills 200] [--seed S] [--targets project,midi,wav,install,autosave]
                                         [--full-disk 12] [--real-speed]

Kills. For each target a forked child writes two versions in turn, for ever: a 20,000-note project
(core.project.save_project), a MIDI export of it (core.midi_io.export_midi), a WAV export
(core.audio.render.write_wav), a model install replacing the installed one (core.models.install),
an autosave (core.recovery.write_recovery). The parent kills it with SIGKILL after a random delay
(uniform up to three times one save's duration), then reads the file the way the program would
at its next start and checks that it is whole and equal to one of the two versions. Unless
--real-speed is given, the child's file writes go out in 64 KB pieces with a short pause between
them (a slow disk), so that many kills land in the middle of writing rather than while the
data is being prepared; the count of kills that left a temporary file shows how many did.

With --tmpfs DIR (root only) the same writers also meet a real full disk: a 64 MB tmpfs mounted
at DIR is filled with a preallocated file until only part of one save's size is free.

Full disk. Each writer (project save, MIDI and WAV export, autosave, a training checkpoint, a
model install) is run with every write failing with ENOSPC once a byte budget is spent, for
budgets spread over the size of what it writes; each time the previous file must be intact, no
temporary file left, and the error a UserError whose message says the disk is full.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import builtins
import collections
import contextlib
import errno
import random
import shutil
import signal
import sys
import tempfile
import time
from types import SimpleNamespace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (ROOT, os.path.join(ROOT, "tests")):
    if p not in sys.path:
        sys.path.insert(0, p)

import numpy as np  # noqa: E402

from core.errors import UserError  # noqa: E402
from core.song import Song  # noqa: E402

NOTES = 20_000
PIECE = 64 * 1024


# ====================================================================== write interception
class _File:
    """A writable file whose writes are slowed down or run out of space (see the module docstring)."""

    def __init__(self, f, budget):
        self._f = f
        self._budget = budget  # None: slow writes; a list [bytes left]: a disk that fills up

    def write(self, data):
        view = data if isinstance(data, str) else memoryview(data).cast("B")  # text files count characters
        for i in range(0, len(view), PIECE):
            piece = view[i:i + PIECE]
            if self._budget is not None:
                if len(piece) > self._budget[0]:
                    self._f.write(piece[:self._budget[0]])
                    self._budget[0] = 0
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self._budget[0] -= len(piece)
            self._f.write(piece)
            if self._budget is None:
                self._f.flush()
                time.sleep(0.001)
        return len(view)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __iter__(self):
        return iter(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


@contextlib.contextmanager
def intercepted_writes(budget=None):
    """Route every file opened for writing (open, os.fdopen, shutil copies) through _File."""
    real_open, real_fdopen, real_sendfile = builtins.open, os.fdopen, shutil._USE_CP_SENDFILE

    def wrap(opener):
        def opened(file, mode="r", *args, **kwargs):
            f = opener(file, mode, *args, **kwargs)
            return _File(f, budget) if any(c in mode for c in "wax+") else f
        return opened

    builtins.open, os.fdopen, shutil._USE_CP_SENDFILE = wrap(real_open), wrap(real_fdopen), False
    try:
        yield
    finally:
        builtins.open, os.fdopen, shutil._USE_CP_SENDFILE = real_open, real_fdopen, real_sendfile


# ====================================================================== what is written
def song_of(seed: int) -> Song:
    from helpers_song import rich_song

    return rich_song(seed, -(-NOTES // 12))  # 3 clips x 4 tracks


def tiny_model(folder: str, seed: int, width: int = 64) -> str:
    from core.musicvae.checkpoint import random_weights, save_model
    from core.musicvae.configs import CONFIGS

    cfg = CONFIGS["cat-mel_2bar_small"].with_sizes([width], [width], 16)
    return save_model(folder, cfg, random_weights(cfg, seed=seed))


def weights_digest(folder: str) -> str:
    import hashlib

    from core.musicvae.checkpoint import load_weights

    _, weights, _ = load_weights(None, folder)
    h = hashlib.sha1()
    for k in sorted(weights):
        h.update(k.encode())
        h.update(np.ascontiguousarray(weights[k]).tobytes())
    return h.hexdigest()


class Target:
    """One writer: `write(version)` writes version 0 or 1; `read()` gives what a next start would
    see, compared with `expected[version]`."""

    name = ""
    child_writes_first = False  # True: the killed process itself writes the old version first

    def __init__(self, work: str):
        self.work = work

    def write(self, version: int) -> None:
        raise NotImplementedError

    def read(self):
        raise NotImplementedError

    def forget(self) -> None:
        pass

    def leftovers(self) -> list[str]:
        out = []
        for root, dirs, files in os.walk(self.work):
            out += [os.path.join(root, n) for n in dirs + files if n.endswith(".partial") or n.startswith(".install-")]
        return out


class ProjectTarget(Target):
    name = "project"

    def __init__(self, work):
        super().__init__(work)
        from core.project import save_project

        self.songs = [song_of(1), song_of(2)]
        self.path = os.path.join(work, "song.lstudio")
        self.save = save_project
        self.expected = [s.snapshot() for s in self.songs]

    def write(self, version):
        self.save(self.songs[version], self.path)

    def read(self):
        from core.project import load_project

        return load_project(self.path).snapshot()


class MidiTarget(Target):
    name = "midi"

    def __init__(self, work):
        super().__init__(work)
        from core.midi_io import export_midi, midi_bytes

        self.songs = [song_of(1), song_of(2)]
        self.path = os.path.join(work, "song.mid")
        self.export = export_midi
        self.expected = [midi_bytes(s) for s in self.songs]

    def write(self, version):
        self.export(self.songs[version], self.path)

    def read(self):
        from core.midi_io import import_midi

        import_midi(self.path)  # it must import, and be byte for byte one of the two
        with open(self.path, "rb") as f:
            return f.read()


class WavTarget(Target):
    name = "wav"

    def __init__(self, work):
        super().__init__(work)
        from core.audio.render import SAMPLE_RATE, wav_bytes, write_wav

        rng = np.random.default_rng(0)
        self.audio = [(rng.standard_normal((SAMPLE_RATE * 10, 2)) * 0.1).astype(np.float32) for _ in range(2)]
        self.path = os.path.join(work, "song.wav")
        self.writer = write_wav
        self.expected = [wav_bytes(a) for a in self.audio]

    def write(self, version):
        self.writer(self.path, self.audio[version])

    def read(self):
        from core.audio.render import read_wav

        read_wav(self.path)
        with open(self.path, "rb") as f:
            return f.read()


class InstallTarget(Target):
    name = "install"

    def __init__(self, work):
        super().__init__(work)
        os.environ["LATENT_STUDIO_DATA"] = os.path.join(work, "data")
        os.environ["LATENT_STUDIO_CACHE"] = os.path.join(work, "cache")
        self.sources = [tiny_model(os.path.join(work, "src", f"v{i}"), seed=i, width=256) for i in range(2)]
        self.expected = [weights_digest(s) for s in self.sources]
        self.dest = os.path.join(work, "data", "models", "tiny")

    def write(self, version):
        from core.jobs import JobToken
        from core.models.install import install_from_path

        install_from_path(JobToken(), self.sources[version], name="tiny", replace=True)

    def read(self):
        from core.models import catalogue

        names = [e.name for e in catalogue.installed_models()]  # what the next start lists (and repairs)
        if "tiny" not in names:
            raise UserError(f"the installed model is gone (models listed: {names})")
        return weights_digest(self.dest)

    def leftovers(self):
        root = os.path.join(self.work, "data", "models")
        return [os.path.join(root, n) for n in os.listdir(root) if n.startswith(".")] if os.path.isdir(root) else []


class AutosaveTarget(Target):
    """Each process autosaves to its own file, so the killed child writes its first copy itself."""

    name = "autosave"
    child_writes_first = True

    def __init__(self, work):
        super().__init__(work)
        os.environ["LATENT_STUDIO_DATA"] = os.path.join(work, "data")
        self.songs = [song_of(1), song_of(2)]
        self.expected = [s.snapshot() for s in self.songs]

    def forget(self):
        from core.recovery import clear_recovery

        clear_recovery()

    def write(self, version):
        from core.recovery import write_recovery

        write_recovery(self.songs[version], os.path.join(self.work, "song.lstudio"))

    def read(self):
        from core.recovery import find_recovery, load_recovery

        from core.recovery import clear_recovery, list_recoveries, recovery_path

        info = find_recovery()  # the child that wrote it is dead: its file is offered
        if info is None and os.path.exists(recovery_path()):  # full-disk runs: this process's own file
            info = list_recoveries(include_running=True)[0]
        if info is None:
            raise UserError("no recovery file is offered")
        for older in list_recoveries()[1:]:  # offered before, at earlier starts
            clear_recovery(older)
        return load_recovery(info).snapshot()


class CheckpointTarget(Target):
    """A training checkpoint (only for the full-disk runs: the writer is core.musicvae.training)."""

    name = "checkpoint"

    def __init__(self, work):
        super().__init__(work)
        from core.musicvae.checkpoint import random_weights
        from core.musicvae.configs import CONFIGS

        cfg = CONFIGS["cat-mel_2bar_small"].with_sizes([64], [64], 16)
        # stand-ins with what save_checkpoint reads (a single-process run: it is the chief)
        self.trainers = [SimpleNamespace(cfg=cfg, settings=SimpleNamespace(name="tiny"), is_chief=True,
                                         graph=SimpleNamespace(numpy_weights=lambda s=s: random_weights(cfg, seed=s)),
                                         optimizer_state=lambda s=s: {"m": np.full(1000, s, np.float32)})
                         for s in range(2)]
        self.steps = [100, 200]
        self.out = os.path.join(work, "run")

    def write(self, version):
        from core.musicvae.training import save_checkpoint

        if version == 0:  # the state before each run: one checkpoint, of step 100
            shutil.rmtree(self.out, ignore_errors=True)
        save_checkpoint(self.trainers[version], self.out, self.steps[version], {"history": []}, keep=1)

    def read(self):
        from core.musicvae.training import checkpoint_dirs, load_checkpoint

        found = checkpoint_dirs(self.out)
        if not found:
            raise UserError("no checkpoint left")
        _, _, opt, state = load_checkpoint(found[-1][1])
        return (state["step"], float(opt["m"][0]))

    @property
    def expected(self):
        return [(100, 0.0), (200, 1.0)]


TARGETS = {t.name: t for t in (ProjectTarget, MidiTarget, WavTarget, InstallTarget, AutosaveTarget, CheckpointTarget)}
KILL_TARGETS = ("project", "midi", "wav", "install", "autosave")
FULL_DISK_TARGETS = ("project", "midi", "wav", "autosave", "checkpoint", "install")


# ====================================================================== kills
def _which(target: Target) -> str:
    try:
        got = target.read()
    except UserError as exc:
        return f"unreadable: {exc}"
    for i, want in enumerate(target.expected):
        if got == want:
            return ("old", "new")[i]
    return "neither version"


def kill_runs(name: str, kills: int, seed: int, slow: bool = True) -> dict:
    """`kills` SIGKILLs of a child saving `name` in a loop; counts of what was found afterwards."""
    rng = random.Random(f"{seed}:{name}")
    work = tempfile.mkdtemp(prefix=f"kill-{name}-")
    counts = collections.Counter()
    problems = []
    try:
        target = TARGETS[name](work)
        if not target.child_writes_first:
            target.write(0)  # the old version is on disk before the first kill
        t0 = time.monotonic()
        with intercepted_writes() if slow else contextlib.nullcontext():
            target.write(1)
            target.write(0)
        one_save = (time.monotonic() - t0) / 2
        if target.child_writes_first:
            target.forget()  # what this process wrote while timing is no part of the runs
        for k in range(kills):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(r)
                    if target.child_writes_first:
                        target.write(0)
                    os.write(w, b"r")
                    with intercepted_writes() if slow else contextlib.nullcontext():
                        i = 1
                        while True:
                            target.write(i % 2)
                            i += 1
                finally:
                    os._exit(1)
            os.close(w)
            os.read(r, 1)
            os.close(r)
            time.sleep(rng.uniform(0, 3 * one_save))
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
                counts["child ended by itself"] += 1
            left = target.leftovers()
            counts["killed mid-write (left a temporary file)"] += bool(left)
            found = _which(target)
            counts[found] += 1
            if found not in ("old", "new"):
                problems.append(f"kill {k}: {found}")
            for p in left:  # the next kill starts from a clean folder (reading may have cleared some)
                if os.path.isdir(p):
                    shutil.rmtree(p, ignore_errors=True)
                elif os.path.exists(p):
                    os.unlink(p)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"target": name, "kills": kills, "one_save_s": one_save, "counts": counts, "problems": problems}


# ====================================================================== full disk
def full_disk_runs(name: str, budgets: int) -> dict:
    """Every write fails with ENOSPC after a budget of bytes, for `budgets` budgets over the size of one save."""
    work = tempfile.mkdtemp(prefix=f"full-{name}-")
    counts = collections.Counter()
    problems = []
    try:
        target = TARGETS[name](work)
        target.write(0)
        before = target.read()
        unlimited = [1 << 62]
        with intercepted_writes(unlimited):  # measures how many bytes one save writes
            target.write(1)
        size = (1 << 62) - unlimited[0]
        target.write(0)
        for b in range(budgets):
            budget = [int(size * b / budgets)]
            try:
                with intercepted_writes(budget):
                    target.write(1)
                outcome = "wrote it (the budget sufficed)"
            except UserError as exc:
                text = str(exc)
                outcome = "told the user" if ("No space left" in text or "space" in text) else "unclear message"
                if outcome == "unclear message":
                    problems.append(f"budget {budget}: {text[:200]}")
            except Exception as exc:  # noqa: BLE001 - what is being counted
                outcome = f"uncaught {type(exc).__name__}"
                problems.append(f"budget {budget}: {type(exc).__name__}: {exc}"[:300])
            counts[outcome] += 1
            if outcome != "wrote it (the budget sufficed)":
                after = _which(target)
                if after != "old":
                    counts["previous file lost"] += 1
                    problems.append(f"budget {budget}: the previous file is {after}")
                if target.leftovers():
                    counts["temporary files left"] += 1
                    problems.append(f"budget {budget}: left {target.leftovers()}")
            target.write(0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"target": name, "budgets": budgets, "bytes": size, "counts": counts, "problems": problems}


def real_full_disk_runs(name: str, fills: int, mount_point: str, size_mb: int = 64) -> dict | None:
    """Like full_disk_runs, with a real full disk: a tmpfs of `size_mb` MB (root only), filled up
    until only a part of one save's bytes is free. None when the tmpfs cannot be mounted."""
    import subprocess

    os.makedirs(mount_point, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", mount_point],
                      capture_output=True).returncode != 0:
        return None
    counts = collections.Counter()
    problems = []
    size = 0
    try:
        work = os.path.join(mount_point, name)
        os.makedirs(work)
        target = TARGETS[name](work)
        target.write(0)
        unlimited = [1 << 62]
        with intercepted_writes(unlimited):
            target.write(1)
        size = (1 << 62) - unlimited[0]
        target.write(0)
        filler = os.path.join(mount_point, "filler")
        for i in range(fills):
            st = os.statvfs(mount_point)
            leave = int(size * i / fills)
            with open(filler, "wb") as f:
                try:
                    os.posix_fallocate(f.fileno(), 0, max(st.f_bavail * st.f_frsize - leave, 1))
                except OSError:
                    pass  # as full as it gets
            try:
                target.write(1)
                outcome = "wrote it (the space sufficed)"
            except UserError as exc:
                outcome = "told the user" if "space" in str(exc) else "unclear message"
                if outcome == "unclear message":
                    problems.append(f"{leave} bytes free: {str(exc)[:200]}")
            except Exception as exc:  # noqa: BLE001 - what is being counted
                outcome = f"uncaught {type(exc).__name__}"
                problems.append(f"{leave} bytes free: {type(exc).__name__}: {exc}"[:300])
            counts[outcome] += 1
            os.unlink(filler)
            if not outcome.startswith("wrote"):
                after = _which(target)
                if after != "old":
                    counts["previous file lost"] += 1
                    problems.append(f"{leave} bytes free: the previous file is {after}")
                if target.leftovers():
                    counts["temporary files left"] += 1
                    problems.append(f"{leave} bytes free: left {target.leftovers()}")
            target.write(0)
    finally:
        subprocess.run(["umount", "-l", mount_point], capture_output=True)
    return {"target": name, "budgets": fills, "bytes": size, "counts": counts, "problems": problems}


def _print_full_disk(res: dict) -> int:
    c = res["counts"]
    failures = sum(v for k, v in c.items() if k.startswith("uncaught") or k == "unclear message") \
        + c["previous file lost"] + c["temporary files left"]
    print(f"  {res['target']:10s} ({res['bytes'] / 1e6:.2f} MB per save): runs {res['budgets']}, user told "
          f"{c['told the user']}, previous file lost {c['previous file lost']}, temporary files left "
          f"{c['temporary files left']}, other errors {failures - c['previous file lost'] - c['temporary files left']}")
    for p in res["problems"][:5]:
        print("     ", p)
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--targets", default=",".join(KILL_TARGETS))
    parser.add_argument("--full-disk", type=int, default=12, help="ENOSPC budgets per writer (0: skip)")
    parser.add_argument("--real-speed", action="store_true", help="do not slow the child's writes down")
    parser.add_argument("--tmpfs", metavar="DIR", help="also fill a real tmpfs mounted at DIR (root only)")
    args = parser.parse_args(argv)
    bad = 0
    print(f"kills: SIGKILL after a random delay, {args.kills} per target, seed {args.seed}, "
          f"{'real-speed' if args.real_speed else 'slow-disk'} writes")
    for name in args.targets.split(",") if args.kills else ():
        res = kill_runs(name, args.kills, args.seed, slow=not args.real_speed)
        c = res["counts"]
        lost = res["kills"] - c["old"] - c["new"]
        bad += lost
        print(f"  {name:9s} one save {res['one_save_s']:.2f} s: kills {res['kills']}, file held old {c['old']}, "
              f"new {c['new']}, lost or damaged {lost}; killed mid-write "
              f"{c['killed mid-write (left a temporary file)']}")
        for p in res["problems"][:5]:
            print("     ", p)
    if args.full_disk:
        print(f"full disk: ENOSPC after a byte budget, {args.full_disk} budgets per writer")
        for name in FULL_DISK_TARGETS:
            bad += _print_full_disk(full_disk_runs(name, args.full_disk))
    if args.tmpfs:
        print(f"really full disk: a 64 MB tmpfs at {args.tmpfs} filled up to a part of one save, "
              f"{args.full_disk or 12} fills per writer")
        for name in FULL_DISK_TARGETS:
            res = real_full_disk_runs(name, args.full_disk or 12, args.tmpfs)
            if res is None:
                print("  (cannot mount a tmpfs here: needs root)")
                break
            bad += _print_full_disk(res)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
