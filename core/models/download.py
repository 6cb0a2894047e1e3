"""HTTP download of a checkpoint archive with progress, cancel and resume.

Bytes go to `<dest>.part`; `<dest>.part.json` remembers the address, the size, the ETag and the
MD5 the server announced. A broken download resumes with an HTTP Range request (If-Range on the
ETag, so a file changed on the server starts over). The finished file is checked against the
announced size and MD5 (Google Cloud Storage sends `x-goog-hash: md5=...`) or a given MD5
before it is renamed to `dest`. Only urllib is used (no extra package).
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from core.atomic_write import atomic_write_bytes
from core.errors import UserError

CHUNK = 1 << 16
USER_AGENT = "LatentStudio-model-download/1"


class DownloadError(UserError):
    """A download that could not be completed (network, server or a corrupt file)."""


class _Cut(Exception):
    """The connection ended before all bytes came: worth resuming."""


@dataclass
class DownloadResult:
    path: str
    size: int
    md5: str  # hex digest of the whole file
    resumed: bool  # at least one request continued a partial file
    requests: int


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _offline(url: str, exc: BaseException, have: int) -> DownloadError:
    kept = f" ({_fmt_mb(have)} already downloaded are kept; the next try resumes)" if have else ""
    return DownloadError(f"could not reach {_host(url)}: {_reason(exc)}; check your connection{kept}",
                         detail=f"{url}\n{exc!r}")


def _load_meta(meta_path: str, url: str) -> dict:
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if isinstance(meta, dict) and meta.get("url") == url:
            return meta
    except (OSError, ValueError):
        pass
    return {"url": url}


def _save_meta(meta_path: str, meta: dict) -> None:
    atomic_write_bytes(meta_path, json.dumps(meta).encode("utf-8"))


def _announced_md5(headers) -> str | None:
    """The MD5 from Google Cloud Storage's x-goog-hash header, as hex."""
    for value in headers.get_all("x-goog-hash") or []:
        for part in value.split(","):
            key, _, b64 = part.strip().partition("=")
            if key.strip().lower() == "md5" and b64:
                try:
                    return base64.b64decode(b64.strip()).hex()
                except ValueError:
                    return None
    return None


def file_md5(path: str, token=None) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            if token is not None:
                token.check()
            h.update(block)
    return h.hexdigest()


def _fmt_mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _fmt_eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600} h {seconds // 60 % 60:02d}"


def download(token, url: str, dest: str, *, expected_md5: str | None = None, retries: int = 3,
             timeout: float = 30.0, retry_wait: float = 1.0, label: str | None = None) -> DownloadResult:
    """Download `url` to `dest` (a file path); resume `<dest>.part` when one is there.

    token: a core.jobs.JobToken (progress, cancel). A cancel raises JobCancelled and keeps the
    partial file. retries: how many times a connection cut mid-way is resumed within this call.
    Raises DownloadError with a readable message when the host cannot be reached, the server
    refuses, the disk is full or the file does not match its checksum.
    """
    label = label or os.path.basename(dest)
    part, meta_path = dest + ".part", dest + ".part.json"
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    meta = _load_meta(meta_path, url)
    if not os.path.exists(meta_path) or meta.get("url") != url:
        _remove(part)  # a partial file of some other address cannot be continued
    requests = 0
    resumed = False
    cuts_left = retries
    fresh_restart_done = False
    token.progress(0.0, f"connecting to {_host(url)}")
    while True:
        have = os.path.getsize(part) if os.path.exists(part) else 0
        total = meta.get("total")
        if total is not None and have == total and have > 0:
            break  # complete already (an earlier call was stopped before the check)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            if meta.get("etag"):
                headers["If-Range"] = meta["etag"]
        requests += 1
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have and not fresh_restart_done:
                _remove(part)  # the server cannot continue this part: start over once
                meta = {"url": url}
                fresh_restart_done = True
                continue
            what = " (no such file there)" if exc.code == 404 else ""
            raise DownloadError(f"{_host(url)} refused the download of {label}: HTTP {exc.code} {exc.reason}{what}",
                                detail=url) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException) as exc:
            if have and cuts_left > 0 and not isinstance(getattr(exc, "reason", None), ConnectionRefusedError):
                cuts_left -= 1
                time.sleep(retry_wait)
                continue
            raise _offline(url, exc, have) from None
        with response:
            status = response.status
            if status == 206 and have:
                m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
                if not m or int(m.group(1)) != have:
                    response.close()
                    _remove(part)
                    meta = {"url": url}
                    continue
                if m.group(3) != "*":
                    meta["total"] = int(m.group(3))
                resumed = True
            elif status == 200:
                if have:
                    _remove(part)  # the server sent the whole file again (no Range, or it changed)
                    have = 0
                length = response.headers.get("Content-Length")
                meta["total"] = int(length) if length and length.isdigit() else None
                meta["etag"] = response.headers.get("ETag")
                meta["md5"] = _announced_md5(response.headers)
            else:
                raise DownloadError(f"{_host(url)} answered HTTP {status} for {label}; expected the file", detail=url)
            if status == 206 and not meta.get("md5"):
                meta["md5"] = _announced_md5(response.headers)
            _save_meta(meta_path, meta)
            total = meta.get("total")
            if total:
                free = shutil.disk_usage(os.path.dirname(os.path.abspath(dest))).free
                if total - have > free:
                    raise DownloadError(f"not enough free disk space for {label}: {_fmt_mb(total - have)} needed, "
                                        f"{_fmt_mb(free)} free in {os.path.dirname(os.path.abspath(dest))}")
            try:
                have = _copy_body(token, response, part, have, total, label)
            except (OSError, http.client.HTTPException, _Cut) as exc:
                if isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, socket.timeout)) \
                        and exc.errno is not None:
                    raise DownloadError(f"could not write {part}: {exc.strerror or exc}") from None
                if cuts_left > 0:
                    cuts_left -= 1
                    time.sleep(retry_wait)
                    continue
                raise DownloadError(
                    f"the connection to {_host(url)} broke during the download of {label} "
                    f"({_fmt_mb(os.path.getsize(part) if os.path.exists(part) else 0)} kept): {_reason(exc)}; "
                    "run the same command again to resume", detail=url) from None
        if total is None or have >= total:
            break
    size = os.path.getsize(part)
    if meta.get("total") is not None and size != meta["total"]:
        _remove(part)
        _remove(meta_path)
        raise DownloadError(f"the download of {label} has {size} bytes, the server announced {meta['total']}; "
                            "it was deleted, try again")
    token.progress(1.0, f"checking {label}")
    digest = file_md5(part, token)
    for want, who in ((expected_md5, "expected"), (meta.get("md5"), "announced by the server")):
        if want and want.lower() != digest:
            _remove(part)
            _remove(meta_path)
            raise DownloadError(f"the download of {label} is corrupt: MD5 {digest}, {who} {want.lower()}; "
                                "it was deleted, try again")
    os.replace(part, dest)
    _remove(meta_path)
    return DownloadResult(dest, size, digest, resumed, requests)


def _copy_body(token, response, part: str, have: int, total: int | None, label: str) -> int:
    """Append the response body to `part`; returns the bytes now in the file."""
    start, start_have = time.monotonic(), have
    last = 0.0
    with open(part, "ab") as out:
        while True:
            token.check()
            try:
                block = response.read(CHUNK)
            except http.client.IncompleteRead as exc:
                out.write(exc.partial)
                have += len(exc.partial)
                raise _Cut("the server closed the connection early") from None
            if not block:
                break
            out.write(block)
            have += len(block)
            now = time.monotonic()
            if now - last >= 0.1 or (total and have >= total):
                last = now
                rate = (have - start_have) / max(now - start, 1e-6)
                if total:
                    eta = f", {_fmt_eta((total - have) / rate)} left" if rate > 0 else ""
                    msg = f"downloading {label}: {_fmt_mb(have)} of {_fmt_mb(total)}, {rate / 1e6:.1f} MB/s{eta}"
                    token.progress(have / total, msg)
                else:
                    token.progress(0.0, f"downloading {label}: {_fmt_mb(have)}, {rate / 1e6:.1f} MB/s")
        out.flush()
        os.fsync(out.fileno())
    if total is not None and have < total:
        raise _Cut(f"the server closed the connection after {_fmt_mb(have)} of {_fmt_mb(total)}")
    return have


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
