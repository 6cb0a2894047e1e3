"""The text progress bar the long-running commands (models install, train, model-card) draw on stderr.

It is a JobToken progress callback. On a terminal one line is redrawn, at most every `every`
seconds; in a log (not a terminal) it writes a line per tenth of the work, or, with
`by_tenths=False`, a line at most every `every` seconds.
"""
from __future__ import annotations

import sys
import time


class TextProgress:
    """A text progress bar on stderr (see the module docstring); call `finish()` when done."""

    def __init__(self, stream=None, width: int = 30, every: float = 0.1, by_tenths: bool = True):
        self.stream = stream or sys.stderr
        self.width, self.every, self.by_tenths = width, every, by_tenths
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_time = 0.0
        self.last_tenth = -1
        self.last_len = 0
        self.shown = False

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if self.tty or not self.by_tenths:
            if now - self.last_time < self.every and fraction < 1.0:
                return
        else:
            tenth = int(fraction * 10)
            if tenth == self.last_tenth:
                return
            self.last_tenth = tenth
        if self.tty:
            filled = int(round(fraction * self.width))
            line = f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction * 100:5.1f}% {message}"
            pad = max(self.last_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self.last_len = len(line)
        else:
            self.stream.write(f"{fraction * 100:5.1f}% {message}\n")
        self.last_time = now
        self.shown = True
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line on a terminal (nothing when nothing was drawn since the last call)."""
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
        self.shown = False
