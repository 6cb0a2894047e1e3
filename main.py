#!/usr/bin/env python3
"""Latent Studio entry point.

No arguments: open the window. `python main.py <command> ...`: run a headless command
(`python main.py --help` lists them). `--debug` anywhere (or LATENT_STUDIO_DEBUG=1) lets
TensorFlow's own start-up messages through to the terminal; otherwise they are hidden and one
line says which device the models use (core/tf_setup.py).
"""
import os
import sys

# numpy's own matrix work here is small (the map's projection, window statistics); OpenBLAS's
# helper threads made it slower (a 64 x 512 PCA: 8 ms on two threads, 4.4 ms on one) and,
# spinning after each call, took a core from the GUI thread while TensorFlow's threads had the
# other. TensorFlow does not use OpenBLAS, so decoding is not affected.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    from core.tf_setup import configure

    configure(debug=debug or None, announce=True)  # before anything imports TensorFlow
    if not argv or argv[0].startswith("--open") or (len(argv) == 1 and argv[0].endswith((".mid", ".midi", ".lstudio"))):
        from gui.app import run_app

        return run_app(argv)
    from cli import run

    return run(argv)


if __name__ == "__main__":
    import multiprocessing

    # The models run in a child process (core/model_host.py); in the bundle that child is this
    # same program, which must hand over to multiprocessing here instead of opening a window.
    multiprocessing.freeze_support()
    sys.exit(main())
