"""Tests for SourcePacer with a clock that moves only when it sleeps (exact, no real waiting)."""

from __future__ import annotations

import pytest

from silhouette_cam.pacing import SourcePacer
from tests.fixtures.virtualcam_backend import ManualClock


def test_frames_are_released_at_the_source_rate():
    clock = ManualClock()
    pacer = SourcePacer(clock=clock, sleep=clock.sleep)
    released = []
    for i in range(300):
        pacer.wait(5.0 + i / 30)  # a source whose timestamps start at 5 s
        released.append(clock.now)
    assert released[0] == 100.0  # the first frame goes at once
    assert released[-1] - released[0] == pytest.approx(299 / 30, abs=1e-9)
    assert all(b - a == pytest.approx(1 / 30, abs=1e-9) for a, b in zip(released, released[1:], strict=False))


def test_late_frames_go_at_once_without_a_burst_to_catch_up():
    clock = ManualClock()
    pacer = SourcePacer(clock=clock, sleep=clock.sleep)
    pacer.wait(0.0)
    clock.now += 0.1  # processing took 3 frame intervals
    assert pacer.wait(1 / 30) == 0.0
    assert pacer.wait(2 / 30) == 0.0
    assert pacer.wait(4 / 30) == pytest.approx(4 / 30 - 0.1)  # on schedule again: waits


@pytest.mark.parametrize("jump_s", [5.0, -5.0])
def test_a_timestamp_jump_re_anchors_instead_of_stalling(jump_s):
    clock = ManualClock()
    pacer = SourcePacer(clock=clock, sleep=clock.sleep, max_drift_s=1.0)
    pacer.wait(10.0)
    assert pacer.wait(10.0 + jump_s) == 0.0
    assert pacer.wait(10.0 + jump_s + 0.04) == pytest.approx(0.04)
    assert clock.slept == [pytest.approx(0.04)]


def test_reset_makes_the_next_frame_go_at_once():
    clock = ManualClock()
    pacer = SourcePacer(clock=clock, sleep=clock.sleep)
    pacer.wait(0.0)
    pacer.reset()
    assert pacer.wait(0.5) == 0.0 and clock.slept == []


def test_rejects_a_non_positive_drift():
    with pytest.raises(ValueError, match="max_drift_s must be > 0, got 0"):
        SourcePacer(max_drift_s=0)
