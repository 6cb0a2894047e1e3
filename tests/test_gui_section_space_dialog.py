"""The "New section space" dialog, offscreen: live loss plot, Cancel keeps nothing, Good enough keeps it.

Uses the tiny fixture mel model (random weights), so training is quick.
"""
import os

import numpy as np
import pytest

from core import section_space as ss
from core.song import Clip, Note
from gui.job_runner import JobRunner
from gui.section_space_dialog import SectionSpaceDialog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEL_FIX = os.path.join(ROOT, "tests", "fixtures", "magenta", "cat-mel_2bar_big")


@pytest.fixture(scope="module")
def mel():
    from core.musicvae import load_model

    return load_model("cat-mel_2bar_big", MEL_FIX, device="cpu", name="mel-fixture")


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    assert r.shutdown(10000), "the worker thread did not stop"


def clips(n=10):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        notes = [Note(int(rng.integers(70, 90)), k * 0.5, k * 0.5 + 0.5) for k in range(16)]
        out.append(Clip(f"chorus {i + 1}", 8.0, notes={"melody": notes}))
    return out


def test_training_plots_both_losses_and_hands_over_the_space(qtbot, runner, mel, tmp_path):
    dialog = SectionSpaceDialog(runner, mel, clips(), "chorus")
    qtbot.addWidget(dialog)
    dialog.resize(640, 620)
    dialog.show()
    dialog.steps_spin.setValue(300)
    assert not dialog.stop_button.isEnabled() and not dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.space_ready, timeout=60000) as ready:
        dialog.start()
        assert dialog.cancel_button.isEnabled() and not dialog.train_button.isEnabled()
    space = ready.args[0]
    assert isinstance(space, ss.SectionSpace) and space.steps == 300 and dialog.space is space
    x, y = dialog.recon_curve.xData, dialog.recon_curve.yData  # as given, before the log axis
    assert len(x) == 300 and x[0] == 1 and x[-1] == 300  # every step was plotted
    np.testing.assert_allclose(y, np.maximum(space.reconstruction, 1e-3), rtol=1e-6)
    np.testing.assert_allclose(dialog.kl_curve.yData, np.maximum(space.kl, 1e-3), rtol=1e-6)
    assert "Trained on 10 clips in 300 steps" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.map_plot.isVisible() and dialog.recon_box.isVisible(), timeout=30000)
    assert len(dialog.clip_points.data) == 10 and len(dialog.sample_points.data) == 64
    # before and after: training clips through the model alone, and through the space
    assert len(dialog.pairs) == 4
    assert [b.name for b, _ in dialog.pairs] == [f"chorus {i} (model)" for i in range(1, 5)]
    assert all(a.name.endswith(" (space)") and a.origin == "section space" for _, a in dialog.pairs)
    np.testing.assert_allclose([b.latent for b, _ in dialog.pairs], space.codes[:4], rtol=1e-5)
    np.testing.assert_allclose([a.latent for _, a in dialog.pairs], space.reconstruct(space.codes[:4]),
                               rtol=1e-4, atol=1e-5)
    with qtbot.waitSignal(dialog.reconstructions_ready) as handed:
        dialog.recon_add.click()
    assert [c.name for c in handed.args[0]][:2] == ["chorus 1 (model)", "chorus 1 (space)"]
    assert dialog.train_button.isEnabled() and not dialog.cancel_button.isEnabled()
    shot = os.environ.get("SECTION_SPACE_SCREENSHOT") or str(tmp_path / "dialog.png")
    assert dialog.grab().save(shot)
    assert dialog.sample_button.isEnabled()
    dialog.count_spin.setValue(3)
    with qtbot.waitSignal(dialog.samples_ready, timeout=30000) as sampled:
        dialog.sample()
        assert not dialog.sample_button.isEnabled() and not dialog.train_button.isEnabled()
    made = sampled.args[0]
    assert [c.name for c in made] == ["Chorus 1", "Chorus 2", "Chorus 3"]
    assert all(c.origin == "section space" and c.label == "chorus" for c in made)
    assert dialog.sample_button.isEnabled() and "Sampled 3 clips" in dialog.progress.format()


def test_good_enough_keeps_the_space_learned_so_far(qtbot, runner, mel):
    dialog = SectionSpaceDialog(runner, mel, clips(), "verse")
    qtbot.addWidget(dialog)
    dialog.steps_spin.setValue(100_000)
    with qtbot.waitSignal(dialog.space_ready, timeout=60000) as ready:
        dialog.start()
        qtbot.waitUntil(lambda: dialog.control is not None and len(dialog.control) >= 20, timeout=30000)
        dialog.stop_early()
    space = ready.args[0]
    assert 20 <= space.steps < 100_000 and space.info["stopped_early"]
    assert "stopped early" in dialog.status.text()


def test_cancel_keeps_nothing_and_the_dialog_can_train_again(qtbot, runner, mel):
    dialog = SectionSpaceDialog(runner, mel, clips(), "bridge")
    qtbot.addWidget(dialog)
    got = []
    dialog.space_ready.connect(got.append)
    dialog.steps_spin.setValue(100_000)
    with qtbot.waitSignal(runner.cancelled, timeout=30000):
        dialog.start()
        qtbot.waitUntil(lambda: dialog.control is not None and len(dialog.control) >= 5, timeout=30000)
        dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.running, timeout=5000)
    assert got == [] and dialog.space is None and not dialog.sample_button.isEnabled()
    assert "nothing was kept" in dialog.progress.format()
    assert dialog.train_button.isEnabled()


def test_too_few_clips_shows_the_message(qtbot, runner, mel):
    dialog = SectionSpaceDialog(runner, mel, clips(5), "outro")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(runner.failed, timeout=30000):
        dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=5000)
    assert "at least 8 clips" in dialog.status.text() and dialog.space is None


def test_a_saved_space_opens_with_its_curve_and_map_and_samples(qtbot, runner, mel, tmp_path):
    from core.jobs import run_job

    space = run_job(ss.train, mel, clips(), "chorus", ss.SpaceSettings(steps=80))
    loaded = ss.load_space(ss.save_space(space, tmp_path / "chorus.space"), mel)
    dialog = SectionSpaceDialog.for_space(runner, mel, loaded)
    qtbot.addWidget(dialog)
    assert not dialog.train_button.isEnabled() and dialog.sample_button.isEnabled()
    assert len(dialog.recon_curve.xData) == 80
    qtbot.waitUntil(lambda: dialog.map_plot.isVisibleTo(dialog) and len(dialog.pairs) == 4, timeout=30000)
    assert "80 steps" in dialog.status.text()
    with qtbot.waitSignal(dialog.samples_ready, timeout=30000) as sampled:
        dialog.sample()
    assert len(sampled.args[0]) == 8


def test_a_space_for_another_model_does_not_open(qtbot, runner, mel):
    from core.jobs import run_job
    from core.musicvae import load_model

    space = run_job(ss.train, mel, clips(), "chorus", ss.SpaceSettings(steps=10))
    drums = load_model("cat-drums_2bar_small", os.path.join(ROOT, "tests", "fixtures", "magenta",
                                                            "cat-drums_2bar_small"), device="cpu", name="drums")
    with pytest.raises(ss.SpaceModelError):
        SectionSpaceDialog.for_space(runner, drums, space)
