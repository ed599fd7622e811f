"""Tests for silhouette_cam.fps with a fake clock (exact, no sleeps)."""

from __future__ import annotations

import math

import pytest

from silhouette_cam.fps import FpsMeter, StageTimer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fps_meter_exact_and_sliding():
    clock = FakeClock()
    meter = FpsMeter(window=4, clock=clock)
    assert meter.fps == 0.0
    for _ in range(5):
        meter.tick()
        clock.now += 0.1  # 10 fps
    assert meter.fps == pytest.approx(10.0)
    for _ in range(5):
        meter.tick()
        clock.now += 0.05  # 20 fps: the window forgets the older, slower frames
    assert meter.fps == pytest.approx(20.0)
    meter.reset()
    assert meter.fps == 0.0


def test_fps_meter_rejects_bad_window():
    with pytest.raises(ValueError, match="window"):
        FpsMeter(window=0)


def test_stage_timer_median_p90_and_window():
    clock = FakeClock()
    timer = StageTimer(window=3, clock=clock)
    for ms in (100.0, 1.0, 2.0, 3.0):  # the 100 ms sample falls out of the 3-sample window
        with timer.stage("segment"):
            clock.now += ms / 1000.0
    assert timer.median_ms("segment") == pytest.approx(2.0)
    assert timer.p90_ms("segment") == pytest.approx(2.8)
    timer.add("render", 5.0)
    assert timer.snapshot() == pytest.approx({"segment": 2.0, "render": 5.0})
    assert math.isnan(timer.median_ms("write"))


def test_stage_timer_records_even_when_block_raises():
    clock = FakeClock()
    timer = StageTimer(clock=clock)
    with pytest.raises(RuntimeError), timer.stage("refine"):
        clock.now += 0.004
        raise RuntimeError("boom")
    assert timer.median_ms("refine") == pytest.approx(4.0)
