"""FrameGrabber: reads a FrameSource on its own thread so capture overlaps processing.

It holds at most one frame (latest wins, never a queue):
- paced (live use): frames are released on the source's clock — a video file plays at its real
  speed like a camera would; if processing falls behind, older frames are dropped, not queued.
- unpaced (benchmarks, --quit-after-frames): the next frame is read only once the previous one
  was taken, so every frame is processed, in order, with at most one read ahead.
A source that raises is reported to the consumer by `take()` re-raising it; end of stream is
`EndOfStream`. Stop is a flag + join, like every worker here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from silhouette_cam.sources import FrameSource

MAX_PACING_WAIT_S = 1.0  # a timestamp jump (seek, bad PTS) never stalls the stream longer than this


@dataclass(frozen=True)
class CapturedFrame:
    frame_bgr: np.ndarray  # [H, W, 3] uint8 BGR, as read from the source
    timestamp_s: float  # the source's timestamp (not wall-clock)
    index: int  # 0-based count of frames read from this source
    read_ms: float  # time source.read() took


class EndOfStream(Exception):
    """The source returned None (a file that does not loop, a camera that stopped)."""


class FrameGrabber:
    """Runs `source.read()` on a daemon thread; `take()` returns the newest frame (see module doc)."""

    def __init__(self, source: FrameSource, *, paced: bool) -> None:
        self._source = source
        self._paced = paced
        self._cond = threading.Condition()
        self._slot: CapturedFrame | None = None
        self._failure: BaseException | None = None
        self._stopping = False
        self.frames_read = 0  # newest captured index + 1 (read by the frame-age measurement)
        self.frames_dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"capture:{source.name}", daemon=True)

    def start(self) -> FrameGrabber:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Ask the thread to finish and wait; True if it did (a read blocked in a driver may not)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def take(self, timeout_s: float) -> CapturedFrame | None:
        """The newest frame (removing it), None after `timeout_s` without one; re-raises source errors."""
        with self._cond:
            if self._slot is None and self._failure is None:
                self._cond.wait_for(lambda: self._slot is not None or self._failure is not None, timeout_s)
            item, self._slot = self._slot, None
            if item is None and self._failure is not None:
                raise self._failure
            self._cond.notify_all()  # unpaced: the reader may read the next one now
            return item

    def _run(self) -> None:
        wall_start: float | None = None
        first_ts = 0.0
        index = 0
        try:
            while True:
                if not self._paced:
                    with self._cond:
                        self._cond.wait_for(lambda: self._slot is None or self._stopping)
                if self._stopping:
                    return
                started = time.perf_counter()
                item = self._source.read()
                read_ms = (time.perf_counter() - started) * 1000.0
                if item is None:
                    raise EndOfStream(f"{self._source.name}: no more frames")
                frame, timestamp = item
                if self._paced:
                    if wall_start is None:
                        wall_start, first_ts = time.perf_counter(), timestamp
                    due = wall_start + (timestamp - first_ts)
                    with self._cond:  # an interruptible wait until the frame's time comes
                        delay = min(MAX_PACING_WAIT_S, due - time.perf_counter())
                        if delay > 0:
                            self._cond.wait_for(lambda: self._stopping, delay)
                    if due < time.perf_counter() - MAX_PACING_WAIT_S:
                        wall_start, first_ts = time.perf_counter(), timestamp  # fell far behind: re-anchor
                with self._cond:
                    if self._stopping:
                        return
                    if self._slot is not None:
                        self.frames_dropped += 1
                    self._slot = CapturedFrame(frame, float(timestamp), index, read_ms)
                    self.frames_read = index + 1
                    self._cond.notify_all()
                index += 1
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer, which reports it
            with self._cond:
                self._failure = exc
                self._cond.notify_all()
