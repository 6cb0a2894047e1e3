"""The window's default layout fits a 1280x720 window and gives room back as it grows.

Geometry, not pixels: every button, number box, list box and label in the docks and toolbars
lies inside the widgets around it (nothing cut off) and is at least as wide as it asks to be
(no squeezed text); no scroll area of the default layout needs its scroll bar; the latent
map keeps a plot big enough to tell points apart; growing the window grows the centre and
the map.
"""
import random

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox,
                               QDockWidget, QLabel, QPushButton, QScrollArea, QTabBar,
                               QToolBar, QToolButton, QWidget)

from core.song import Clip, Note
from gui.main_window import MainWindow, default_size
from gui.style import apply_style

# The latent map's plot (axes included) at 1280x720: the layout gives about 376x267 (the
# column is 30% of the width, the Generate panel above takes 255). 360x250 is the bound:
# without the axes that leaves about 320x210 for the points, some 20 point widths each way,
# so a batch of 16 or 32 clips still shows as separate points; much less and they pile up.
MAP_MIN = QSize(360, 250)


@pytest.fixture(autouse=True)
def app_style(qapp):
    """The app's style sheet changes every widget's size: measure with it, as users see it."""
    palette, style_name = qapp.palette(), qapp.style().name()
    apply_style(qapp)
    yield
    qapp.setStyleSheet("")
    qapp.setStyle(style_name)
    qapp.setPalette(palette)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    windows = []

    def make(width: int, height: int, clips: int = 12) -> MainWindow:
        w = MainWindow(settings=settings)
        qtbot.addWidget(w)
        windows.append(w)
        _add_clips(w, clips)
        w.resize(width, height)
        w.show()
        qtbot.waitExposed(w)
        settle()
        return w

    yield make
    for w in windows:
        w.runner.shutdown(5000)


def settle() -> None:
    for _ in range(4):
        QApplication.processEvents()


def _add_clips(w: MainWindow, n: int) -> None:
    """Clips of the map's model with codes, as a Generate would leave them."""
    rng = random.Random(4)
    model = w.session.model
    track = w.song.tracks[0].id
    for k in range(n):
        notes = [Note(60 + rng.randrange(12), b / 2, b / 2 + 0.5, 90) for b in range(8)]
        w.song.add_clip(Clip(f"Sample {k + 1}", 8.0, {track: notes}, model=model, origin="sampled",
                             latent=[rng.gauss(0, 1) for _ in range(16)]))
    w.latent_map.refresh()


def _in_docks_or_toolbars(widget) -> bool:
    p = widget.parentWidget()
    while p is not None:
        if isinstance(p, (QDockWidget, QToolBar)):
            return True
        p = p.parentWidget()
    return False


def _dock_of(widget):
    p = widget.parentWidget()
    while p is not None and not isinstance(p, QDockWidget):
        p = p.parentWidget()
    return p


def _in_front(dock) -> bool:
    """A tabbed dock behind another one stays 'visible' but is moved out of the window."""
    return dock is None or not dock.visibleRegion().isEmpty()


def _checked_widgets(w: MainWindow):
    for widget in w.findChildren(QWidget):
        if not isinstance(widget, (QAbstractButton, QAbstractSpinBox, QComboBox, QLabel)):
            continue
        if not widget.isVisible() or not _in_docks_or_toolbars(widget) \
                or not _in_front(_dock_of(widget)):
            continue
        if isinstance(widget, QLabel) and not widget.text().strip():
            continue  # pictures and spacers
        if isinstance(widget, QToolButton) and widget.objectName() == "qt_toolbar_ext_button":
            continue  # a toolbar's overflow button
        yield widget


def _visible_part(widget) -> QRect:
    """The part of the widget that the widgets around it (up to the window) let show."""
    rect = QRect(widget.rect())
    child = widget
    parent = widget.parentWidget()
    while parent is not None:
        rect = rect.translated(child.pos()).intersected(parent.rect())
        child, parent = parent, parent.parentWidget()
        if child.isWindow():
            break
    return rect


def _problems(w: MainWindow) -> list[str]:
    out = []
    for widget in _checked_widgets(w):
        name = f"{type(widget).__name__} {widget.objectName() or ''} " \
               f"{getattr(widget, 'text', lambda: '')()!r}"
        shown = _visible_part(widget).size()
        if shown != widget.size():
            out.append(f"{name}: cut off ({shown.width()}x{shown.height()} of "
                       f"{widget.width()}x{widget.height()})")
        hint = widget.minimumSizeHint()
        if isinstance(widget, (QPushButton, QToolButton)):
            hint = widget.sizeHint()  # a button narrower than this elides or cuts its text
        if isinstance(widget, QLabel) and widget.wordWrap():
            if widget.height() < widget.heightForWidth(widget.width()):
                out.append(f"{name}: {widget.height()} px tall, its text needs "
                           f"{widget.heightForWidth(widget.width())}")
        elif widget.width() < hint.width():
            out.append(f"{name}: {widget.width()} px wide, needs {hint.width()}")
        if not (isinstance(widget, QLabel) and widget.wordWrap()) and widget.height() < hint.height():
            out.append(f"{name}: {widget.height()} px tall, needs {hint.height()}")
    for area in w.findChildren(QScrollArea):
        if area.isVisible() and (area.verticalScrollBar().isVisible()
                                 or area.horizontalScrollBar().isVisible()):
            out.append(f"scroll area {area.objectName()} shows a scroll bar")
    return out


def _every_page(w: MainWindow) -> list[str]:
    """The problems of every page: each Generate tab, each tabbed dock in front."""
    out = []
    tabs = w.generate_panel.tabs
    for dock in (w.map_dock, w.library_dock, w.track_dock):
        dock.raise_()
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            settle()
            out += [f"[{dock.windowTitle()} / {tabs.tabText(i)}] {p}" for p in _problems(w)]
    tabs.setCurrentIndex(0)
    w.map_dock.raise_()
    settle()
    return out


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_nothing_is_cut_off_or_squeezed(make_window, size):
    w = make_window(*size)
    assert (w.width(), w.height()) == size
    problems = _every_page(w)
    assert not problems, "\n".join(problems)


def test_the_checker_sees_what_it_should(make_window):
    """The checks above are only worth something if they look at the panels and can fail."""
    w = make_window(1280, 720)
    seen = list(_checked_widgets(w))
    assert w.generate_panel.generate_button in seen and w.latent_map.refit_button in seen
    assert w.clip_combo in seen and len(seen) > 30
    assert any(label.text() for label in w.clip_library.findChildren(QLabel))
    assert not any(w.clip_library.isAncestorOf(x) for x in seen)  # behind the map's tab
    w.generate_panel.generate_button.setFixedWidth(30)
    w.latent_map.refit_button.move(w.latent_map.width() - 10, w.latent_map.refit_button.y())
    settle()
    problems = "\n".join(_problems(w))
    assert "'Generate': 30 px wide" in problems
    assert "'Re-fit': cut off" in problems


def test_the_map_is_big_enough_and_in_front(make_window):
    w = make_window(1280, 720)
    plot = w.latent_map.plot
    assert plot.isVisible()
    assert plot.width() >= MAP_MIN.width() and plot.height() >= MAP_MIN.height(), plot.size()
    assert w.generate_panel.isVisible()  # beside the map, not behind it
    assert w.centralWidget().width() >= w.centralWidget().minimumSizeHint().width()


def test_another_model_gets_room_for_its_sliders(make_window, qtbot):
    w = make_window(1280, 720)
    names = [i.name for i in w.models.infos()]
    assert "trio_16bar" in names  # embedded: melody and drum sliders, more than mel_2bar's
    w.generate_panel.tabs.setCurrentIndex(2)
    w.session.model = "trio_16bar"
    qtbot.wait(50)
    settle()
    assert len(w.generate_panel.attr_sliders) == 5
    problems = _problems(w)
    assert not problems, "\n".join(problems)
    assert w.latent_map.plot.height() >= MAP_MIN.height() - 30  # the map gives a little room


def test_growing_the_window_gives_the_panels_room(make_window):
    w = make_window(1280, 720)
    centre, plot = w.centralWidget().size(), w.latent_map.plot.size()
    column = w.generate_dock.width()
    w.resize(1920, 1080)
    settle()
    assert w.centralWidget().width() > centre.width() + 300
    assert w.centralWidget().height() > centre.height() + 300
    assert w.latent_map.plot.width() > plot.width() + 100
    assert w.latent_map.plot.height() > plot.height() + 200
    assert w.generate_dock.width() > column  # the column keeps its share of the width
    w.resize(1280, 720)  # and shrinking gives it back without cutting anything
    settle()
    assert abs(w.generate_dock.width() - column) <= 4
    assert not _problems(w)


def test_a_saved_layout_comes_back_unless_it_does_not_fit(make_window, settings, monkeypatch):
    # the offscreen platform's screen is 800x800: pretend to a 1920x1080 one
    monkeypatch.setattr(MainWindow, "available_area", lambda self: QRect(0, 0, 1920, 1050))
    w = make_window(1280, 720)
    w.resizeDocks([w.generate_dock], [500], Qt.Orientation.Horizontal)
    settle()
    w.library_dock.raise_()
    w._save_layout()
    again = make_window(1280, 720)
    assert again.library_dock.visibleRegion().isEmpty() is False  # the Clips tab is in front
    assert again.map_dock.visibleRegion().isEmpty()
    # a layout saved on a screen bigger than this one is dropped for the default
    settings.setValue("window/size", QSize(9000, 5000))
    third = make_window(1280, 720)
    assert not third.map_dock.visibleRegion().isEmpty()
    assert not _problems(third)


def test_the_first_size_comes_from_the_screen():
    assert default_size(QRect(0, 0, 1280, 690)) == QSize(1280, 690)  # a small screen: all of it
    big = default_size(QRect(0, 0, 2560, 1400))
    assert big == QSize(2304, 1260)  # a big one: most of it
    assert default_size(QRect(0, 0, 1920, 1040)).width() >= 1280


def test_a_tab_dragged_out_floats_with_its_title_bar(make_window):
    """The tabbed docks have no title bars (the tabs name them); dragging a tab away is how
    one comes out, and then it has a title bar to be moved and docked by."""
    w = make_window(1280, 720)
    assert w.library_dock.titleBarWidget() is not None  # an empty stand-in: no title shown
    bar = next(t for t in w.findChildren(QTabBar) if t.parent() is w)
    titles = [bar.tabText(i) for i in range(bar.count())]
    assert titles == ["Latent Map", "Clips", "Tracks"]
    start = bar.tabRect(titles.index("Clips")).center()
    QTest.mousePress(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 30):  # far out of the tab bar, a step at a time
        at = start + QPoint(-10 * k, -8 * k)
        QApplication.sendEvent(bar, QMouseEvent(
            QEvent.Type.MouseMove, QPointF(at), QPointF(bar.mapToGlobal(at)), Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
        QApplication.processEvents()
    QTest.mouseRelease(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(-300, -240))
    settle()
    assert w.library_dock.isFloating()
    assert w.library_dock.titleBarWidget() is None  # the real title bar is back
    assert not w.map_dock.isFloating() and w.map_dock.titleBarWidget() is not None
