"""Errors that reach the user as a readable message.

Raise `UserError` (or a subclass) for anything a musician can cause: a bad file, a wrong
checkpoint, a full disk. The message must say what went wrong and name the file involved.
The CLI prints it without a traceback and exits non-zero; the GUI shows it in a dialog.
"""


class UserError(Exception):
    """A problem the user can understand and act on."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail  # longer technical text, shown behind a "Details" button

    def __str__(self) -> str:
        return self.message


class MidiFileError(UserError):
    """A MIDI file that cannot be read or written."""


class ProjectFileError(UserError):
    """A project file that cannot be read or written."""


class CheckpointError(UserError):
    """A model checkpoint that does not fit the chosen config, or cannot be read."""


class JobCancelled(Exception):
    """Raised inside a job when its token was cancelled; not an error for the user."""
