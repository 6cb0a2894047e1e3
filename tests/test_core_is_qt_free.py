"""core/ must never import Qt (docs/architecture.md). Import every core module in a fresh interpreter."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r"""
import importlib, pkgutil, sys
import core
names = []
for m in pkgutil.walk_packages(core.__path__, 'core.'):
    importlib.import_module(m.name)
    names.append(m.name)
qt = sorted(k for k in sys.modules if k.startswith(('PySide6', 'PyQt', 'shiboken', 'pyqtgraph')))
tf = 'tensorflow' in sys.modules
print(len(names), 'modules;', 'qt:', qt, 'tf:', tf)
assert not qt, qt
assert not tf, 'tensorflow must be imported lazily, not at import time of a core module'
assert len(names) >= 3
"""


def test_core_imports_no_qt_and_no_tensorflow():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
