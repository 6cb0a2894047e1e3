import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pytest  # noqa: E402

# A modal dialog that a test did not answer would wait forever offscreen (and a CI run would hang
# until its time limit). Every static dialog function answers "cancelled" instead, and the test that
# reached one fails and names it. A test that means to answer a dialog patches the function itself
# (monkeypatch after this fixture wins).
_MODAL_FUNCTIONS = {
    "QMessageBox": ("question", "warning", "information", "critical", "about"),
    "QInputDialog": ("getItem", "getText", "getInt", "getDouble", "getMultiLineText"),
    "QFileDialog": ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"),
}


def _cancelled(cls_name: str, name: str):
    from PySide6.QtWidgets import QMessageBox

    if cls_name == "QMessageBox":
        return QMessageBox.StandardButton.Cancel if name == "question" else QMessageBox.StandardButton.Ok
    if cls_name == "QInputDialog":
        return {"getInt": (0, False), "getDouble": (0.0, False)}.get(name, ("", False))
    return {"getOpenFileNames": ([], ""), "getExistingDirectory": ""}.get(name, ("", ""))


@pytest.fixture(autouse=True)
def _no_unanswered_modal_dialogs(monkeypatch):
    try:
        from PySide6 import QtWidgets
    except ImportError:  # a test run without the GUI packages
        yield
        return
    opened: list[str] = []
    for cls_name, names in _MODAL_FUNCTIONS.items():
        cls = getattr(QtWidgets, cls_name)
        for name in names:
            def guard(*_args, _c=cls_name, _n=name, **_kw):
                opened.append(f"{_c}.{_n}")
                return _cancelled(_c, _n)
            monkeypatch.setattr(cls, name, staticmethod(guard))
    yield
    assert not opened, f"the test opened modal dialogs it did not answer: {', '.join(opened)}"
