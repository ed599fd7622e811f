"""FrameGrabber: latest frame wins when paced, every frame in order when not, errors reach the consumer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from silhouette_cam.gui.capture import EndOfStream, FrameGrabber
from silhouette_cam.sources import FrameSource


class CountingSource(FrameSource):
    """Frames whose pixels hold their index; optional failure after `fail_after` frames."""

    def __init__(self, frames: int, fps: float = 1000.0, fail_after: int | None = None) -> None:
        self.fps, self.size, self.name = fps, (8, 6), "counting"
        self._frames, self._fail_after, self._index = frames, fail_after, 0
        self.gate = threading.Semaphore(0) if fps < 0 else None
        self.exhausted = threading.Event()  # set once every frame has been read

    def read(self):
        if self._fail_after is not None and self._index >= self._fail_after:
            raise OSError("device unplugged")
        if self._index >= self._frames:
            self.exhausted.set()
            return None
        frame = np.full((6, 8, 3), self._index % 256, np.uint8)
        self._index += 1
        return frame, (self._index - 1) / self.fps


def take_all(grabber: FrameGrabber) -> list[int]:
    seen = []
    with pytest.raises(EndOfStream):
        while True:
            item = grabber.take(timeout_s=5.0)
            assert item is not None, "no frame within 5 s"
            seen.append(item.index)
    return seen


def test_unpaced_delivers_every_frame_in_order_and_the_shown_one_is_at_most_one_behind() -> None:
    # Like the window: frame k is analysed while frame k - 1 is shown.
    grabber = FrameGrabber(CountingSource(25), paced=False).start()
    try:
        seen = []
        with pytest.raises(EndOfStream):
            while True:
                item = grabber.take(timeout_s=5.0)
                assert item is not None
                assert int(item.frame_bgr[0, 0, 0]) == item.index
                seen.append(item.index)
                if item.index >= 1:
                    grabber.frame_shown(item.index - 1)
                    assert grabber.frames_read - 1 - (item.index - 1) <= 1
    finally:
        grabber.stop()
    assert seen == list(range(25))
    assert grabber.frames_dropped == 0


def test_unpaced_reads_no_further_until_frames_are_shown() -> None:
    grabber = FrameGrabber(CountingSource(25), paced=False).start()
    try:
        assert [grabber.take(timeout_s=5.0).index for _ in range(2)] == [0, 1]
        assert grabber.take(timeout_s=0.3) is None  # frame 2 waits for frame 0 on screen
        assert grabber.frames_read == 2
        grabber.frame_shown(0)
        assert grabber.take(timeout_s=5.0).index == 2
    finally:
        grabber.stop()


def test_paced_keeps_only_the_newest_frame_for_a_slow_consumer() -> None:
    # All 200 frames are due at once (1e6 fps) and nobody takes until the source is exhausted:
    # a queue would now hold 200 frames; latest-frame-wins holds exactly one, the newest.
    source = CountingSource(200, fps=1e6)
    grabber = FrameGrabber(source, paced=True).start()
    try:
        assert source.exhausted.wait(10.0), "the reader did not finish the source"
        item = grabber.take(timeout_s=5.0)
        assert item is not None and item.index == 199
        with pytest.raises(EndOfStream):
            grabber.take(timeout_s=5.0)
    finally:
        grabber.stop()
    assert grabber.frames_dropped == 199


def test_source_error_is_raised_by_take() -> None:
    grabber = FrameGrabber(CountingSource(100, fail_after=3), paced=False).start()
    try:
        got = []
        for _ in range(3):
            got.append(grabber.take(timeout_s=5.0).index)
            grabber.frame_shown(got[-1])
        with pytest.raises(OSError, match="device unplugged"):
            grabber.take(timeout_s=5.0)
    finally:
        assert grabber.stop()
    assert got == [0, 1, 2]


def test_stop_interrupts_a_pacing_wait() -> None:
    grabber = FrameGrabber(CountingSource(10, fps=0.5), paced=True).start()  # 2 s between frames
    assert grabber.take(timeout_s=5.0) is not None
    assert grabber.stop(timeout_s=1.0)
