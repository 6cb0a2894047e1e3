"""Model jobs of the explorer (core.generation) and attribute vectors (core.attributes).

The models are the tiny Magenta-made fixture checkpoints: random weights, so the notes are
noise, but counts, lengths, codes, cancel and the direction of attribute moves are testable.
"""
import threading
import time

import numpy as np
import pytest

from core import attributes as A
from core import generation as g
from core.errors import JobCancelled, UserError
from core.jobs import JobToken, run_job
from core.midi_io import export_midi
from core.musicvae import latent as latent_ops
from core.song import Clip, Note, Song

FIX = "tests/fixtures/magenta"


@pytest.fixture(scope="module")
def mel():
    from core.musicvae import load_model

    return load_model("cat-mel_2bar_big", f"{FIX}/cat-mel_2bar_big", name="mel-fixture")


@pytest.fixture(scope="module")
def drums():
    from core.musicvae import load_model

    return load_model("cat-drums_2bar_small", f"{FIX}/cat-drums_2bar_small", name="drums-fixture")


def test_sample_gives_n_clips_of_the_model_length_with_codes(mel):
    clips = run_job(g.sample, mel, 5, 0.8, seed=3)
    assert len(clips) == 5
    assert all(c.length == 8.0 for c in clips)  # 2 bars of 4/4
    assert all(c.origin == "sampled" and c.model == "mel-fixture" for c in clips)
    assert all(len(c.latent) == mel.z_size for c in clips)
    assert set().union(*(c.notes for c in clips)) == {"melody"}
    assert len({tuple(c.latent) for c in clips}) == 5
    again = run_job(g.sample, mel, 5, 0.8, seed=3)
    assert [c.latent for c in again] == [c.latent for c in clips]  # the same seed, the same codes


def test_sample_rejects_a_silly_count(mel):
    with pytest.raises(UserError):
        run_job(g.sample, mel, 0)


def test_interpolation_runs_from_one_clip_to_the_other_in_order(mel):
    a, b = run_job(g.sample, mel, 2, 0.5, seed=1)
    clips = run_job(g.interpolate, mel, a, b, 6)
    assert len(clips) == 6
    assert all(c.origin == "interpolated" for c in clips)
    za, zb = np.array(a.latent), np.array(b.latent)
    path = latent_ops.interpolation(za, zb, 8)
    np.testing.assert_allclose([c.latent for c in clips], path[1:-1], atol=1e-5)
    dist_a = [np.linalg.norm(np.array(c.latent) - za) for c in clips]
    assert dist_a == sorted(dist_a)  # in order, moving away from the first clip


def test_interpolation_encodes_clips_without_a_code(mel):
    a, b = run_job(g.sample, mel, 2, 0.5, seed=2)
    plain = Clip("drawn", 8.0, notes=dict(a.notes))  # no latent: must be encoded
    clips = run_job(g.interpolate, mel, plain, b, 3)
    assert len(clips) == 3
    _, mu, _ = mel.encode([plain])
    path = latent_ops.interpolation(mu[0], np.array(b.latent), 5)
    np.testing.assert_allclose(clips[0].latent, path[1], atol=1e-4)


def test_similar_stays_near_the_clip_as_similarity_rises(mel):
    (clip,) = run_job(g.sample, mel, 1, 0.5, seed=4)
    z = np.array(clip.latent)
    near = run_job(g.similar, mel, clip, 8, 0.9, seed=1)
    far = run_job(g.similar, mel, clip, 8, 0.2, seed=1)
    assert len(near) == len(far) == 8
    assert all(c.origin == "similar" for c in near)
    d_near = np.mean([np.linalg.norm(np.array(c.latent) - z) for c in near])
    d_far = np.mean([np.linalg.norm(np.array(c.latent) - z) for c in far])
    assert d_near < d_far
    same = run_job(g.similar, mel, clip, 2, 1.0, seed=1)
    np.testing.assert_allclose(same[0].latent, z, atol=1e-6)


class SlowModel:
    """Stands in for a big model: each code takes 50 ms to decode."""

    def __init__(self, inner):
        self.inner, self.z_size, self.kind, self.name, self.config = (
            inner, inner.z_size, inner.kind, inner.name, inner.config)
        self.random_z = inner.random_z

    def decode_tokens(self, z, length=None, temperature=None, seed=None):
        time.sleep(0.05 * len(z))
        return self.inner.decode_tokens(z, length, temperature, seed)


def test_cancel_lands_within_half_a_second_of_decoding(mel):
    token = JobToken()
    slow = SlowModel(mel)
    threading.Timer(0.4, token.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(JobCancelled):
        g.sample(token, slow, 200, 0.5, seed=0)  # 10 s of work uncancelled
    cancelled_after = time.monotonic() - t0 - 0.4
    assert cancelled_after < 0.5


def test_attribute_vectors_move_the_measured_attribute(mel, drums, tmp_path):
    z = np.random.default_rng(11).standard_normal((48, mel.z_size)).astype(np.float32)
    vecs = run_job(A.compute_vectors, mel, 192, 0)
    assert set(vecs) == set(A.MELODY_ATTRIBUTES)
    for name in ("note_density", "pitch_height"):
        up = A.measure_batch(mel.decode_tokens(A.steer(z, vecs, {name: 2.0})), "melody")[name]
        down = A.measure_batch(mel.decode_tokens(A.steer(z, vecs, {name: -2.0})), "melody")[name]
        assert up.mean() > down.mean(), name
    dv = run_job(A.compute_vectors, drums, 192, 0)
    zd = np.random.default_rng(12).standard_normal((48, drums.z_size)).astype(np.float32)
    up = A.measure_batch(drums.decode_tokens(zd + 2 * dv["hit_density"]), "drums")["hit_density"]
    down = A.measure_batch(drums.decode_tokens(zd - 2 * dv["hit_density"]), "drums")["hit_density"]
    assert up.mean() > down.mean()


def test_attribute_vectors_are_cached_per_model(mel, tmp_path, monkeypatch):
    first = run_job(A.load_or_compute, mel, str(tmp_path), 64, 0)
    assert len(list(tmp_path.iterdir())) == 1

    def boom(*a, **k):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(A, "compute_vectors", boom)
    again = run_job(A.load_or_compute, mel, str(tmp_path), 64, 0)
    for k in first:
        np.testing.assert_array_equal(first[k], again[k])


def test_measures_of_a_known_melody():
    # C4 quarter notes on every beat of two bars, then an off-beat E4.
    tokens = np.zeros(32, np.int64)
    for step in range(0, 32, 4):
        tokens[step] = 2 + 60 - 21
    tokens[30] = 2 + 64 - 21
    m = A.measure(tokens, "melody")
    assert m["note_density"] == pytest.approx(9 / 2)
    assert m["syncopation"] == pytest.approx(1 / 9)
    assert m["average_interval"] == pytest.approx(4 / 8)
    assert m["pitch_height"] == pytest.approx((8 * 60 + 64) / 9)


def test_import_cuts_a_midi_file_into_model_windows(mel, tmp_path):
    song = Song()
    mel_track = song.ensure_track("melody")
    notes = [Note(60 + (i % 5), i * 1.0, i * 1.0 + 0.5) for i in range(32)]  # 8 bars of quarters
    clip = song.add_clip(Clip("tune", 32.0, notes={mel_track.id: notes}))
    path = tmp_path / "tune.mid"
    export_midi(song, path, clip=clip)
    clips = run_job(g.import_windows, mel, str(path))
    assert len(clips) == 4  # 8 bars in 2-bar windows
    assert all(c.origin == "imported" and c.label == "tune" and len(c.latent) == mel.z_size for c in clips)
    assert [n.pitch for n in clips[1].notes["melody"]][:4] == [63, 64, 60, 61]  # notes 8.. of the tune
    _, mu, _ = mel.encode([clips[0]])
    np.testing.assert_allclose(clips[0].latent, mu[0], atol=1e-4)


def test_import_of_a_file_without_usable_notes_says_so(drums, tmp_path):
    song = Song()
    t = song.ensure_track("melody")
    clip = song.add_clip(Clip("tune", 8.0, notes={t.id: [Note(60, 0, 1)]}))
    path = tmp_path / "melody_only.mid"
    export_midi(song, path, clip=clip)
    with pytest.raises(UserError, match="melody_only.mid"):
        run_job(g.import_windows, drums, str(path))


def test_assign_tracks_rekeys_parts():
    clip = Clip("x", 8.0, notes={"melody": [Note(60, 0, 1)], "drums": [Note(36, 0, 0.25)]})
    g.assign_tracks([clip], {"melody": "trk-1", "drums": "trk-9"})
    assert set(clip.notes) == {"trk-1", "trk-9"}


class CancelAfterFirstChunk:
    """A model whose first decode call cancels the job, as a musician pressing Cancel would."""

    def __init__(self, inner, token):
        self.inner, self.token, self.calls = inner, token, []
        self.z_size, self.kind, self.name, self.config = inner.z_size, inner.kind, inner.name, inner.config
        self.random_z = inner.random_z

    def decode_tokens(self, z, length=None, temperature=None, seed=None):
        self.calls.append(len(z))
        out = self.inner.decode_tokens(z, length, temperature, seed)
        self.token.cancel()
        return out


@pytest.mark.parametrize("vary", [None, 0.8])
def test_a_fill_cancelled_after_its_first_chunk_stops_there_and_changes_nothing(drums, vary):
    from core import arrangement as arr

    song = Song("cancel me")
    song.set_sections(arr.template_sections("intro verse chorus bridge outro", 4.0, 4))
    before = (song.snapshot(), list(song.sections), dict(song.clips), list(song.tracks))
    token = JobToken()
    model = CancelAfterFirstChunk(drums, token)
    with pytest.raises(JobCancelled):
        g.fill(song, model, seed=1, token=token, vary=vary, reproducible=False)
    assert model.calls == [1]  # one chunk of one code, not the whole group or the whole fill
    assert (song.snapshot(), list(song.sections), dict(song.clips), list(song.tracks)) == before


def test_fill_job_decodes_in_chunks_like_every_other_model_operation(drums):
    token = JobToken()
    calls = []

    class Counting(CancelAfterFirstChunk):
        def decode_tokens(self, z, length=None, temperature=None, seed=None):
            calls.append(len(z))
            return self.inner.decode_tokens(z, length, temperature, seed)

    clips, parts = g.fill_job(token, Counting(drums, token), {"a": 2, "b": 2, "c": 2, "d": 2}, 0.5, 3)
    assert list(clips) == ["a", "b", "c", "d"] and parts == ("drums",)
    assert calls[0] == 1 and sum(calls) == 4  # the first chunk is one code; then they grow
    assert [c.name for c in clips.values()] == ["A", "B", "C", "D"]


def test_one_naming_rule_for_generated_clips(mel):
    assert g.clip_names("Sample", 1) == ["Sample"]
    assert g.clip_names("Like x", 3) == ["Like x 1", "Like x 2", "Like x 3"]
    clips = run_job(g.sample, mel, 3, 0.5, seed=1)
    assert [c.name for c in clips] == ["Sample 1", "Sample 2", "Sample 3"]
    g.number_on(clips, ["Sample 4", "Sample 12x", "Verse", "Sample 2"])
    assert [c.name for c in clips] == ["Sample 5", "Sample 6", "Sample 7"]
    other = Clip("Verse", 8.0, origin="sampled")
    assert g.number_on([other], ["Sample 9"])[0].name == "Verse"
