"""Where rendered frames go: the FrameSink protocol, the one alpha choice, and SinkWriter's thread.

    writer = SinkWriter(timer=pipeline.timer)          # "write" stage: ms per frame over all sinks
    writer.add(ImageSink(VideoRecorder(path, fps=30, size=(w, h)), alpha=False))
    writer.submit(out)                                 # to the writer thread (keepable_frame)
    writer.close()                                     # every submitted frame written, sinks closed

A sink is anything with `write(frame: ProcessedFrame)` and `close()`, and optionally
`wants_frames` (False: skip the copy while it is idle, e.g. a recorder that is not recording).
Sinks run on the writer's own thread, so a slow encoder or device never stalls rendering: frames
wait in a bounded queue, and when it is full `submit` either waits (every frame matters: files,
--quit-after-frames) or drops the frame (live: the display must not stall). A sink that raises is
closed and removed, and `on_error(sink, exc)` says so; the other sinks go on.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

if TYPE_CHECKING:
    from silhouette_cam.pipeline import PipelineSettings, ProcessedFrame

MAX_PENDING = 8  # frames queued for the sinks (about 0.25 s at 30 fps): absorbs an encoder's keyframe


class FrameSink(Protocol):
    def write(self, frame: ProcessedFrame) -> None: ...

    def close(self) -> None: ...


def transparent_output(settings: PipelineSettings) -> bool:
    """True when the frames carry alpha worth keeping: a cutout on a transparent background."""
    return settings.render.mode == "cutout" and settings.render.background == "transparent"


def keeps_alpha(path: str | os.PathLike, *, transparent: bool) -> bool:
    """Record a transparent cutout with its alpha? Yes where the output holds alpha (.webm/.mov/.mkv,
    or a PNG folder: no suffix); into other containers it goes as shown, on the checkerboard. (The
    CLI asks for alpha outright with transparent_output, so a wrong suffix is an error there.)"""
    if not transparent:
        return False
    from silhouette_cam.sinks import ALPHA_CODECS  # PyAV loads only when something is recorded

    suffix = Path(path).suffix.lower()
    return not suffix or suffix in ALPHA_CODECS


def frame_pixels(frame: ProcessedFrame, alpha: bool, *, pad: bool = True) -> np.ndarray:
    """The frame as a sink takes it. alpha False: [H, W, 3] RGB (a transparent cutout on its
    checkerboard, as shown). alpha True: [H, W, 4] RGBA where the frame has alpha; where it has none
    (another mode), RGBA made opaque when `pad` (a stream with alpha needs 4 channels throughout),
    else the RGB as it is (a writer that takes either, like VirtualCamera: no matting of opaque frames)."""
    if not alpha:
        return frame.image
    if frame.rgba is not None:
        return frame.rgba
    return cv2.cvtColor(frame.image, cv2.COLOR_RGB2RGBA) if pad else frame.image


class ImageSink:
    """A FrameSink over any `write(image, timestamp_s)` / `close()` writer: VideoRecorder,
    PngSequenceWriter, VirtualCamera. alpha, pad: what to hand it (see frame_pixels)."""

    def __init__(self, target: Any, *, alpha: bool, pad: bool = True) -> None:
        self.target, self.alpha, self.pad = target, bool(alpha), bool(pad)

    def write(self, frame: ProcessedFrame) -> None:
        self.target.write(frame_pixels(frame, self.alpha, pad=self.pad), frame.timestamp_s)

    def close(self) -> None:
        self.target.close()


def keepable_frame(frame: ProcessedFrame) -> ProcessedFrame:
    """A frame whose pixels stay valid while the writer thread holds it: the same pixels when the
    renderer never draws over held ones (`pixels_kept`; a 720p copy was 0.7 ms of the rendering
    thread's time per frame), else copies."""
    if frame.pixels_kept:
        return dataclasses.replace(frame, timings_ms=dict(frame.timings_ms))
    rgba = None if frame.rgba is None else frame.rgba.copy()
    return dataclasses.replace(frame, image=frame.image.copy(), rgba=rgba, timings_ms=dict(frame.timings_ms))


_STOP = object()


class SinkWriter:
    """Runs sinks on one writer thread; see the module docstring.

    timer: gets "write" (ms for all sinks, per frame); max_pending: frames queued at most;
    drop_when_full: drop (True) or wait (False) when that many are queued; on_error(sink, exc):
    called on the writer thread after a failing sink was closed and removed.
    """

    def __init__(self, *, timer: Any = None, max_pending: int = MAX_PENDING, drop_when_full: bool = False,
                 on_error: Callable[[Any, BaseException], None] | None = None) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._timer, self._drop, self._on_error = timer, drop_when_full, on_error
        self._queue: queue.Queue = queue.Queue()  # frames and commands, in order; frames bounded below
        self._slots = threading.Semaphore(max_pending)
        self._lock = threading.Lock()
        self._attached: list[Any] = []  # as callers see it; the writer thread's list follows in order
        self._thread: threading.Thread | None = None
        self._closed = False
        self.frames_dropped = 0

    @property
    def sinks(self) -> list[Any]:
        with self._lock:
            return list(self._attached)

    @property
    def active(self) -> bool:
        """True when a sink wants frames now (submit() copies nothing otherwise)."""
        with self._lock:
            return any(getattr(sink, "wants_frames", True) for sink in self._attached)

    def add(self, sink: Any) -> None:
        """Attach `sink`: it gets every frame submitted from now on."""
        with self._lock:
            if self._closed:
                raise ValueError("the sink writer is closed")
            self._attached.append(sink)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="silhouette-write", daemon=True)
                self._thread.start()
        self._queue.put(("add", sink))

    def remove(self, sink: Any, *, close: bool = True) -> None:
        """Detach `sink` after the frames submitted so far; closed on the writer thread when `close`."""
        with self._lock:
            if sink not in self._attached:
                return
            self._attached.remove(sink)
        self._queue.put(("remove", sink, close))

    def call(self, function: Callable[[], None], *, timeout_s: float | None = 10.0) -> bool:
        """Run `function` on the writer thread after the frames submitted so far, and wait for it
        (timeout_s None: do not wait). True when it ran (or was queued, without waiting)."""
        with self._lock:
            running = self._thread is not None and not self._closed
        if not running:
            function()
            return True
        done = threading.Event()
        self._queue.put(("call", function, done))
        return True if timeout_s is None else done.wait(timeout_s)

    def submit(self, frame: ProcessedFrame) -> bool:
        """Queue `frame` for the sinks (keepable_frame: copied only where its pixels would be drawn
        over); False when none wants it or it was dropped."""
        if self._closed or not self.active:
            return False
        if not self._slots.acquire(blocking=not self._drop):
            self.frames_dropped += 1
            return False
        self._queue.put(("frame", keepable_frame(frame)))
        return True

    def close(self, timeout_s: float = 30.0) -> bool:
        """Write what was submitted, close every sink, end the thread (flag + join). True when done."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return True
        self._queue.put(_STOP)
        if thread is not threading.current_thread():
            thread.join(timeout_s)
        return not thread.is_alive()

    # -- the writer thread ------------------------------------------------------------------------
    def _run(self) -> None:
        sinks: list[Any] = []
        while True:
            item = self._queue.get()
            if item is _STOP:
                with self._lock:
                    self._attached.clear()
                for sink in sinks:
                    self._close(sink)
                return
            kind = item[0]
            if kind == "frame":
                self._write(sinks, item[1])
                self._slots.release()
            elif kind == "add":
                sinks.append(item[1])
            elif kind == "remove":
                if item[1] in sinks:
                    sinks.remove(item[1])
                    if item[2]:
                        self._close(item[1])
            elif kind == "call":
                try:
                    item[1]()
                finally:
                    item[2].set()

    def _write(self, sinks: list[Any], frame: ProcessedFrame) -> None:
        start = time.perf_counter()
        for sink in list(sinks):
            if not getattr(sink, "wants_frames", True):
                continue
            try:
                sink.write(frame)
            except Exception as exc:  # noqa: BLE001 - this sink stops; the others and the view go on
                sinks.remove(sink)
                with self._lock:
                    if sink in self._attached:
                        self._attached.remove(sink)
                self._close(sink)
                if self._on_error is not None:
                    self._on_error(sink, exc)
        if self._timer is not None:
            self._timer.add("write", (time.perf_counter() - start) * 1000)

    def _close(self, sink: Any) -> None:
        try:
            sink.close()
        except Exception as exc:  # noqa: BLE001 - reported; nothing else to do with a sink that will not close
            if self._on_error is not None:
                self._on_error(sink, exc)

