"""Errors the user can act on, and how they are worded: one line naming the thing, in the user's terms.

`describe(exc)` turns an exception into words without errno numbers (`[Errno 17] File exists: 'x'` ->
`x: file exists`); `error_line(...)` is the one line a command prints. Warnings go through the
`silhouette_cam` logger (`warn(...)`), which the CLI sends to stderr one line each.
"""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "silhouette_cam"
log = logging.getLogger(LOGGER_NAME)


class DeviceError(RuntimeError):
    """The requested compute device failed (e.g. a CUDA driver or kernel error); the message says how."""


def describe(exc: BaseException, *, name_file: bool = True) -> str:
    """The exception's message in words: OSError-style `[Errno N] text: 'file'` becomes `file: text`
    (just `text` with name_file=False, for callers whose message already names the file)."""
    strerror = getattr(exc, "strerror", None)
    text = str(exc)
    if isinstance(strerror, str) and strerror and (not text or text.startswith("[Errno")):
        words = strerror[:1].lower() + strerror[1:]
        filename = getattr(exc, "filename", None)
        return f"{filename}: {words}" if filename and name_file else words
    if isinstance(exc, KeyError) and exc.args:
        return f"missing {exc.args[0]!r}"
    return " ".join(text.split()) or type(exc).__name__  # one line, never empty


def error_line(command: str, exc_or_message: BaseException | str) -> str:
    """`silhouette-cam COMMAND: error: MESSAGE`, one line."""
    message = exc_or_message if isinstance(exc_or_message, str) else describe(exc_or_message)
    return f"silhouette-cam {command}: error: {' '.join(message.split())}"


class _OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"silhouette-cam: {record.levelname.lower()}: {' '.join(record.getMessage().split())}"


def configure_logging(stream=None) -> None:
    """Send `silhouette_cam` warnings to stderr (or `stream`), one line each; idempotent."""
    stream = stream if stream is not None else sys.stderr
    for handler in list(log.handlers):
        if getattr(handler, "_silhouette_cam", False):
            log.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_OneLineFormatter())
    handler._silhouette_cam = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def warn(message: str) -> None:
    """A warning the user should see (a file that was read only in part, a frame that was fitted ...)."""
    log.warning(" ".join(message.split()))
