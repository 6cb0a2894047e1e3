"""`python main.py screenshot --open FILE --out shot.png`: render the main window to a PNG.

Works without a display (the offscreen Qt platform is chosen when there is none), so the
README's screenshots can be made on a build machine and a change to the window can be looked
at from a terminal. `--generate N` first asks the Generate panel's model for N clips (a fixed
seed, so the picture is the same each time) and shows one of them in the piano roll, so the
library and the latent map have something in them.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

from core.errors import UserError


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--size {text!r} is not WIDTHxHEIGHT, for example 1400x900") from None
    if not (320 <= w <= 7680 and 240 <= h <= 4320):
        raise UserError(f"--size {text} is outside 320x240 .. 7680x4320")
    return w, h


def _quiet_offscreen_warnings():
    """The offscreen platform warns about window features it lacks; that is expected here."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler  # noqa: PLC0415

    def handler(kind, _context, message):
        if "This plugin does not support" in message:
            return
        if kind != QtMsgType.QtDebugMsg:
            print(message, file=sys.stderr)

    return qInstallMessageHandler(handler)  # the previous handler, to put back


def fit_to_notes(editor) -> None:
    """Zoom the piano roll so the whole clip shows (its Zoom to Fit action, when it has one)."""
    fit = getattr(editor, "zoom_to_fit", None)
    if callable(fit):
        fit()
        return
    for action in getattr(editor, "view_actions", lambda: [])():
        if action is not None and action.text().replace("&", "").lower() == "zoom to fit":
            action.trigger()
            return


def generate_clips(window, count: int, model: str | None, failed, seed: int = 7,
                   timeout_s: float = 300.0) -> list[str]:
    """Sample `count` clips with the Generate panel, as a click on Generate would, and wait
    for them (or for `failed()` to list an error); the first one is shown in the piano roll.
    Returns their ids."""
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    panel = window.generate_panel
    if model:
        try:
            panel.set_model(model)
        except KeyError:
            raise UserError(f"--model {model}: no such model (see `models list`)") from None
    if panel.model_name() is None:
        raise UserError("--generate needs a model, and none was found")
    added: list[str] = []
    panel.clips_added.connect(added.extend)
    panel.seed = seed
    panel.count_spin.setValue(count)
    panel.generate()
    deadline = time.monotonic() + timeout_s
    while not (added and not panel.is_landing()) and not failed() \
            and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    if not added:
        why = failed()[0][0] if failed() else f"nothing after {timeout_s:g} s"
        raise UserError(f"generating {count} clips with {panel.model_name()} failed: {why}")
    window.session.select_clips(added[:1])
    window.session.current_clip = added[0]
    return added


def render_screenshot(open_path: str | None, out_path: str,
                      size: tuple[int, int], generate: int = 0,
                      model: str | None = None) -> tuple[int, int]:
    """Write the window with `open_path` loaded (and `generate` clips sampled) to `out_path`;
    returns the picture's size (larger than asked when the window cannot be made that
    small)."""
    if open_path and not os.path.exists(open_path):
        raise UserError(f"{open_path}: no such file")
    from gui.app import create_application  # noqa: PLC0415 - Qt only when this command runs

    from PySide6.QtCore import QSettings  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    previous_handler = _quiet_offscreen_warnings()
    app = create_application()
    from gui import dialogs  # noqa: PLC0415
    from gui.main_window import MainWindow  # noqa: PLC0415

    # A screenshot must not block on a dialog: a read error becomes a UserError instead.
    errors: list[tuple[str, str]] = []
    original_show_error = dialogs.show_error
    dialogs.show_error = lambda _parent, _title, message, detail="": errors.append((message, detail))
    # Throwaway settings, so a screenshot neither reads nor changes the user's recent files
    # and window layout.
    settings_dir = tempfile.mkdtemp(prefix="latent-studio-shot-")
    settings = QSettings(os.path.join(settings_dir, "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    try:
        window.resize(*size)
        window.show()
        if open_path:
            if not window.files.open_path(open_path, ask=False, background=False):
                message, detail = errors[0] if errors else (f"{open_path} could not be opened", "")
                raise UserError(message, detail)
        if generate:
            generate_clips(window, generate, model, lambda: errors)
        for _ in range(5):
            QApplication.processEvents()
        fit_to_notes(window.editor)
        QApplication.processEvents()
        image = window.grab()
        if not image.save(out_path):
            raise UserError(f"{out_path} could not be written (check the folder and the suffix)")
        return image.width(), image.height()
    finally:
        dialogs.show_error = original_show_error
        # Not window.close(): a close clears the user's crash-recovery file, and this
        # window never offered it.
        window.files.autosave_timer.stop()
        window.runner.shutdown(3000)
        window.hide()
        window.deleteLater()
        app.processEvents()
        shutil.rmtree(settings_dir, ignore_errors=True)
        from PySide6.QtCore import qInstallMessageHandler  # noqa: PLC0415

        qInstallMessageHandler(previous_handler)


def cmd_screenshot(args) -> int:
    size = _size(args.size)
    if not 0 <= args.generate <= 32:
        raise UserError(f"--generate {args.generate}: give 0 to 32 clips")
    width, height = render_screenshot(args.open, args.out, size, args.generate, args.model)
    print(f"wrote {args.out} ({width}x{height})")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("screenshot", help="render the main window to a PNG (no display needed)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--open", metavar="FILE", help="a .mid or .lstudio file to load first")
    p.add_argument("--out", required=True, metavar="PNG", help="where to write the picture")
    p.add_argument("--size", default="1400x900", help="window size, WIDTHxHEIGHT (default 1400x900)")
    p.add_argument("--generate", type=int, default=0, metavar="N",
                   help="first sample N clips (0 to 32) with the model, to fill the library and map")
    p.add_argument("--model", help="the model --generate uses (default: the Generate panel's)")
    p.set_defaults(func=cmd_screenshot)
