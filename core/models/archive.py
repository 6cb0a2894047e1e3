"""Safe extraction of a checkpoint archive (.tar, .tar.gz).

Every member is checked before anything is written: no absolute names, no `..`, no link that
points outside the destination, no devices or pipes. Regular files are copied in chunks so a
job can show progress and be cancelled, and a file shorter than its header says (a truncated
download) is refused.
"""
from __future__ import annotations

import os
import shutil
import tarfile
import zlib

from core.errors import CheckpointError

CHUNK = 1 << 20
# Magenta's archives hold a handful of files and under 3 GB; anything far beyond is refused
# before a byte is written (a header can declare any size, and headers alone can fill memory).
MAX_MEMBERS = 10_000
MAX_BYTES = 16 * 10 ** 9


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def check_members(tar_path: str, members: list[tarfile.TarInfo], dest: str, links: bool = True) -> None:
    """Raise CheckpointError for the first unsafe member; `links=False` refuses every link."""
    root = os.path.realpath(dest)
    for m in members:
        name = m.name
        if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            raise CheckpointError(f"{tar_path}: refusing the archive: member {name!r} has an absolute path")
        if ".." in name.replace("\\", "/").split("/"):
            raise CheckpointError(f"{tar_path}: refusing the archive: member {name!r} points outside it")
        target = os.path.realpath(os.path.join(root, name))
        if not _inside(root, target):
            raise CheckpointError(f"{tar_path}: refusing the archive: member {name!r} points outside it")
        if m.issym() or m.islnk():
            base = os.path.dirname(target) if m.issym() else root
            link = os.path.realpath(os.path.join(base, m.linkname))
            if os.path.isabs(m.linkname) or not _inside(root, link):
                raise CheckpointError(f"{tar_path}: refusing the archive: link {name!r} -> {m.linkname!r} "
                                      "points outside it")
            if not links:
                raise CheckpointError(f"{tar_path}: refusing the archive: member {name!r} is a link")
        elif not (m.isfile() or m.isdir()):
            raise CheckpointError(f"{tar_path}: refusing the archive: member {name!r} is not a file or folder")


def list_members(tar_path: str, tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members, read one header at a time so that a flood of them is refused early."""
    members = []
    while (m := tar.next()) is not None:
        if m.size > MAX_BYTES:  # said at once: the data behind such a header is rarely all there
            raise CheckpointError(f"{tar_path}: refusing the archive: member {m.name!r} declares "
                                  f"{m.size / 1e9:,.0f} GB, more than any model ({MAX_BYTES / 1e9:.0f} GB)")
        members.append(m)
        if len(members) > MAX_MEMBERS:
            raise CheckpointError(f"{tar_path}: refusing the archive: it holds more than {MAX_MEMBERS:,} "
                                  "members, which no model archive does")
    return members


def extract(tar_path: str, dest: str, token=None, progress=None, links: bool = True) -> int:
    """Extract `tar_path` into the folder `dest` (created); returns the bytes written.

    progress(done_bytes, total_bytes) is called while copying; token.check() is honoured.
    links=False refuses an archive holding any link (see check_members).
    Raises CheckpointError for an unreadable, truncated or unsafe archive.
    """
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            members = list_members(tar_path, tar)
            check_members(tar_path, members, dest, links)
            total = sum(m.size for m in members if m.isfile())
            if total > MAX_BYTES:
                raise CheckpointError(f"{tar_path}: refusing the archive: its files add up to {total / 1e9:,.0f} GB, "
                                      f"more than any model ({MAX_BYTES / 1e9:.0f} GB)")
            free = shutil.disk_usage(os.path.dirname(os.path.abspath(dest)) or ".").free
            if total > free:
                raise CheckpointError(f"not enough free disk space to extract {tar_path}: "
                                      f"{total / 1e6:.0f} MB needed, {free / 1e6:.0f} MB free")
            os.makedirs(dest, exist_ok=True)
            root = os.path.realpath(dest)
            done = 0
            for m in members:
                target = os.path.join(root, m.name)
                if m.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                if m.issym() or m.islnk():
                    tar.extract(m, root, filter="data")  # checked above to stay inside
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tar.extractfile(m)
                copied = 0
                with src, open(target, "wb") as out:
                    while True:
                        if token is not None:
                            token.check()
                        block = src.read(CHUNK)
                        if not block:
                            break
                        out.write(block)
                        copied += len(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
                if copied != m.size:
                    raise CheckpointError(f"{tar_path} is incomplete: {m.name} has {copied} of {m.size} bytes")
            if not any(m.isfile() for m in members):
                raise CheckpointError(f"{tar_path} holds no files")
            return done
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise CheckpointError(f"{tar_path} is not a readable .tar archive (damaged or incomplete download?): "
                              f"{exc}") from exc
    except OSError as exc:
        raise CheckpointError(f"could not extract {tar_path} into {dest}: {exc.strerror or exc}") from exc
