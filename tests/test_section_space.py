"""Section spaces (core/section_space.py, main.py space, arrange --space).

Cheap checks use the tiny Magenta-made fixture checkpoints (random weights, 16-number codes).
What a space learns is checked on the embedded mel_2bar: in codes (samples stay in the region
the clips came from) and in notes (trained on high, dense melodies, its samples are high and
dense where the model's prior samples are not).
"""
import copy
import dataclasses
import io
import json
import os
import zipfile

import numpy as np
import pytest

from cli import run
from core import generation as g
from core import section_space as ss
from core.errors import JobCancelled, UserError
from core.jobs import JobToken, run_job
from core.midi_io import export_midi, import_midi
from core.song import Clip, Note, Section, Song

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "magenta")
MEL_FIX = os.path.join(FIX, "cat-mel_2bar_big")
EMBEDDED_MEL = os.path.join(ROOT, "resources", "models", "mel_2bar")


@pytest.fixture(scope="module")
def mel():
    from core.musicvae import load_model

    return load_model("cat-mel_2bar_big", MEL_FIX, device="cpu", name="mel-fixture")


@pytest.fixture(scope="module")
def drums():
    from core.musicvae import load_model

    return load_model("cat-drums_2bar_small", os.path.join(FIX, "cat-drums_2bar_small"), device="cpu",
                      name="drums-fixture")


@pytest.fixture(scope="module")
def mel_2bar():
    from core.musicvae import load_model

    return load_model(None, EMBEDDED_MEL, device="cpu", name="mel_2bar")


def high_melody(rng, name="high"):
    """Two bars of eighths and sixteenths stepping around within 77..91: high and dense."""
    notes, t, p = [], 0.0, int(rng.integers(79, 86))
    while t < 8.0 - 1e-9:
        d = 0.5 if rng.random() < 0.7 else 0.25
        notes.append(Note(p, t, min(t + d, 8.0), 90))
        t += d
        p = int(np.clip(p + rng.choice([-3, -2, -1, 1, 2, 3]), 77, 91))
    return Clip(name=name, length=8.0, notes={"melody": notes})


def melodies(n, seed=0):
    rng = np.random.default_rng(seed)
    return [high_melody(rng, f"high {i + 1}") for i in range(n)]


def chord_clip():
    return Clip(name="Chords", length=8.0, notes={"melody": [
        Note(60, 0, 1), Note(64, 0, 1), Note(67, 0, 1), Note(72, 2, 3), Note(76, 2, 3)]})


def long_clip():
    return Clip(name="Long tune", length=32.0, notes={"melody": [Note(60 + i % 7, i, i + 0.5) for i in range(32)]})


def quick(**kw):
    return ss.SpaceSettings(steps=kw.pop("steps", 40), **kw)


@pytest.fixture(scope="module")
def small_space(mel):
    return run_job(ss.train, mel, melodies(8), "chorus", quick())


# ------------------------------------------------------------------ sizes and settings
def test_layer_sizes_follow_the_big_code():
    assert ss.hidden_sizes(256) == (1024, 256, 64)  # MidiMe's own sizes for a 256-number code
    assert ss.hidden_sizes(512) == (1024, 256, 64)  # capped: twice the code, not four times
    assert ss.hidden_sizes(128) == (512, 128, 64)
    assert ss.hidden_sizes(16) == (256, 64, 64)


def test_layer_sizes_can_be_given_for_comparisons():
    assert ss.SpaceSettings(hidden=[32, 16, 8]).hidden == (32, 16, 8)
    with pytest.raises(ss.SectionSpaceError, match="three layer sizes"):
        ss.SpaceSettings(hidden=(32, 16))


@pytest.mark.parametrize("latent", [3, 17])
def test_latent_size_outside_4_to_16_is_refused(latent):
    with pytest.raises(ss.SectionSpaceError, match="4 to 16"):
        ss.SpaceSettings(latent=latent)


def test_big_codes_train_with_the_compiled_step():
    """256- and 512-number codes (Magenta's models) take the XLA-compiled train step."""
    codes = np.random.default_rng(0).standard_normal((10, 256)).astype(np.float32)
    record = {"name": "big", "z_size": 256, "kind": "melody", "config": "hierdec-mel_16bar"}
    space = run_job(ss.train_on_codes, codes, record, "verse", quick(steps=60))
    assert 256 >= ss.XLA_FROM_Z and space.hidden == (1024, 256, 64)
    assert space.reconstruction[-5:].mean() < space.reconstruction[:5].mean()
    assert space.sample_codes(3, 0).shape == (3, 256)


def test_eight_copies_of_one_clip_give_a_space_that_samples_that_clip():
    code = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    record = {"name": "m", "z_size": 16, "kind": "melody", "config": "x"}
    space = run_job(ss.train_on_codes, np.repeat(code[None], 8, 0), record, "verse", quick(steps=200))
    assert space.scale == 1.0  # no spread to divide by
    assert np.abs(space.sample_codes(5, 1) - code).max() < 0.2


def test_more_clips_than_a_batch_train_in_minibatches():
    codes = np.random.default_rng(2).standard_normal((300, 16)).astype(np.float32)
    record = {"name": "m", "z_size": 16, "kind": "melody", "config": "x"}
    space = run_job(ss.train_on_codes, codes, record, "verse", quick(steps=30))
    assert space.info["batch"] == ss.BATCH and space.steps == 30 and space.codes.shape == (300, 16)
    assert ss.default_steps(300) == 3000 and ss.default_steps(256) == 1500


def test_clips_for_label_takes_labelled_clips_and_the_clips_of_labelled_sections():
    song = Song()
    a = Clip("a", 8.0, label="Chorus")
    b = Clip("b", 8.0)
    c = Clip("c", 8.0, label="verse")
    for clip in (a, b, c):
        song.add_clip(clip)
    song.set_sections([Section("chorus", b.id, 0, 8), Section("chorus", a.id, 8, 8),
                       Section("verse", c.id, 16, 8)])
    assert [x.name for x in ss.clips_for_label(song, "chorus")] == ["a", "b"]


# ------------------------------------------------------------------ bad input
def test_too_few_clips_says_how_many_and_names_the_refused_ones(mel):
    clips = melodies(6) + [chord_clip()]
    with pytest.raises(ss.SectionSpaceError) as err:
        run_job(ss.train, mel, clips, "bridge", quick())
    msg = err.value.message
    assert "at least 8 clips" in msg and '"bridge" has 6 clips' in msg
    assert '"Chords": it plays chords' in msg


def test_clips_the_model_cannot_read_are_named_with_the_reason_and_left_out(mel):
    clips = melodies(8) + [chord_clip(), long_clip(), Clip("Empty", 8.0)]
    before = copy.deepcopy(clips)
    space = run_job(ss.train, mel, clips, "verse", quick())
    refused = dict(map(tuple, space.info["refused"]))
    assert set(refused) == {"Chords", "Long tune", "Empty"}
    assert "chords" in refused["Chords"] and "one note at a time" in refused["Chords"]
    assert "runs to bar 8" in refused["Long tune"] and "up to 2 bars" in refused["Long tune"]
    assert "no notes" in refused["Empty"]
    assert space.info["clip_count"] == 8 and space.info["clips"] == [c.name for c in clips[:8]]
    assert clips == before  # nothing was changed on the clips


def test_a_clip_made_by_the_model_uses_its_stored_code(mel):
    made = run_job(g.sample, mel, 8, 0.5, seed=1)
    codes, kept, refused = ss.clip_codes(None, mel, made)
    assert not refused and len(kept) == 8
    np.testing.assert_array_equal(codes, np.array([c.latent for c in made], np.float32))


def test_cancel_mid_training_gives_nothing_and_changes_nothing(mel, tmp_path, small_space):
    path = tmp_path / "chorus.space"
    ss.save_space(small_space, path)
    before = path.read_bytes()
    clips = melodies(8)
    kept = copy.deepcopy(clips)
    control = ss.TrainControl()
    token = JobToken()

    def on_progress(fraction, message):
        if "step 25/" in message:
            token.cancel()

    token._on_progress = on_progress
    with pytest.raises(JobCancelled):
        ss.train(token, mel, clips, "chorus", quick(steps=400), control)
    assert len(control) == 25  # it stopped at the step it was cancelled on
    assert clips == kept
    assert path.read_bytes() == before


def test_good_enough_stops_early_and_keeps_what_was_learned(mel):
    control = ss.TrainControl()
    seen = []

    def on_progress(fraction, message):
        seen.append(message)
        if "step 30/" in message:
            control.request_stop()

    space = run_job(ss.train, mel, melodies(8), "chorus", quick(steps=400), control, on_progress=on_progress)
    assert space.steps == 30 and space.info["stopped_early"]
    steps, recon, kl = control.curve()
    assert steps == list(range(1, 31))
    np.testing.assert_allclose(recon, space.reconstruction, rtol=1e-6)
    np.testing.assert_allclose(kl, space.kl, rtol=1e-6)
    assert any("reconstruction" in m and "KL" in m for m in seen)  # each step reports both
    assert recon[-1] < recon[0]  # it did learn something in those steps


def test_damaged_or_foreign_space_files_are_clear_errors(small_space, tmp_path):
    good = ss.space_bytes(small_space)

    def rezip(header_change=None, drop=None, weights=None):
        src = zipfile.ZipFile(io.BytesIO(good))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name in src.namelist():
                if name == drop:
                    continue
                data = src.read(name)
                if name == ss.HEADER_NAME and header_change:
                    header = json.loads(data)
                    header_change(header)
                    data = json.dumps(header).encode()
                if name == ss.WEIGHTS_NAME and weights is not None:
                    data = weights
                z.writestr(name, data)
        return out.getvalue()

    def set_(key, value):
        return lambda h: h.__setitem__(key, value)

    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hello")
    wrong_shape = io.BytesIO()
    np.savez(wrong_shape, center=np.zeros(3))
    flipped = bytearray(good)
    at = good.find(b"weights.npz") + 200  # inside the compressed weights
    flipped[at] ^= 0xFF
    cases = {
        "empty": b"",
        "text": b"not a space at all\n",
        "truncated": good[: len(good) // 2],
        "a flipped byte": bytes(flipped),
        "another zip": other_zip.getvalue(),
        "another format": rezip(set_("format", "something-else")),
        "no weights": rezip(drop=ss.WEIGHTS_NAME),
        "weights of the wrong shape": rezip(weights=wrong_shape.getvalue()),
        "a latent out of range": rezip(set_("latent", 99)),
        "no label": rezip(lambda h: h.pop("label")),
    }
    for what, data in cases.items():
        path = tmp_path / f"{what}.space"
        path.write_bytes(data)
        with pytest.raises(ss.SpaceFileError) as err:
            ss.load_space(path)
        assert str(path) in err.value.message, what
    newer = tmp_path / "newer.space"
    newer.write_bytes(rezip(set_("version", ss.FORMAT_VERSION + 1)))
    with pytest.raises(ss.SpaceFileError, match="newer Latent Studio"):
        ss.load_space(newer)
    with pytest.raises(ss.SpaceFileError, match="cannot read"):
        ss.load_space(tmp_path / "missing.space")


def test_random_damage_to_a_space_file_only_ever_gives_space_file_errors(small_space):
    good = ss.space_bytes(small_space)
    rng = np.random.default_rng(1)
    loaded = refused = 0
    for _ in range(300):
        data = bytearray(good)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        try:
            ss.space_from_bytes(bytes(data))
            loaded += 1  # a byte of a timestamp or the zip's padding
        except ss.SpaceFileError:
            refused += 1
    assert refused > 250


@pytest.mark.parametrize("change", [
    {"latent": 1e400}, {"model": ["m"]}, {"info": "text"}, {"hidden": [10 ** 9, 64, 64]},
    {"scale": -1}, {"label": None, "latent": "eight"},
])
def test_garbled_headers_are_space_file_errors(small_space, change):
    src = zipfile.ZipFile(io.BytesIO(ss.space_bytes(small_space)))
    header = json.loads(src.read(ss.HEADER_NAME))
    header.update(change)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(ss.HEADER_NAME, json.dumps(header).replace("Infinity", "1e400"))
        z.writestr(ss.WEIGHTS_NAME, src.read(ss.WEIGHTS_NAME))
    with pytest.raises(ss.SpaceFileError):
        ss.space_from_bytes(out.getvalue())


def test_a_space_refuses_another_models_codes(small_space, drums, tmp_path):
    path = tmp_path / "chorus.space"
    ss.save_space(small_space, path)
    with pytest.raises(ss.SpaceModelError, match="mel-fixture.*drums-fixture"):
        ss.load_space(path, drums)
    with pytest.raises(ss.SpaceModelError):
        run_job(ss.sample, drums, small_space, 2)
    with pytest.raises(ss.SpaceModelError):
        small_space.encode(np.zeros((1, 7), np.float32))
    assert isinstance(ss.SpaceModelError("x"), UserError)


# ------------------------------------------------------------------ files and sampling
def test_save_and_load_give_identical_samples_for_a_seed(mel, small_space, tmp_path):
    path = ss.save_space(small_space, tmp_path / "chorus.space")
    loaded = ss.load_space(path, mel)
    assert (loaded.label, loaded.latent, loaded.hidden) == ("chorus", 8, (256, 64, 64))
    np.testing.assert_array_equal(loaded.reconstruction, small_space.reconstruction)
    np.testing.assert_array_equal(loaded.codes, small_space.codes)
    assert loaded.codes.shape == (8, mel.z_size)
    assert loaded.info["clips"] == small_space.info["clips"]
    a = run_job(ss.sample, mel, small_space, 5, 0.8, seed=11, reproducible=True)
    b = run_job(ss.sample, mel, loaded, 5, 0.8, seed=11, reproducible=True)
    assert [c.notes for c in a] == [c.notes for c in b]
    assert [c.latent for c in a] == [c.latent for c in b]
    assert [c.name for c in a] == ["Chorus 1", "Chorus 2", "Chorus 3", "Chorus 4", "Chorus 5"]
    assert all(c.label == "chorus" and c.origin == "section space" and c.model == "mel-fixture" for c in a)


def test_reconstructions_pair_the_models_decode_with_the_spaces(mel, small_space):
    pairs = run_job(ss.reconstructions, mel, small_space, 3)
    assert [(a.name, b.name) for a, b in pairs] == [(f"high {i} (model)", f"high {i} (space)") for i in (1, 2, 3)]
    np.testing.assert_allclose([a.latent for a, _ in pairs], small_space.codes[:3], rtol=1e-6)
    np.testing.assert_allclose([b.latent for _, b in pairs], small_space.reconstruct(small_space.codes[:3]),
                               rtol=1e-5, atol=1e-6)
    assert all(a.length == b.length == 8.0 for a, b in pairs)


def test_sampling_is_cancellable(mel, small_space):
    token = JobToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        ss.sample(token, mel, small_space, 8)


def test_the_small_network_in_numpy_reconstructs_what_training_saw(mel):
    """The numpy forward pass (sampling, reconstruction) is the network TensorFlow trained:
    after training, the training codes come back much nearer than the clips' centre is."""
    clips = melodies(12, seed=3)
    space = run_job(ss.train, mel, clips, "chorus", quick(steps=600))
    codes, _, _ = ss.clip_codes(None, mel, clips)
    err = np.linalg.norm(space.reconstruct(codes) - codes, axis=1).mean()
    spread = np.linalg.norm(codes - codes.mean(0), axis=1).mean()
    assert err < 0.5 * spread, (err, spread)


def test_fill_takes_a_labels_clip_from_its_space(mel, small_space):
    song = Song()
    song.set_sections([Section("verse", None, 0, 8), Section("chorus", None, 8, 8)])
    g.fill(song, mel, seed=4, spaces={"chorus": small_space})
    by_label = {s.label: song.clips[s.clip_id] for s in song.sections}
    assert by_label["chorus"].origin == "section space" and by_label["verse"].origin == "sampled"
    rng = np.random.default_rng(4)
    mel.random_z(2, rng)
    np.testing.assert_allclose(by_label["chorus"].latent, small_space.sample_codes(1, rng)[0], rtol=1e-6)
    plain = Song()
    plain.set_sections([Section("verse", None, 0, 8), Section("chorus", None, 8, 8)])
    g.fill(plain, mel, seed=4)
    verse = next(plain.clips[s.clip_id] for s in plain.sections if s.label == "verse")
    assert verse.latent == by_label["verse"].latent  # the other labels keep their codes


def test_a_varied_fill_starts_each_labels_phrases_from_its_space(mel, small_space):
    far = dataclasses.replace(small_space, center=small_space.center + 50.0)  # codes near 50, not 0
    song = Song()
    song.set_sections([Section("verse", None, 0, 32), Section("chorus", None, 32, 32)])
    g.fill(song, mel, seed=5, vary=0.8, spaces={"chorus": far})
    clip = {s.label: song.clips[s.clip_id] for s in song.sections}
    assert clip["chorus"].length == 32 and clip["chorus"].origin == "section space"
    assert clip["verse"].origin == "sampled"
    assert np.mean(clip["chorus"].latent) > 40 and abs(np.mean(clip["verse"].latent)) < 5


# ------------------------------------------------------------------ what a space learns
def test_samples_stay_in_the_region_the_clips_came_from(mel_2bar):
    """30 clips decoded from codes in one small region (a code the prior drew, plus noise of
    0.3 per dimension) are encoded again; their codes' mean is the region's centre.

    The bound: the training clips' own codes sit at about a quarter of the distance the
    prior's samples do (r_train, printed). A space that learned nothing would sample about as
    far as the prior (ratio near 1); one that learned the region samples about as far out as
    its clips. Half the prior's distance, and no more than twice the clips' own, is far from
    the first and leaves room for the second."""
    rng = np.random.default_rng(0)
    centre = mel_2bar.random_z(1, rng)[0]
    z = centre + 0.3 * rng.standard_normal((30, mel_2bar.z_size)).astype(np.float32)
    made = run_job(g.decode_codes, mel_2bar, z, 0.0)
    clips = [Clip(f"region {i}", 8.0, notes=c.notes) for i, c in enumerate(made)]  # no stored codes
    space = run_job(ss.train, mel_2bar, clips, "verse", ss.SpaceSettings(steps=800))
    codes, _, _ = ss.clip_codes(None, mel_2bar, clips)
    centre = codes.mean(0)
    far = lambda c: float(np.linalg.norm(c - centre, axis=1).mean())  # noqa: E731
    prior = far(mel_2bar.random_z(200, 1))
    ratio, r_train = far(space.sample_codes(200, 2)) / prior, far(codes) / prior
    print(f"space samples / prior samples, mean distance to the region's centre: {ratio:.3f} "
          f"(the training clips' own codes: {r_train:.3f})")
    assert ratio < 0.5 and ratio < 2 * r_train


def _pitch_and_density(clip):
    notes = [n for _, n in clip.all_notes()]
    if not notes:
        return 0.0, 0.0
    return float(np.mean([n.pitch for n in notes])), len(notes) / (clip.length / 4)


def test_trained_on_high_dense_melodies_its_samples_are_high_and_dense(mel_2bar):
    """The musical proof: 30 melodies with mean pitch above 76 and 6 or more notes a bar. The
    space's samples come nearer those statistics than the model's prior samples do."""
    clips = melodies(30, seed=7)
    stats = np.array([_pitch_and_density(c) for c in clips])
    assert stats[:, 0].min() > 76 and stats[:, 1].min() >= 6
    target = stats.mean(0)
    space = run_job(ss.train, mel_2bar, clips, "high", ss.SpaceSettings(steps=800))
    ours = np.array([_pitch_and_density(c) for c in run_job(ss.sample, mel_2bar, space, 32, 0.5, seed=1,
                                                             reproducible=True)])
    prior = np.array([_pitch_and_density(c) for c in run_job(g.sample, mel_2bar, 32, 0.5, seed=1,
                                                              reproducible=True)])
    gap_ours = np.abs(ours - target).mean(0)
    gap_prior = np.abs(prior - target).mean(0)
    print(f"training: pitch {target[0]:.1f}, notes/bar {target[1]:.1f}; space samples {ours.mean(0).round(1)}, "
          f"prior samples {prior.mean(0).round(1)}")
    assert gap_ours[0] < gap_prior[0] and gap_ours[1] < gap_prior[1]
    high_dense = lambda s: float(np.mean((s[:, 0] > 76) & (s[:, 1] >= 6)))  # noqa: E731
    assert high_dense(ours) > high_dense(prior) + 0.5


# ------------------------------------------------------------------ the command line
def write_midi(clip, path):
    song = Song(title=clip.name)
    track = song.ensure_track("melody")
    placed = Clip(clip.name, clip.length, notes={track.id: list(clip.notes["melody"])})
    song.add_clip(placed)
    export_midi(song, path, clip=placed)


def notes_of(path):
    return sorted((n.pitch, n.start, n.end) for c in import_midi(path).clips.values() for _, n in c.all_notes())


def test_cli_trains_samples_and_arranges_from_a_folder(tmp_path, capsys):
    folder = tmp_path / "choruses"
    folder.mkdir()
    for i, clip in enumerate(melodies(9)):
        write_midi(clip, folder / f"chorus_{i:02d}.mid")
    write_midi(chord_clip(), folder / "chords.mid")
    (folder / "broken.mid").write_bytes(b"MThd\x00")
    out = tmp_path / "chorus.space"
    model = ["--model", MEL_FIX, "--config", "cat-mel_2bar_big", "--device", "cpu"]
    code = run(["space", "train", *model, "--clips", str(folder), "--label", "chorus", "--out", str(out),
                "--latent", "6", "--steps", "50"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "left out chords.mid: it plays chords" in captured.err
    assert "left out broken.mid" in captured.err
    assert "trained the chorus space on 9 clip(s)" in captured.out and f"wrote {out}" in captured.out
    space = ss.load_space(out)
    assert space.latent == 6 and space.steps == 50 and space.model_name == "cat-mel_2bar_big"
    assert run(["space", "show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "the chorus section space" in shown and "latent 6, layers 256-64-64" in shown
    assert "clip       chorus_00.mid" in shown and "left out   chords.mid: it plays chords" in shown
    assert run(["space", "show", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["info"]["clip_count"] == 9

    samples = tmp_path / "samples"
    args = ["space", "sample", str(out), "-n", "3", "--temperature", "0.5", "--seed", "2",
            "--out", str(samples), *model]
    assert run(args) == 0, capsys.readouterr().err
    files = sorted(os.listdir(samples))
    assert files == [f"cat-mel_2bar_big_chorus_{i:02d}.mid" for i in (1, 2, 3)]
    assert run(args[:-len(model) - 2] + ["--out", str(tmp_path / "again"), *model]) == 0
    for name in files:  # a seed gives the same notes
        assert notes_of(samples / name) == notes_of(tmp_path / "again" / name)

    song = tmp_path / "song.mid"
    assert run(["arrange", *model, "--form", "verse chorus verse chorus", "--space", f"chorus={out}",
                "--out", str(song), "--seed", "1"]) == 0
    assert "(from its section space)" in capsys.readouterr().out
    assert run(["arrange", *model, "--form", "verse chorus", "--space", f"bridge={out}", "--out", str(song)]) == 2
    assert "the form has no bridge section" in capsys.readouterr().err
    assert run(["arrange", *model, "--form", "verse chorus", "--space", "chorus", "--out", str(song)]) == 2
    assert "LABEL=FILE.space" in capsys.readouterr().err


def test_cli_trains_on_a_projects_clips_of_the_label(tmp_path, capsys):
    from core.project import save_project

    song = Song(title="demo")
    track = song.ensure_track("melody")
    for i, clip in enumerate(melodies(10)):
        song.add_clip(Clip(clip.name, 8.0, notes={track.id: clip.notes["melody"]},
                           label="chorus" if i < 8 else "verse"))
    path = tmp_path / "demo.lstudio"
    save_project(song, path)
    out = tmp_path / "chorus.space"
    assert run(["space", "train", "--model", MEL_FIX, "--config", "cat-mel_2bar_big", "--device", "cpu",
                "--clips", str(path), "--label", "chorus", "--out", str(out), "--steps", "20"]) == 0, \
        capsys.readouterr().err
    assert sorted(ss.load_space(out).info["clips"]) == sorted(f"high {i}" for i in range(1, 9))
    assert run(["space", "train", "--model", MEL_FIX, "--config", "cat-mel_2bar_big", "--device", "cpu",
                "--clips", str(path), "--label", "bridge", "--out", str(out)]) == 2
    assert "demo.lstudio: it has no clip labelled bridge" in capsys.readouterr().err


def test_cli_refuses_a_folder_with_too_few_clips_and_a_damaged_space(tmp_path, capsys):
    folder = tmp_path / "few"
    folder.mkdir()
    for i, clip in enumerate(melodies(3)):
        write_midi(clip, folder / f"c{i}.mid")
    model = ["--model", MEL_FIX, "--config", "cat-mel_2bar_big", "--device", "cpu"]
    assert run(["space", "train", *model, "--clips", str(folder), "--label", "x", "--out",
                str(tmp_path / "x.space")]) == 2
    assert "at least 8 clips" in capsys.readouterr().err
    assert not (tmp_path / "x.space").exists()
    bad = tmp_path / "bad.space"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert run(["space", "sample", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "is not a section space" in capsys.readouterr().err
    assert run(["space", "train", *model, "--clips", str(folder), "--label", "x", "--out",
                str(tmp_path / "x.txt")]) == 2
    assert "ending in .space" in capsys.readouterr().err
