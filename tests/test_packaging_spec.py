"""The PyInstaller spec, read without PyInstaller: what the bundle must hold to run.

Building the bundle takes minutes and 1.7 GB (packaging/build.sh, which then samples each
embedded model from the bundle); this test keeps the spec's essentials from slipping."""
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "packaging", "latent_studio.spec")


def _read_spec(monkeypatch):
    seen = {}
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package: [f"{package}.stub"]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)

    def record(kind):
        def make(*args, **kwargs):
            seen[kind] = (args, kwargs)
            return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])
        return make

    scope = {"SPECPATH": os.path.dirname(SPEC), **{k: record(k) for k in ("Analysis", "PYZ", "EXE", "COLLECT")}}
    with open(SPEC, encoding="utf-8") as f:
        exec(compile(f.read(), SPEC, "exec"), scope)
    return seen


def test_spec_bundles_the_models_and_the_engine_sources(monkeypatch):
    seen = _read_spec(monkeypatch)
    args, kw = seen["Analysis"]
    assert args[0] == [os.path.join(ROOT, "main.py")]
    # the embedded models travel inside the bundle
    assert (os.path.join(ROOT, "resources"), "resources") in kw["datas"]
    assert os.path.isdir(os.path.join(ROOT, "resources", "models", "mel_2bar"))
    # AutoGraph rewrites the decode loops from source: without core's .py files in the bundle,
    # sampling fails there ("Iterating over a symbolic tf.Tensor"), as the first bundle did
    assert kw["module_collection_mode"]["core"] in ("pyz+py", "py")
    assert {"core.stub", "gui.stub", "cli.stub"} <= set(kw["hiddenimports"])
    assert seen["EXE"][1]["name"] == "latent-studio" and seen["COLLECT"][1]["name"] == "latent-studio"
