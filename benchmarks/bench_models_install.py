"""Download and install speed of a full-size checkpoint, served from 127.0.0.1.

    python benchmarks/bench_models_install.py [--config cat-mel_2bar_small] [--cut 0.5]

Writes a TF1 checkpoint with random weights at the config's published sizes (cat-mel_2bar_small:
17.7 MB of weights), packs it like Magenta's archives, serves it from a local HTTP server (the
test helper) and times: the download (MB/s), the install (extract, check, read every tensor,
write Latent Studio's format) and, with --cut, a download whose connection is cut at that
fraction and resumed within the same call. Prints the numbers; nothing is asserted.
Everything happens in a temporary folder that is deleted afterwards.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="cat-mel_2bar_small")
    parser.add_argument("--cut", type=float, default=0.5, help="cut the first connection at this fraction (0: no cut)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LATENT_STUDIO_DATA"] = os.path.join(tmp, "data")
        os.environ["LATENT_STUDIO_CACHE"] = os.path.join(tmp, "cache")
        from core.jobs import JobToken
        from core.models.download import download
        from core.models.install import install_from_path, remove_model
        from core.musicvae.checkpoint import magenta_names, random_weights, write_tf1_checkpoint
        from core.musicvae.configs import get_config
        from helpers_models import serving

        cfg = get_config(args.config)
        t0 = time.perf_counter()
        prefix = write_tf1_checkpoint(os.path.join(tmp, "ckpt", f"{cfg.name}.ckpt"),
                                      magenta_names(cfg, random_weights(cfg)))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for n in os.listdir(os.path.dirname(prefix)):
                if n != "checkpoint":
                    tar.add(os.path.join(os.path.dirname(prefix), n), arcname=n)
        blob = buf.getvalue()
        print(f"{cfg.name}: archive {len(blob) / 1e6:.1f} MB (written in {time.perf_counter() - t0:.1f} s, "
              "includes importing TensorFlow)")

        path = f"/checkpoints/{cfg.name}.tar"
        with serving({path: blob}) as server:
            url = server.base_url + f"/{cfg.name}.tar"
            dest = os.path.join(tmp, "dl", f"{cfg.name}.tar")
            t0 = time.perf_counter()
            download(JobToken(), url, dest)
            dt = time.perf_counter() - t0
            print(f"download: {dt:.2f} s, {len(blob) / 1e6 / dt:.0f} MB/s (including the MD5 check)")
            os.remove(dest)
        if args.cut > 0:
            with serving({path: blob}, cut_after=int(len(blob) * args.cut)) as server:
                t0 = time.perf_counter()
                result = download(JobToken(), server.base_url + f"/{cfg.name}.tar", dest, retry_wait=0)
                dt = time.perf_counter() - t0
                print(f"download cut at {args.cut:.0%} and resumed: {dt:.2f} s, {result.requests} requests, "
                      f"resumed={result.resumed}")
        for run in (1, 2):
            t0 = time.perf_counter()
            installed = install_from_path(JobToken(), dest, replace=True)
            dt = time.perf_counter() - t0
            print(f"install #{run} (extract, check, read all tensors, write): {dt:.2f} s, "
                  f"{installed.size_bytes / 1e6:.1f} MB installed")
        remove_model(installed.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
