"""FrameGrabber: reads a FrameSource on its own thread so capture overlaps processing.

It holds at most one frame (latest wins, never a queue):
- paced (live use): frames are released on the source's clock — a video file plays at its real
  speed like a camera would; if processing falls behind, older frames are dropped, not queued.
- unpaced (benchmarks, --quit-after-frames): the next frame is read only once the previous one
  was taken, so every frame is processed, in order; and frame k only once frame k - 2 was shown
  (`frame_shown`), so the frame on screen is never more than one frame older than the newest read.
A source that raises is reported to the consumer by `take()` re-raising it; end of stream is
`EndOfStream`. Stop is a flag + join, like every worker here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from silhouette_cam.sources import FrameSource

from .slot_thread import SlotThread

MAX_PACING_WAIT_S = 1.0  # a timestamp jump (seek, bad PTS) never stalls the stream longer than this
MAX_SHOWN_AGE = 1  # unpaced: frames read ahead of the one on screen (one being analysed)


@dataclass(frozen=True)
class CapturedFrame:
    frame_bgr: np.ndarray  # [H, W, 3] uint8 BGR, as read from the source
    timestamp_s: float  # the source's timestamp (not wall-clock)
    index: int  # 0-based count of frames read from this source
    read_ms: float  # time source.read() took


class EndOfStream(Exception):
    """The source returned None (a file that does not loop, a camera that stopped)."""


class FrameGrabber(SlotThread):
    """Runs `source.read()` on a daemon thread; `take()` returns the newest frame (see module doc)."""

    def __init__(self, source: FrameSource, *, paced: bool) -> None:
        super().__init__(name=f"capture:{source.name}")
        self._source = source
        self._paced = paced
        self.frames_read = 0  # newest captured index + 1 (read by the frame-age measurement)
        self.frames_dropped = 0
        self._shown_index = -1  # newest frame index the window showed (unpaced reads wait for it)

    def take(self, timeout_s: float) -> CapturedFrame | None:
        """The newest frame (removing it), None after `timeout_s` without one; re-raises source errors."""
        return super().take(timeout_s)

    def frame_shown(self, index: int) -> int:
        """The window shows frame `index` now (unpaced: lets the next read go). Returns its age: the
        newest frame read - index, as it was when the frame was handed over."""
        with self._cond:
            age = self.frames_read - 1 - index
            if index > self._shown_index:
                self._shown_index = index
                self._cond.notify_all()
            return age

    def _wait_until_shown(self, index: int) -> bool:
        """Unpaced: block until reading frame `index` keeps the shown frame within MAX_SHOWN_AGE of
        the newest read; False if stopping instead."""
        with self._cond:
            self._cond.wait_for(lambda: index - self._shown_index <= MAX_SHOWN_AGE + 1 or self._stopping)
            return not self._stopping

    def _produce(self) -> None:
        wall_start: float | None = None
        first_ts = 0.0
        index = 0
        while True:
            if not self._paced and not (self._wait_until_slot_empty() and self._wait_until_shown(index)):
                return
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
                    self.frames_dropped += 1  # latest wins: the untaken older frame is replaced
                self._slot = CapturedFrame(frame, float(timestamp), index, read_ms)
                self.frames_read = index + 1
                self._cond.notify_all()
            index += 1
