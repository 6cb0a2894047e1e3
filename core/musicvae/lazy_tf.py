"""`tf`: TensorFlow, imported on first use.

Model modules write `from core.musicvae.lazy_tf import tf` and use `tf.xxx` as usual; importing
them does not import TensorFlow (core modules must import without it, see docs/architecture.md), the first
attribute access does.
"""
from __future__ import annotations

import importlib


class _LazyModule:
    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if self._module is None:
            if self._name == "tensorflow":  # without its start-up chatter on stderr
                from core.tf_setup import import_tensorflow

                self._module = import_tensorflow()
            else:
                self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    @property
    def loaded(self) -> bool:
        return self._module is not None


tf = _LazyModule("tensorflow")
