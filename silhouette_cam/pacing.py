"""SourcePacer: hands frames on at the source's own rate, so a video file plays at real speed.

    pacer = SourcePacer()                 # clock / sleep injectable: exact tests without waiting
    for out in runner:
        pacer.wait(out.timestamp_s)       # returns when the frame's time has come
        camera.write(out.image, out.timestamp_s)

The first frame anchors source time to the clock; frame t is due `t - t0` seconds later. A frame
that is already late goes at once (a slow machine falls behind instead of bursting to catch up),
and one more than `max_drift_s` early or late (a jump in the timestamps, a stall) re-anchors there.
Cameras need none: their frames arrive on the camera's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from silhouette_cam.fps import Clock


class SourcePacer:
    """See the module docstring. clock: () -> seconds; sleep: (seconds) -> None."""

    def __init__(self, *, max_drift_s: float = 1.0, clock: Clock = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if max_drift_s <= 0:
            raise ValueError(f"max_drift_s must be > 0, got {max_drift_s}")
        self.max_drift_s = float(max_drift_s)
        self._clock, self._sleep = clock, sleep
        self._anchor: tuple[float, float] | None = None  # (clock time, source time) of the anchor frame

    def reset(self) -> None:
        """Forget the anchor (a new source or a seek): the next frame goes at once."""
        self._anchor = None

    def wait(self, timestamp_s: float) -> float:
        """Sleep until the frame stamped `timestamp_s` (source seconds) is due; returns seconds slept."""
        now = self._clock()
        if self._anchor is None:
            self._anchor = (now, float(timestamp_s))
            return 0.0
        delay = self._anchor[0] + (float(timestamp_s) - self._anchor[1]) - now
        if abs(delay) > self.max_drift_s:
            self._anchor = (now, float(timestamp_s))
            return 0.0
        if delay <= 0:
            return 0.0
        self._sleep(delay)
        return delay
