"""Files written whole or not at all: a temp file beside the target, fsync, then rename.

A crash, a full disk or an exception leaves the old file (or none), never a truncated one. Written
files get the mode a plain `open()` would give (0o666 minus the umask), not mkstemp's 0600.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from silhouette_cam.errors import describe

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting and restoring it, under a lock)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def default_file_mode() -> int:
    """What `open(path, "w")` would create: 0o666 & ~umask."""
    return 0o666 & ~current_umask()


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_output(path: str | os.PathLike, *, what: str = "file", make_folder: bool = True) -> Iterator[Path]:
    """Yield a temp path beside `path` to write to; on success it is fsynced and renamed to `path`.

    For writers that take a path (safetensors, ONNX, torch). Raises a one-line OSError naming `path`
    (and `what` it is; its errno kept) when the folder cannot be created (`make_folder`; else it
    must exist) or the file cannot be completed; the temp file is removed.
    """
    path = Path(path)
    try:
        if make_folder:
            make_parent_folder(path)
        # The temp name ends in the target suffix: some writers pick their format from it (onnx.save).
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
        os.close(fd)
    except OSError as exc:
        raise _named_error(what, path, exc) from None
    try:
        yield Path(tmp)
        os.chmod(tmp, default_file_mode())
        _fsync_path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise _named_error(what, path, exc) from None
    except BaseException:
        _remove_quietly(tmp)
        raise


def _named_error(what: str, path: Path, exc: OSError) -> OSError:
    """`cannot write WHAT PATH: reason`, one line, no errno number in the words but kept on the error."""
    error = OSError(f"cannot write {what} {path}: {describe(exc)}")
    error.errno = exc.errno
    return error


def write_bytes(path: str | os.PathLike, data: bytes | memoryview, *, what: str = "file",
                make_folder: bool = True) -> Path:
    """Write `data` to `path` atomically (see `atomic_output`); returns the path. A short write that
    raised nothing (some network and FUSE file systems) is an error too, never a truncated file."""
    with atomic_output(path, what=what, make_folder=make_folder) as tmp, open(tmp, "wb") as stream:
        written = stream.write(data)
        if written is not None and written != len(data):
            raise OSError(f"{written} of {len(data)} bytes written")
        stream.flush()
    return Path(path)


def write_text(path: str | os.PathLike, text: str, *, what: str = "file") -> Path:
    """Write UTF-8 `text` to `path` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"), what=what)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # the original error is what the user needs to see


def make_parent_folder(path: str | os.PathLike) -> None:
    """Create `path`'s folder (and its parents). OSError naming the part of the path that is a file
    where a folder is needed (mkdir would only say "File exists")."""
    parent = Path(path).parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise NotADirectoryError(f"{ancestor} is a file, not a folder")
            break
    parent.mkdir(parents=True, exist_ok=True)
