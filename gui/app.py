"""Start the window: `run_app(argv)` (main.py calls it when no command is given).

    python main.py                 an empty song
    python main.py song.mid        import a MIDI file
    python main.py --open x.lstudio
"""
from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core.command_name import command_name

APP_NAME = "Latent Studio"
ORG_NAME = "Latent Studio"
ORG_DOMAIN = "latentstudio.example"


def version() -> str:
    try:
        from importlib.metadata import version as dist_version  # noqa: PLC0415

        return dist_version("latent-studio")
    except Exception:  # noqa: BLE001 - not installed as a distribution (a source checkout)
        return "0.1.0"


def use_offscreen_without_display() -> None:
    """Render offscreen when there is no display (headless machines, CI)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (made once), named and styled."""
    from gui.style import apply_style  # noqa: PLC0415

    app = QApplication.instance()
    if app is None:
        use_offscreen_without_display()
        app = QApplication([sys.argv[0] if sys.argv else "latent-studio"] + list(argv or []))
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setOrganizationDomain(ORG_DOMAIN)
    app.setApplicationVersion(version())
    app.setDesktopFileName("latent-studio")
    apply_style(app)
    return app


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=command_name(), description="Open the Latent Studio window.")
    parser.add_argument("file", nargs="?", help="a .lstudio project or a MIDI file to open")
    parser.add_argument("--open", dest="open_file", metavar="FILE",
                        help="a .lstudio project or a MIDI file to open")
    args, _unknown = parser.parse_known_args(argv)  # Qt's own options pass through
    return args


PRELOAD_AFTER_MS = 100  # the window has painted and settled by then


def preload_default_model(window) -> bool:
    """Load the model the Generate panel shows (TensorFlow's import and the model's weights) in
    the background now, so the first Generate does not wait for it (issue 16.4)."""
    panel = getattr(window, "generate_panel", None)
    models = getattr(window, "models", None)
    if panel is None or models is None:
        return False
    return models.preload(panel.model_name())


def run_app(argv: list[str] | None = None, settings=None) -> int:
    """Open the window and run the event loop; returns the exit code.

    `settings` (a QSettings) replaces the user's preferences; tests pass a throwaway one.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    app = create_application()
    from gui.main_window import MainWindow  # noqa: PLC0415
    from gui.model_service import use_model_process  # noqa: PLC0415

    # TensorFlow stays out of the window's process (issue 16.4); the model process starts
    # importing it now, on the other core, while this one builds the window.
    use_model_process(True, start=True)
    window = MainWindow(settings=settings)
    app.aboutToQuit.connect(window.models.close)
    window.show()
    path = args.open_file or args.file

    def start() -> None:
        # After the event loop starts, so the window is on screen behind any dialog.
        restored = window.files.offer_recovery()
        if path and not restored:
            window.files.open_path(path, ask=False)
        QTimer.singleShot(PRELOAD_AFTER_MS, lambda: preload_default_model(window))

    QTimer.singleShot(0, start)
    return app.exec()
