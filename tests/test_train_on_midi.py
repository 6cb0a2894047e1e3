"""Training on the musician's own MIDI (issue 18): the folder scan, --init-from a model's name or
folder, runs that pause, resume and install, and the faults: empty folder, no usable windows,
corrupt files among good ones, a full disk during a checkpoint, a kill mid-step, a NaN loss."""
import json
import os
import signal
import subprocess
import sys
import time

import mido
import numpy as np
import pytest

from core.errors import JobCancelled, UserError
from core.jobs import JobToken, run_job

import tensorflow as tf  # noqa: F401 - a hard dependency: a broken install must fail here, not skip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TPB = 480


@pytest.fixture(autouse=True)
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))


# ----------------------------------------------------------------- files
def _track(notes, channel=0, program=0, name="t"):
    """notes: (pitch, start beat, length in beats)."""
    events = []
    for pitch, start, length in notes:
        events.append((int(start * TPB), 1, pitch))
        events.append((int((start + length) * TPB), 0, pitch))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0),
                            mido.Message("program_change", program=program, channel=channel, time=0)])
    now = 0
    for tick, on, pitch in events:
        track.append(mido.Message("note_on" if on else "note_off", note=pitch, velocity=90 if on else 0,
                                  channel=channel, time=tick - now))
        now = tick
    return track


def write_midi(path, tracks, numerator=4):
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=numerator, denominator=4, time=0)]))
    mid.tracks.extend(tracks)
    mid.save(path)
    return path


def melody(seed, bars=8, low=60):
    rng = np.random.default_rng(seed)
    scale = [0, 2, 4, 5, 7, 9, 11, 12]
    every = float(rng.choice([0.5, 1.0]))
    return [(low + scale[int(rng.integers(0, 8))], k * every, every * 0.9) for k in range(int(bars * 4 / every))]


def drums(bars=8):
    return [(36 if k % 2 == 0 else 38, k * 1.0, 0.25) for k in range(bars * 4)] + \
           [(42, k * 0.5, 0.2) for k in range(bars * 8)]


def melody_folder(folder, n, bars=8):
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        write_midi(os.path.join(folder, f"tune{i:02d}.mid"), [_track(melody(i, bars))])
    return folder


# ----------------------------------------------------------------- the scan
def test_scan_counts_windows_per_kind_and_lists_refused_files(tmp_path):
    from core.data.dataset import DataSettings, piece_windows, song_piece
    from core.data.scan import scan_folder
    from core.midi_io import import_midi
    from core.musicvae import converters as cv

    folder = tmp_path / "band"
    (folder / "sub").mkdir(parents=True)
    lead, lead2 = melody(1, 20, 67), melody(2, 20, 60)
    bass1, bass2 = melody(3, 20, 36), melody(4, 20, 40)
    band = write_midi(str(folder / "sub" / "band.mid"), [
        _track(lead, 0, 0, "lead"), _track(lead2, 1, 24, "guitar"),
        _track(bass1, 2, 33, "bass"), _track(bass2, 3, 34, "bass 2"), _track(drums(20), 9, 0, "kit")])
    write_midi(str(folder / "solo.mid"), [_track(melody(5, 8))])
    write_midi(str(folder / "waltz.mid"), [_track(melody(6, 8))], numerator=3)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x90")
    (folder / "notes.txt").write_text("not a MIDI file")
    messages = []
    result = run_job(scan_folder, str(folder), on_progress=lambda f, m: messages.append((f, m)))

    assert result.files_seen == 4 and result.files_read == 3 and result.refused_count == 2
    refused = dict(result.refused)
    assert set(refused) == {"broken.mid", "waltz.mid"}
    assert "truncated" in refused["broken.mid"] or "damaged" in refused["broken.mid"]
    assert "4/4" in refused["waltz.mid"]
    # what training would cut, computed here from the band file alone
    song = import_midi(band)
    expect = {}
    for kind, bars in (("melody", 2), ("drums", 2), ("trio", 16)):
        piece, _ = song_piece(song, "band", kind)
        expect[kind] = len(piece_windows(piece, DataSettings(kind, bars), cv.ConversionReport()))
    piece, _ = song_piece(song, "band", "trio")
    assert (len(piece.parts["melody"]), len(piece.parts["bass"]), len(piece.parts["drums"])) == (2, 2, 1)
    assert result.lines_per_kind["trio"] == 4  # every melody x bass x drums combination, as Magenta's TrioConverter
    one = piece_windows(piece.__class__(piece.source, piece.name, piece.length,
                                        {p: v[:1] for p, v in piece.parts.items()}),
                        DataSettings("trio", 16), cv.ConversionReport())
    assert expect["trio"] == 4 * len(one) and result.windows["trio"] == expect["trio"] > 0
    # melodies from every monophonic line: both of the band's melody tracks, and the solo file
    assert result.files_with["melody"] == 2 and result.lines_per_kind["melody"] == 3
    solo, _ = song_piece(import_midi(str(folder / "solo.mid")), "solo", "melody")
    assert result.windows["melody"] == expect["melody"] + len(
        piece_windows(solo, DataSettings("melody", 2), cv.ConversionReport()))
    assert result.windows["drums"] == expect["drums"] > 0 and result.files_with["drums"] == 1
    assert 0 < result.distinct["melody"] <= result.windows["melody"]
    assert result.problem() is None and result.usable_kinds() == ["melody", "drums", "trio"]
    assert messages[-1][0] == 1.0 and any("reading 2 of 4" in m for _, m in messages)
    text = "\n".join(result.lines())
    assert "4 MIDI files found, 3 read, 2 refused" in text and "16-bar trios" in text


def test_scan_of_an_empty_folder_and_of_one_without_usable_windows(tmp_path):
    from core.data.dataset import build_dataset
    from core.data.scan import scan_folder

    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_job(scan_folder, str(empty))
    assert result.files_seen == 0 and "no MIDI files" in result.problem()
    with pytest.raises(UserError, match="no MIDI files"):
        build_dataset(str(empty), "melody")
    with pytest.raises(UserError, match="does not exist"):
        run_job(scan_folder, str(tmp_path / "missing"))

    short = tmp_path / "short"
    short.mkdir()
    write_midi(str(short / "one-bar.mid"), [_track(melody(1, 1))])  # too short for a 2-bar window
    write_midi(str(short / "waltz.mid"), [_track(melody(2, 8))], numerator=3)
    (short / "junk.mid").write_bytes(b"\x00" * 40)
    result = run_job(scan_folder, str(short))
    assert result.files_read == 2 and result.refused_count == 3
    assert result.usable_kinds() == [] and "give no" in result.problem("melody")
    with pytest.raises(UserError, match="No 2-bar melody windows"):
        build_dataset(str(short), "melody")


def test_scan_cancels(tmp_path):
    from core.data.scan import scan_folder

    folder = melody_folder(str(tmp_path / "m"), 6)
    token = JobToken()
    seen = []

    def progress(f, m):
        seen.append(m)
        if len(seen) == 3:
            token.cancel()

    token.report_to(progress)
    with pytest.raises(JobCancelled):
        scan_folder(token, folder)
    assert len(seen) == 3


# ----------------------------------------------------------------- --init-from a model
def tiny_model(folder, step=40, seed=0):
    from core.musicvae.checkpoint import random_weights, save_model
    from core.musicvae.configs import CONFIGS

    cfg = CONFIGS["cat-mel_2bar_small"].with_sizes([32], [32], 8)
    return save_model(folder, cfg, random_weights(cfg, seed=seed), extra={"name": "tiny", "step": step}), cfg


def tiny_settings(**kw):
    from core.musicvae.training import TrainSettings

    base = dict(steps=10, batch_size=8, learning_rate=1e-2, checkpoint_every=5, keep_checkpoints=2, eval_every=5,
                eval_examples=8, eval_samples=0, seed=1, device="cpu")
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from core.data.dataset import build_dataset

    folder = melody_folder(str(tmp_path_factory.mktemp("mel")), 12)
    return folder, build_dataset(folder, "melody", None, use_cache=False)


def test_init_from_takes_a_model_folder_or_a_model_name(tmp_path, tiny_data):
    from cli import run
    from core.models.install import install_from_path
    from core.musicvae.training import checkpoint_dirs, load_checkpoint, start_step, train

    folder, ds = tiny_data
    model_dir, cfg = tiny_model(str(tmp_path / "tiny"), step=40)
    out = str(tmp_path / "from-folder")
    res = train(None, cfg, ds, out, tiny_settings(steps=44), init_from=model_dir)
    assert res.step == 44 and len(res.losses) == 4  # the model's own step count goes on
    assert res.history[0]["step"] == 40  # measured before the first step: a fine-tune's "before"
    _, _, opt, state = load_checkpoint(checkpoint_dirs(out)[-1][1])
    assert state["stages"][0]["from"] == os.path.abspath(model_dir) and state["stages"][0]["step"] == 40
    assert float(opt["adam_step"]) == 4  # Adam started afresh: a model folder holds no optimizer state

    install_from_path(JobToken(), model_dir, name="my-tiny")
    assert start_step("my-tiny") == 40
    res = train(None, cfg, ds, str(tmp_path / "by-name"), tiny_settings(steps=42), init_from="my-tiny")
    assert res.step == 42
    with pytest.raises(UserError, match="no model named 'nope'"):
        train(None, cfg, ds, str(tmp_path / "x"), tiny_settings(steps=42), init_from="nope")
    with pytest.raises(UserError, match=r"step 40 already.*--steps \+N"):
        train(None, cfg, ds, str(tmp_path / "y"), tiny_settings(steps=30), init_from="my-tiny")

    # the CLI: a name, no --config (it comes from the model), --steps +N
    cli_out = str(tmp_path / "cli-run")
    assert run(["train", "--init-from", "my-tiny", "--data", folder, "--out", cli_out, "--steps", "+3",
                "--batch", "8", "--eval-every", "3", "--eval-examples", "8", "--eval-samples", "0",
                "--device", "cpu"]) == 0
    meta = json.load(open(os.path.join(cli_out, "model.json")))
    assert meta["step"] == 43 and meta["config"]["z_size"] == 8
    # the run's folder is a model every command takes: sample, models install, --init-from again
    midi_out = str(tmp_path / "samples")
    assert run(["sample", "--model", cli_out, "-n", "2", "--out", midi_out, "--device", "cpu"]) == 0
    assert len([n for n in os.listdir(midi_out) if n.endswith(".mid")]) == 2
    assert run(["models", "install", cli_out, "--name", "from-run"]) == 0
    assert start_step("from-run") == 43
    assert run(["train", "--init-from", cli_out, "--data", folder, "--out", str(tmp_path / "again"), "--steps",
                "+2", "--batch", "8", "--eval-examples", "8", "--eval-samples", "0", "--device", "cpu"]) == 0


# ----------------------------------------------------------------- disk space, full disk, NaN
def test_disk_space_is_checked_before_a_run(tmp_path, tiny_data, monkeypatch):
    import shutil as sh

    from core.musicvae import training

    _, ds = tiny_data
    _, cfg = tiny_model(str(tmp_path / "tiny"))
    need = training.disk_space_needed(cfg, 2)
    assert need == training.checkpoint_bytes(cfg) * 4 > 0
    assert training.disk_space_needed(cfg, 5) > need
    with pytest.raises(UserError, match=r"Not enough free disk space.*MB are needed.*MB are free"):
        training.check_disk_space(str(tmp_path), cfg, 2, free=need - 1)
    assert training.check_disk_space(str(tmp_path), cfg, 2, free=need) == need
    real = sh.disk_usage
    monkeypatch.setattr(training.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    out = str(tmp_path / "run")
    with pytest.raises(UserError, match="Not enough free disk space"):
        training.train(None, cfg, ds, out, tiny_settings())
    assert not os.path.exists(out)  # nothing was started


def test_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, tiny_data, monkeypatch):
    import errno

    from core.musicvae import checkpoint as ck
    from core.musicvae.training import checkpoint_dirs, load_checkpoint, train

    _, ds = tiny_data
    _, cfg = tiny_model(str(tmp_path / "tiny"))
    out = str(tmp_path / "run")
    real = ck.atomic_write_with
    calls = {"n": 0}

    def full_after_first_checkpoint(path, write):
        if "step-0000010" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        calls["n"] += 1
        return real(path, write)

    monkeypatch.setattr(ck, "atomic_write_with", full_after_first_checkpoint)
    with pytest.raises(UserError, match=r"checkpoint of step 10.*No space left.*step 5 is kept"):
        train(None, cfg, ds, out, tiny_settings(steps=20))
    assert calls["n"] >= 1 and [s for s, _ in checkpoint_dirs(out)] == [5]
    assert not [n for n in os.listdir(os.path.join(out, "checkpoints")) if n.endswith(".partial")]
    _, weights, opt, state = load_checkpoint(checkpoint_dirs(out)[-1][1])
    assert state["step"] == 5 and all(np.isfinite(w).all() for w in weights.values())
    monkeypatch.setattr(ck, "atomic_write_with", real)  # space freed: the run goes on from step 5
    res = train(None, cfg, ds, out, tiny_settings(steps=12), resume=True)
    assert res.step == 12 and len(res.losses) == 7


def test_a_loss_that_becomes_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path, tiny_data, monkeypatch):
    from core.musicvae import training

    _, ds = tiny_data
    _, cfg = tiny_model(str(tmp_path / "tiny"))
    out = str(tmp_path / "run")
    real = training.Trainer.train_step

    def poisoned(self, tokens, step, seed):
        result = real(self, tokens, step, seed)
        if step == 7:  # the eighth step
            result["loss"] = float("nan")
        return result

    monkeypatch.setattr(training.Trainer, "train_step", poisoned)
    with pytest.raises(UserError, match=r"loss became nan at step 8.*checkpoint of step 5 is kept"):
        training.train(None, cfg, ds, out, tiny_settings(steps=20))
    assert [s for s, _ in training.checkpoint_dirs(out)] == [5]
    assert not os.path.exists(os.path.join(out, "model.json"))  # no model written from the bad weights
    monkeypatch.setattr(training.Trainer, "train_step", real)
    res = training.train(None, cfg, ds, out, tiny_settings(steps=9, learning_rate=1e-3), resume=True)
    assert res.step == 9 and np.isfinite(res.last_loss)


# ----------------------------------------------------------------- killed mid-step
def test_a_run_killed_mid_step_resumes(tmp_path, tiny_data):
    from core.musicvae import load_model
    from core.musicvae.training import checkpoint_dirs

    folder, _ = tiny_data
    out = str(tmp_path / "killed")
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    base = [sys.executable, os.path.join(ROOT, "main.py"), "train", "--config", "cat-mel_2bar_small", "--sizes",
            "tiny", "--data", folder, "--out", out, "--batch", "8", "--checkpoint-every", "3", "--eval-every",
            "1000", "--eval-samples", "0", "--device", "cpu"]
    child = subprocess.Popen(base + ["--steps", "100000"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(checkpoint_dirs(out)) < 2:
            assert child.poll() is None, "the training process ended by itself"
            time.sleep(0.2)
        time.sleep(0.3)  # somewhere inside a later step (or a checkpoint being written)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    last = checkpoint_dirs(out)[-1][0]
    assert last >= 6
    done = subprocess.run(base + ["--resume", "--steps", "+2"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"finished at step {last + 2}" in done.stdout
    assert json.load(open(os.path.join(out, "model.json")))["step"] == last + 2
    assert load_model(None, out, device="cpu").decode_tokens(np.zeros((1, 8), np.float32)).shape == (1, 32)


# ----------------------------------------------------------------- runs: pause, resume, install
def test_a_run_pauses_resumes_and_installs_its_model(tmp_path, tiny_data):
    from core.models.catalogue import find_model, installed_models
    from core.musicvae import finetune

    folder, _ = tiny_data
    model_dir, _ = tiny_model(str(tmp_path / "tiny"), step=40)
    req = finetune.RunRequest(folder=folder, kind="melody", name="my-tunes", base=model_dir, steps=12,
                              batch_size=8, device="cpu", eval_samples=0)
    run_dir = finetune.new_run(req)
    assert os.path.dirname(run_dir) == str(tmp_path / "data" / "runs")
    messages = []

    def progress(f, m):
        messages.append((f, m))
        if m.startswith("step 45/"):
            token.cancel()  # Pause

    token = JobToken(progress)
    outcome = finetune.train_run(token, run_dir)
    assert outcome.paused and outcome.step == 45 and outcome.target_step == 52
    steps = [finetune.parse_step_message(m) for _, m in messages]
    steps = [s for s in steps if s]
    assert [s["step"] for s in steps] == [41, 42, 43, 44, 45] and all(s["steps"] == 52 for s in steps)
    assert steps[0]["loss"] > 0 and steps[-1]["steps_per_second"] > 0
    fractions = [f for f, m in messages if m.startswith("step ")]
    assert 0 < fractions[0] < 0.2 and fractions[-1] == pytest.approx(5 / 12)  # this run's share, not 45/52
    assert any(m.startswith("device: CPU") for _, m in messages)
    runs = finetune.unfinished_runs()
    assert [(r.path, r.step, r.start_step, r.target_step) for r in runs] == [(run_dir, 45, 40, 52)]
    assert "my-tunes" in runs[0].describe() and runs[0].done_fraction == pytest.approx(5 / 12)
    with pytest.raises(UserError):
        find_model("my-tunes")

    later = []
    outcome = run_job(finetune.train_run, run_dir,  # resumed (as after a restart: a new call, same folder)
                      on_progress=lambda f, m: later.append(finetune.parse_step_message(m)))
    assert not outcome.paused and outcome.step == 52 and outcome.installed_name == "my-tunes"
    later = [s for s in later if s]
    assert [s["step"] for s in later] == list(range(46, 53))
    assert [s["step"] for s in later if "held_out_accuracy" in s] == [50]  # evaluated every 10 steps
    entry = find_model("my-tunes")
    assert entry.origin == "installed" and entry.path == outcome.installed_path
    card = json.load(open(os.path.join(entry.path, "model-card.json")))
    assert card["trained_on"]["folder"] == folder and card["trained_on"]["steps"] == 12
    assert card["summary"].startswith("fine-tuned from") and "windows" in card["summary"]
    assert card["fine_tune"]["loss"]["before"] > 0 and card["held_out"]["examples"] > 0
    assert "fine-tuned from" in [e for e in installed_models() if e.name == "my-tunes"][0].summary
    assert finetune.unfinished_runs() == []
    assert not os.path.exists(os.path.join(run_dir, "checkpoints"))  # the installed copy is the model
    with pytest.raises(UserError, match="installed already"):
        finetune.new_run(finetune.RunRequest(folder=folder, kind="melody", name="my-tunes", base=model_dir, steps=5))
    with pytest.raises(UserError, match="left alone"):
        finetune.discard_run(str(tmp_path))


def test_parse_step_message_reads_only_step_messages():
    from core.musicvae.finetune import parse_step_message

    msg = ("step 12/300  loss 31.412  acc 0.912  kl 48.0  1.85 steps/s  ETA 2m31s  held-out free-running acc "
           "0.874  samples' notes/bar vs data melody 1.02")
    assert parse_step_message(msg) == {"step": 12, "steps": 300, "loss": 31.412, "accuracy": 0.912, "kl": 48.0,
                                       "steps_per_second": 1.85, "eta": "2m31s", "held_out_accuracy": 0.874}
    assert "held_out_accuracy" not in parse_step_message(msg.split("  held-out")[0])
    assert parse_step_message("building the model (new)") is None
    assert parse_step_message("step 1/2  loss nan  acc x  kl 1  1 steps/s  ETA 0m01s") is None


# ----------------------------------------------------------------- measured, at tiny scale
def test_finetuning_mel_2bar_on_one_style_moves_it_there(tmp_path):
    """Four Palestrina movements (music21's corpus, written as .mid here), 40 steps from the embedded
    mel_2bar: the held-out loss on the style falls, and more samples resemble it (pitch-class
    histogram and notes per bar), their density moving toward the style's. The full-size numbers:
    benchmarks/bench_finetune.py."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import bench_finetune as bench

    from core.data.dataset import build_dataset
    from core.data.stats import style_resemblance
    from core.models.catalogue import find_model
    from core.musicvae import finetune

    folder = str(tmp_path / "palestrina")
    assert len(bench.write_style_folder(folder, 4)) == 4
    req = finetune.RunRequest(folder=folder, kind="melody", name="palestrina", base="mel_2bar", steps=40,
                              batch_size=32, device="cpu", eval_samples=0)
    outcome = run_job(finetune.train_run, finetune.new_run(req))
    loss = outcome.card["fine_tune"]["loss"]
    assert loss["after"] < loss["before"]
    style = build_dataset(folder, "melody", None).train
    before = style_resemblance(bench.samples_of(find_model("mel_2bar").path, 64), style)
    after = style_resemblance(bench.samples_of(outcome.installed_path, 64), style)
    assert after["share"] > before["share"], (before, after)
    target = before["style_notes_per_bar"]
    assert abs(after["notes_per_bar"] - target) < abs(before["notes_per_bar"] - target), (before, after)


def test_finetuning_trio_16bar_on_one_style_moves_it_there(tmp_path):
    """Four Palestrina movements as band files (lead, bass, one genre of generated drums), a few
    steps from the embedded trio_16bar: the held-out loss on the style falls, the samples'
    melody and bass densities and drum hits per bar move toward the style's, and so does where
    in the bar the drums hit (drum_resemblance's onset-profile distance); at temperature 1.0
    (where the fine-tuned lines do not thin out) more melodies and more drum parts resemble the
    style (the base model's resemble it not at all). The full-size numbers:
    benchmarks/bench_finetune.py --model trio_16bar --temperatures 0.5,1.0."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import bench_finetune as bench

    from core.data.dataset import build_dataset
    from core.data.stats import drum_resemblance, style_resemblance, window_stats
    from core.models.catalogue import find_model
    from core.musicvae import finetune

    folder = str(tmp_path / "band")
    assert len(bench.write_style_folder(folder, 4, band_genre="reggae")) == 4
    req = finetune.RunRequest(folder=folder, kind="trio", name="palestrina-band", base="trio_16bar", steps=4,
                              batch_size=16, device="cpu", eval_samples=0)
    outcome = run_job(finetune.train_run, finetune.new_run(req))
    loss = outcome.card["fine_tune"]["loss"]
    assert loss["after"] < loss["before"]
    windows = build_dataset(folder, "trio", None, bars=16).train
    old_samples = bench.samples_of(find_model("trio_16bar").path, 16)
    new_samples = bench.samples_of(outcome.installed_path, 16)
    style, before, after = (window_stats(t, "trio") for t in (windows, old_samples, new_samples))
    for part, key in (("melody", "notes_per_bar"), ("bass", "notes_per_bar"), ("drums", "hits_per_bar")):
        target = style[part][key]
        assert abs(after[part][key] - target) < abs(before[part][key] - target), (part, before, after, style)
    drums_before, drums_after = (drum_resemblance(t[..., 2], windows[..., 2]) for t in (old_samples, new_samples))
    assert drums_after["onset_distance"] < drums_before["onset_distance"], (drums_before, drums_after)
    old_samples = bench.samples_of(find_model("trio_16bar").path, 16, temperature=1.0)
    new_samples = bench.samples_of(outcome.installed_path, 16, temperature=1.0)
    for col, measure in ((0, style_resemblance), (2, drum_resemblance)):
        before, after = (measure(t[..., col], windows[..., col]) for t in (old_samples, new_samples))
        assert after["share"] > before["share"], (col, before, after)


def test_style_resemblance_tells_a_style_from_another():
    from core.data.stats import style_resemblance

    def windows(every, seed, n=40):
        rng = np.random.default_rng(seed)
        out = np.zeros((n, 32), np.int64)
        for i in range(n):
            for k, step in enumerate(range(0, 32, every)):
                out[i, step] = 2 + 60 + [0, 2, 4, 5, 7, 9, 11][int(rng.integers(0, 7))] - 21
        return out

    slow, fast = windows(8, 0), windows(2, 1)
    same = style_resemblance(windows(8, 2), slow)
    other = style_resemblance(fast, slow)
    assert same["share"] > 0.3 and other["share"] == 0.0
    assert other["share_density_in_range"] == 0.0 and same["notes_per_bar"] == pytest.approx(2.0)
    assert style_resemblance(np.zeros((4, 32), np.int64), slow)["silent"] == 4


def test_drum_resemblance_tells_a_groove_from_another():
    """Onset positions per drum class and hits per bar: generated one-drop reggae resembles
    other reggae bars and no rock bars (kick on 1 and 3, snare on 2 and 4), at similar density."""
    from core.data import drum_patterns
    from core.data.stats import drum_resemblance
    from core.musicvae import converters as cv

    def windows(genre, first, n=40, bars=2):
        return np.array([cv.drum_tokens(drum_patterns.generate(genre, bars, seed=first + i), bars * 16)
                         for i in range(n)])

    reggae = windows("reggae", 0)
    same = drum_resemblance(windows("reggae", 1000), reggae)
    other = drum_resemblance(windows("rock", 1000), reggae)
    assert same["share"] > 0.3 and other["share"] == 0.0
    assert other["share_onsets_close"] == 0.0 and other["onset_distance"] > 3 * same["onset_distance"]
    assert same["hits_per_bar"] == pytest.approx(same["style_hits_per_bar"], rel=0.1)
    assert drum_resemblance(np.zeros((4, 32), np.int64), reggae)["silent"] == 4
