"""JobRunner: jobs run on one worker thread, report progress, cancel, and fail readably."""
import sys
import threading
import time

import pytest

from core.errors import UserError
from gui.job_runner import JobRunner


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    assert r.shutdown(5000), "the worker thread did not stop"


def counting_job(token, steps, pause=0.005):
    for i in range(steps):
        token.progress(i / steps, f"step {i + 1} of {steps}")
        time.sleep(pause)
    token.progress(1.0, "done")
    return steps * 10


def endless_job(token, started: threading.Event):
    started.set()
    while True:
        token.check()
        time.sleep(0.005)


def test_job_reports_progress_and_delivers_its_result_on_the_gui_thread(qtbot, runner):
    progress, results, threads = [], [], []
    runner.progress.connect(lambda f, m: progress.append((f, m)))

    def done(result):
        threads.append(threading.current_thread())
        results.append(result)

    with qtbot.waitSignal(runner.finished, timeout=5000) as finished:
        runner.submit(counting_job, 5, pause=0.04, on_done=done, description="Counting")
    assert finished.args == ["Counting"]
    assert results == [50]
    assert threads == [threading.main_thread()]  # callbacks never run on the worker
    fractions = [f for f, _ in progress]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(fractions) >= 3  # some steps in between came through
    assert fractions == sorted(fractions)
    assert progress[-1][1] == "done"
    assert not runner.is_busy()


def test_cancelled_job_delivers_no_result_and_the_runner_stays_usable(qtbot, runner):
    started = threading.Event()
    results, cancels, busy = [], [], []
    runner.busy_changed.connect(busy.append)
    job = runner.submit(endless_job, started, on_done=results.append,
                        on_cancel=lambda: cancels.append("x"), description="Forever")
    assert started.wait(5)
    assert runner.is_busy()
    with qtbot.waitSignal(runner.cancelled, timeout=5000) as sig:
        runner.cancel()
    assert sig.args == ["Forever"]
    assert job.cancelled
    assert results == [] and cancels == ["x"]
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=2000)
    assert busy == [True, False]
    # the same runner still runs the next job
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(counting_job, 2, on_done=results.append)
    assert results == [20]


def test_result_of_a_job_that_ignores_cancel_is_dropped(qtbot, runner):
    go = threading.Event()
    results = []

    def stubborn(token):
        go.wait(5)
        return "late result"  # never looks at the token

    runner.submit(stubborn, on_done=results.append)
    qtbot.waitUntil(lambda: runner.current is not None, timeout=5000)
    runner.cancel()
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        go.set()
    assert results == []


def test_jobs_run_one_at_a_time_in_order_and_a_queued_job_can_be_cancelled(qtbot, runner):
    log, lock = [], threading.Lock()
    running = [0]

    def job(token, name):
        with lock:
            running[0] += 1
            assert running[0] == 1, "two jobs ran at once"
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        log.append(name)
        return name

    done = []
    runner.submit(job, "a", on_done=done.append)
    skipped = runner.submit(job, "b", on_done=done.append)
    runner.submit(job, "c", on_done=done.append)
    runner.cancel(skipped)
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=5000)
    assert log == ["a", "c"]
    assert done == ["a", "c"]


def test_user_error_reaches_failed_with_its_message_and_detail(qtbot, runner):
    errors = []

    def bad(token):
        raise UserError("song.mid is not a MIDI file", detail="first bytes: 'hello'")

    with qtbot.waitSignal(runner.failed, timeout=5000) as sig:
        runner.submit(bad, on_error=lambda m, d: errors.append((m, d)), description="Importing")
    message, detail = sig.args
    assert message == "song.mid is not a MIDI file"
    assert "first bytes: 'hello'" in detail and "Traceback" in detail
    assert errors == [(message, detail)]
    assert not runner.is_busy()


def test_unexpected_exception_becomes_a_readable_message(qtbot, runner):
    def broken(token):
        return {}["missing"]

    with qtbot.waitSignal(runner.failed, timeout=5000) as sig:
        runner.submit(broken, description="Sampling melodies")
    message, detail = sig.args
    assert message.startswith("Something went wrong while sampling melodies")
    assert "KeyError" in detail


def test_failing_on_done_callback_is_reported_not_raised(qtbot, runner):
    def explode(_result):
        raise ValueError("callback broke")

    with qtbot.waitSignal(runner.failed, timeout=5000) as sig:
        runner.submit(counting_job, 1, on_done=explode, description="Counting")
    assert "callback broke" in sig.args[0]
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=2000)


def test_main_window_shows_progress_and_cancel_while_a_job_runs(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings, Qt

    from gui import dialogs
    from gui.main_window import MainWindow

    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    started = threading.Event()
    results = []
    assert window.job_status.progress.isHidden() and window.job_status.cancel_button.isHidden()
    window.runner.submit(endless_job, started, on_done=results.append, description="Forever")
    qtbot.waitUntil(lambda: window.job_status.progress.isVisible(), timeout=5000)
    assert window.job_status.cancel_button.isVisible()
    assert window.act_cancel_job.isEnabled()
    qtbot.mouseClick(window.job_status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.job_status.progress.isHidden(), timeout=5000)
    assert window.job_status.cancel_button.isHidden()
    assert results == []
    assert "Cancelled" in window.statusBar().currentMessage()
    # the window still works: an edit can be made and undone
    track = window.song.tracks[0]
    window.track_list.rename_track(track.id, "Lead")
    assert window.song.tracks[0].name == "Lead"
    window.undo_stack.undo()
    assert window.song.tracks[0].name == track.name


def _nice_of(native_id):
    import os

    return os.getpriority(os.PRIO_PROCESS, native_id)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_worker_and_the_threads_it_starts_run_nicer_than_the_gui_thread(qtbot, runner):
    """TensorFlow's compute threads start from the worker; they must not crowd out the GUI."""
    from gui import job_runner

    def job(token):
        seen = {}
        child = threading.Thread(target=lambda: seen.setdefault("child", _nice_of(threading.get_native_id())))
        child.start()
        child.join()
        seen["worker"] = _nice_of(threading.get_native_id())
        return seen

    results = []
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(job, on_done=results.append)
    gui = _nice_of(threading.get_native_id())
    assert results[0]["worker"] == min(19, gui + job_runner.WORKER_NICE) > gui
    assert results[0]["child"] == results[0]["worker"]  # inherited by threads it starts
    assert _nice_of(threading.get_native_id()) == gui  # the GUI thread itself is untouched
