"""Frame-rate and per-stage timing over a sliding window, with an injectable clock (exact tests).

    meter = FpsMeter(window=60)          # clock: () -> seconds, default time.perf_counter
    meter.tick()                         # once per delivered frame
    meter.fps                            # frames per second over the last `window` intervals

    timer = StageTimer(window=60)
    with timer.stage("segment"): ...     # or timer.add("segment", ms)
    timer.median_ms("segment"); timer.p90_ms("segment"); timer.snapshot()
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

Clock = Callable[[], float]


def _check_window(window: int) -> int:
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be an int >= 1, got {window!r}")
    return window


class FpsMeter:
    """Frames per second over the last `window` frame intervals (0.0 until two ticks)."""

    def __init__(self, window: int = 60, clock: Clock = time.perf_counter) -> None:
        self._clock = clock
        self._stamps: deque[float] = deque(maxlen=_check_window(window) + 1)
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self._stamps.append(float(self._clock()))

    def reset(self) -> None:
        with self._lock:
            self._stamps.clear()

    @property
    def fps(self) -> float:
        with self._lock:
            if len(self._stamps) < 2:
                return 0.0
            span = self._stamps[-1] - self._stamps[0]
            return (len(self._stamps) - 1) / span if span > 0 else 0.0


class StageTimer:
    """Per-stage durations (milliseconds) over the last `window` samples of each stage. Thread-safe."""

    def __init__(self, window: int = 60, clock: Clock = time.perf_counter) -> None:
        self._window = _check_window(window)
        self._clock = clock
        self._samples: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self._samples.setdefault(stage, deque(maxlen=self._window)).append(float(ms))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the with-block and record it under `name` (recorded even if the block raises)."""
        start = self._clock()
        try:
            yield
        finally:
            self.add(name, (self._clock() - start) * 1000.0)

    def _stat(self, stage: str, q: float) -> float:
        with self._lock:
            samples = list(self._samples.get(stage, ()))
        return float(np.percentile(samples, q)) if samples else float("nan")

    def median_ms(self, stage: str) -> float:
        """Median of the stage's recent durations in ms (nan if never recorded)."""
        return self._stat(stage, 50)

    def p90_ms(self, stage: str) -> float:
        return self._stat(stage, 90)

    @property
    def stages(self) -> list[str]:
        with self._lock:
            return list(self._samples)

    def snapshot(self) -> dict[str, float]:
        """{stage: median ms} for every stage recorded so far, in first-recorded order."""
        return {name: self.median_ms(name) for name in self.stages}

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()
