"""PngSequenceWriter: frames to 000000.png, 000001.png, ... encoded and written on worker threads.

    with PngSequenceWriter("frames/") as writer:
        for image in rendered:             # [H, W, 3|4] uint8 RGB(A); the buffer may be reused at once
            writer.write(image)
    # close() waited for every frame; writer.frames_written files are complete on disk

write() takes an owned, filtered copy of the frame (~1 ms at 720p, see png_encoder) and queues it;
a small pool compresses and writes (the slow part, off the render thread). At most `depth` frames
wait, so a slow disk slows the caller instead of filling memory. Names follow the order of write()
calls whatever order the workers finish in.

Nothing half-written is ever counted: each file is written to a hidden temporary name, checked
(bytes written, flushed and fsynced: a full disk shows up there, not as a 0-byte PNG) and then
renamed. A worker's failure is re-raised by the next write() or close() as one OSError naming the
file; the writer then stops, removes the frames written after the failed one, and `frames_written`
counts the complete run 000000.png .. before the failed file. Any path works, non-UTF-8 ones too:
the bytes go through Python's file I/O, never through OpenCV's path handling.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from silhouette_cam.atomic_file import write_bytes
from silhouette_cam.png_encoder import png_from_filtered_rows, up_filtered_rows


def default_workers() -> int:
    """Two encoders keep pace with the pipeline on 2 cores; more cores, a few more (4 at most)."""
    return max(2, min(4, (os.cpu_count() or 2) // 2))


class PngSequenceWriter:
    """Writes 000000.png, 000001.png, ... into `folder` (created; must be writable); RGB or RGBA.

    workers: encoder threads (default: `default_workers()`); depth: frames queued or in work before
    write() blocks (default 2 per worker). write(image, timestamp_s=None): image [H, W, 3] RGB or
    [H, W, 4] RGBA uint8 (ValueError otherwise, raised at once); the timestamp is ignored (file
    names carry the order). frames_written: complete files 000000.png .. in an unbroken run.
    """

    codec = "png"

    def __init__(self, folder: str | os.PathLike, *, workers: int | None = None, depth: int | None = None) -> None:
        self.folder = Path(folder)
        workers = default_workers() if workers is None else workers
        depth = 2 * workers if depth is None else depth
        if workers < 1 or depth < 1:
            raise ValueError(f"workers and depth must be >= 1, got workers={workers} depth={depth}")
        if self.folder.exists() and not self.folder.is_dir():
            raise NotADirectoryError(f"PNG output is not a folder: {self.folder}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot create output folder {self.folder}: {exc.strerror}") from None
        if not os.access(self.folder, os.W_OK):
            raise PermissionError(f"output folder is not writable: {self.folder}")
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(workers, thread_name_prefix="silhouette-png")
        self._slots = threading.BoundedSemaphore(depth)
        self._lock = threading.Lock()  # guards the fields below, shared with the workers' callbacks
        self._done: set[int] = set()
        self._failure: tuple[int, OSError] | None = None  # (frame index, error) of the first failed frame
        self._reported = False
        self._next_index = 0
        self._written = 0

    def path_of(self, index: int) -> Path:
        return self.folder / f"{index:06d}.png"

    @property
    def frames_written(self) -> int:
        """Complete files 000000.png ... in an unbroken run (a frame still being encoded is not counted)."""
        with self._lock:
            return self._written

    def write(self, image: np.ndarray, timestamp_s: float | None = None) -> None:
        self._raise_failure()
        if self._pool is None:
            raise ValueError(f"PNG sequence {self.folder} is closed")
        rows = up_filtered_rows(image)  # validates; an owned copy, so the caller may reuse `image`
        index, self._next_index = self._next_index, self._next_index + 1
        self._slots.acquire()  # bounded: waits while `depth` frames are queued or in work
        try:
            future = self._pool.submit(self._encode_and_write, index, rows, image.shape[2])
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda done, index=index: self._finished(index, done))

    def _encode_and_write(self, index: int, rows: np.ndarray, channels: int) -> None:
        with self._lock:
            if self._failure is not None and self._failure[0] < index:
                return  # an earlier frame failed: this one would only be removed again
        # Whole or not at all (a full disk names the file); the folder is the writer's, made once.
        write_bytes(self.path_of(index), png_from_filtered_rows(rows, channels), what="PNG frame", make_folder=False)

    def _finished(self, index: int, future: Future) -> None:
        error = future.exception()
        with self._lock:
            if error is not None:
                if not isinstance(error, OSError):  # e.g. MemoryError: still one line naming the file
                    error = OSError(f"cannot write {self.path_of(index)}: {type(error).__name__}: {error}")
                if self._failure is None or index < self._failure[0]:
                    self._failure = (index, error)
            else:  # counted only up to a gap: a failed frame never enters _done
                self._done.add(index)
                while self._written in self._done:
                    self._done.discard(self._written)
                    self._written += 1
        self._slots.release()

    def _raise_failure(self) -> None:
        """Re-raise a worker's failure once: stop the pool, remove frames after the failed one."""
        with self._lock:
            if self._failure is None or self._reported:
                return
            self._reported = True
        self._shutdown()  # frames in work finish first: an earlier frame may fail too, and is the one to report
        with self._lock:
            failed_index, error = self._failure
        self._remove_after(failed_index)
        raise error

    def _remove_after(self, failed_index: int) -> None:
        with self._lock:
            after, self._done = sorted(i for i in self._done if i > failed_index), set()
        for index in after:  # written by this writer in this run, after the gap: not part of the sequence
            try:
                self.path_of(index).unlink(missing_ok=True)
            except OSError:
                pass

    def _shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def close(self) -> None:
        """Wait for every queued frame; raise the first failure not yet raised (safe to call twice)."""
        self._shutdown()
        self._raise_failure()

    def __enter__(self) -> PngSequenceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
