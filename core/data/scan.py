"""What a folder of MIDI files holds for training, before any training: a Job.

    result = run_job(scan_folder, "path/to/my_midi")
    result.windows["melody"], result.refused, result.lines()

Every MIDI file under the folder is read (core/midi_io.py) and cut into windows for each kind
the way training will cut them (core/data/dataset.py: `song_piece` and `piece_windows`, which
follow Magenta's converters): 2-bar melodies from every monophonic line (each melody track,
its highest note winning), 2-bar drums from every drum track, 16-bar trios from every
combination of a melody, a bass and a drum track. The windows are counted and forgotten, one
file at a time: only counts, hashes of windows (to count distinct ones) and the list of refused
files stay in memory, so a folder of 10,000 files scans in constant memory apart from those.

A file is refused when it cannot be read (damaged, truncated, too large: the reason
MidiFileError gives) or when it is read but gives no window of any kind (its reasons per kind,
e.g. "not in 4/4 or 2/4", "no drums track", "too short"). Progress goes to the token after each
file; a cancelled token stops the scan (JobCancelled), leaving nothing behind.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from core.errors import JobCancelled, MidiFileError, UserError

KINDS = ("melody", "drums", "trio")
KIND_LABELS = {"melody": "2-bar melodies", "drums": "2-bar drums", "trio": "16-bar trios"}
SCAN_BARS = {"melody": 2, "drums": 2, "trio": 16}
MAX_LISTED = 500  # refused files listed by name; beyond that only counted


@dataclass
class ScanResult:
    folder: str
    files_seen: int = 0  # MIDI files found
    files_read: int = 0  # read without error
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path in the folder, why), the first MAX_LISTED
    refused_count: int = 0
    refused_by_reason: dict[str, int] = field(default_factory=dict)
    windows: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})  # every window cut
    distinct: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})  # after removing repeats
    files_with: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})  # files giving >= 1 window
    lines_per_kind: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})  # tracks / combinations used
    seconds: float = 0.0

    def usable_kinds(self, minimum: int = 1) -> list[str]:
        """The kinds with at least `minimum` distinct windows."""
        return [k for k in KINDS if self.distinct[k] >= minimum]

    def problem(self, kind: str | None = None) -> str | None:
        """Why training cannot start (on `kind`, or on any kind), in words; None when it can."""
        if self.files_seen == 0:
            return f'There are no MIDI files (.mid, .midi) in "{self.folder}" or its subfolders.'
        if self.files_read == 0:
            return f"None of the {self.files_seen} MIDI files could be read (see the refused files)."
        kinds = [kind] if kind else list(KINDS)
        if not any(self.distinct[k] for k in kinds):
            what = KIND_LABELS[kind] if kind else "melodies, drum patterns or trios"
            return (f"The {self.files_read} files read give no {what}: "
                    + (self.top_reasons() or "nothing long enough") + ".")
        return None

    def top_reasons(self, n: int = 3) -> str:
        items = sorted(self.refused_by_reason.items(), key=lambda kv: -kv[1])[:n]
        return "; ".join(f"{reason} ({count} files)" for reason, count in items)

    def lines(self) -> list[str]:
        """The result in words, one line each (the dialog and the CLI show these)."""
        out = [f"{self.files_seen} MIDI files found, {self.files_read} read, {self.refused_count} refused"]
        for k in KINDS:
            out.append(f"{KIND_LABELS[k]}: {self.distinct[k]} windows ({self.windows[k]} before removing "
                       f"repeats) from {self.files_with[k]} files")
        if self.refused_count:
            out.append("refused: " + self.top_reasons())
        return out


def _reason_key(text: str) -> str:
    """A short reason to count by: MidiFileError messages name the file first ('x.mid: truncated')."""
    text = text.strip()
    if ": " in text:
        text = text.split(": ", 1)[1]
    if "(" in text:
        text = text.split("(", 1)[0].strip()
    return text[:80] or "unknown"


def _refuse(result: ScanResult, path: str, why: str, key: str | None = None) -> None:
    if '": ' in why and why.startswith("Cannot"):  # 'Cannot import MIDI file "/full/path": why' -> why
        why = why.split('": ', 1)[1]
    result.refused_count += 1
    key = key or _reason_key(why)
    result.refused_by_reason[key] = result.refused_by_reason.get(key, 0) + 1
    if len(result.refused) < MAX_LISTED:
        result.refused.append((path, why))


def song_notes(song) -> dict:
    """The notes of each track, as dataset.song_piece reads them (computed once per file)."""
    if song.sections:
        return song.rendered_notes()
    out: dict = {}
    for clip in song.clips.values():
        for tid, ns in clip.notes.items():
            out.setdefault(tid, []).extend(ns)
    return out


def file_windows(song, source: str, kind: str, notes_by_track: dict | None = None) -> tuple[list, str | None, int]:
    """(windows, reason when none, lines used) of one imported song for a kind, as training cuts them."""
    from core.data.dataset import DataSettings, piece_windows, song_piece
    from core.musicvae import converters as cv

    piece, reason = song_piece(song, source, kind, notes_by_track)
    if piece is None:
        return [], reason, 0
    lines = 1
    for part in cv.PARTS[kind]:
        lines *= len(piece.parts.get(part, []))
    wins = piece_windows(piece, DataSettings(kind, SCAN_BARS[kind]), cv.ConversionReport())
    return wins, (None if wins else f"no {KIND_LABELS[kind]} long enough"), lines


def scan_folder(token, folder: str, kinds: tuple[str, ...] = KINDS, limit_files: int | None = None) -> ScanResult:
    """Scan a folder (see the module docstring); a Job. UserError when the folder does not exist."""
    from core.data.dataset import midi_files
    from core.midi_io import import_midi

    folder = os.path.expanduser(str(folder))
    if not os.path.isdir(folder):
        raise UserError(f'"{folder}" does not exist or is not a folder.')
    t0 = time.monotonic()
    result = ScanResult(folder)
    if token is not None:
        token.progress(0.0, f"looking for MIDI files in {folder}")
    files = midi_files(folder)
    if limit_files:
        files = files[:limit_files]
    result.files_seen = len(files)
    seen: dict[str, set[int]] = {k: set() for k in kinds}
    for i, path in enumerate(files):
        rel = os.path.relpath(path, folder)
        if token is not None:
            token.progress(i / max(len(files), 1), f"reading {i + 1} of {len(files)}: {rel}")
        try:
            song = import_midi(path)
        except MidiFileError as exc:
            _refuse(result, rel, exc.message)
            continue
        except JobCancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - one strange file must not end the scan
            _refuse(result, rel, f"{rel}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        result.files_read += 1
        reasons = []
        notes = song_notes(song)
        for kind in kinds:
            wins, why, lines = file_windows(song, rel, kind, notes)
            if not wins:
                reasons.append(f"{kind}: {why}")
                continue
            result.windows[kind] += len(wins)
            result.files_with[kind] += 1
            result.lines_per_kind[kind] += lines
            seen[kind].update(hash(w.tobytes()) for w in wins)
        if len(reasons) == len(kinds):
            plain = {r.split(": ", 1)[1] for r in reasons}
            _refuse(result, rel, "read, but gives no windows (" + "; ".join(reasons) + ")",
                    plain.pop() if len(plain) == 1 else "no part fits any kind")
        del song
    for kind in kinds:
        result.distinct[kind] = len(seen[kind])
    result.seconds = time.monotonic() - t0
    if token is not None:
        token.progress(1.0, "; ".join(result.lines()[:1] + [f"{KIND_LABELS[k]}: {result.distinct[k]}" for k in kinds]))
    return result
