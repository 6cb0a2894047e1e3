"""Helpers for the model catalogue tests: a local HTTP server (never the real host) and fixture archives.

The server runs on 127.0.0.1. It serves files from a dict (path -> bytes), answers Range requests with 206, sends an ETag and,
like Google Cloud Storage, `x-goog-hash: md5=<base64>`. `cut_after` makes the first GET of a
path close the connection after that many body bytes. Every request's headers are recorded.
The server runs in a daemon thread and shuts itself down after `lifetime` seconds at the latest.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from contextlib import contextmanager, closing


class ModelServer:
    def __init__(self, files: dict[str, bytes], cut_after: int | None = None, announce_md5: str | None = None,
                 lifetime: float = 60.0):
        self.files = files
        self.cut_after = cut_after
        self.announce_md5 = announce_md5  # base64 MD5 to announce instead of the real one
        self.requests: list[dict] = []
        self.gets: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                n = server.gets[self.path] = server.gets.get(self.path, 0) + 1
                md5 = server.announce_md5 or base64.b64encode(hashlib.md5(body).digest()).decode()
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                start = 0
                m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if_range = self.headers.get("If-Range")
                if m and (if_range is None or if_range == etag):
                    start = int(m.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("ETag", etag)
                self.send_header("x-goog-hash", f"crc32c=AAAAAA==,md5={md5}")
                self.end_headers()
                payload = body[start:]
                if server.cut_after is not None and n == 1:
                    self.wfile.write(payload[:server.cut_after])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.timer = threading.Timer(lifetime, self.stop)
        self.timer.daemon = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/checkpoints"

    def start(self) -> "ModelServer":
        self.thread.start()
        self.timer.start()
        return self

    def stop(self) -> None:
        self.timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(files: dict[str, bytes], **kw):
    server = ModelServer(files, **kw).start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ fixture archives
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "magenta", "cat-mel_2bar_big")
CKPT_FILES = ("model.ckpt.index", "model.ckpt.data-00000-of-00001")


def official_style_tar(stem: str = "cat-mel_2bar_big", folder: bool = False) -> bytes:
    """The Magenta fixture checkpoint (made by Magenta's own code) packed like a published archive.

    folder=False: the checkpoint files at the top level, named <stem>.ckpt.*;
    folder=True: a folder <stem>/ holding the `checkpoint` state file and model.ckpt.*.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        if folder:
            for name in ("checkpoint",) + CKPT_FILES:
                tar.add(os.path.join(FIXTURE, name), arcname=f"{stem}/{name}")
        else:
            for name in CKPT_FILES:
                tar.add(os.path.join(FIXTURE, name), arcname=name.replace("model.ckpt", f"{stem}.ckpt"))
    return buf.getvalue()


def tar_with(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A tar holding the given files (name -> bytes) and symbolic links (name -> target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


def fixture_files() -> dict[str, bytes]:
    out = {}
    for name in CKPT_FILES:
        with open(os.path.join(FIXTURE, name), "rb") as f:
            out[name] = f.read()
    return out


def snapshot(folder: str) -> list[str]:
    """Every path under a folder, hidden ones included (to show that nothing changed)."""
    out = []
    for root, dirs, files in os.walk(folder):
        for n in dirs + files:
            out.append(os.path.relpath(os.path.join(root, n), folder))
    return sorted(out)
