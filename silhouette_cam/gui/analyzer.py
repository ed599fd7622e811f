"""FrameAnalyzer: segments and refines frames on its own thread while the worker renders the previous one.

capture thread (FrameGrabber) -> analyzer thread (segment + refine) -> worker (render, record,
display conversion): three stages on three threads keep both CPU cores busy, like the command
line's PipelineRunner. The hand-over holds one analysed frame; the analyzer takes the next frame
only once it was picked up, so an analysed frame is never thrown away and a live source's older
frames are dropped before any work is spent on them. Each analysis carries its own frame and the
settings it was made with, so a frame is never drawn with another frame's mask. Errors re-raise
in `take()`: the source's as they are, the pipeline's as ProcessingError.
"""

from __future__ import annotations

import threading
from typing import Any

from .capture import CapturedFrame, FrameGrabber


class ProcessingError(Exception):
    """The pipeline raised on a frame (the cause is chained)."""


class FrameAnalyzer:
    """See the module docstring. `engine.analyze(frame_bgr, timestamp_s=, capture_ms=)` -> analysis."""

    def __init__(self, engine: Any, grabber: FrameGrabber) -> None:
        self._engine, self._grabber = engine, grabber
        self._cond = threading.Condition()
        self._slot: tuple[Any, CapturedFrame] | None = None
        self._failure: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="analyzer", daemon=True)

    def start(self) -> FrameAnalyzer:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Flag + join; True if the thread finished (it completes the frame it is analysing first)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def take(self, timeout_s: float) -> tuple[Any, CapturedFrame] | None:
        """(analysis, the captured frame it came from), or None after `timeout_s`; re-raises failures."""
        with self._cond:
            if self._slot is None and self._failure is None:
                self._cond.wait_for(lambda: self._slot is not None or self._failure is not None, timeout_s)
            item, self._slot = self._slot, None
            if item is None and self._failure is not None:
                raise self._failure
            self._cond.notify_all()
            return item

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._slot is None or self._stopping)
                    if self._stopping:
                        return
                captured = self._grabber.take(timeout_s=0.05)
                if captured is None:
                    continue
                try:
                    analysis = self._engine.analyze(captured.frame_bgr, timestamp_s=captured.timestamp_s,
                                                    capture_ms=captured.read_ms)
                except Exception as exc:  # noqa: BLE001 — told apart from source failures by its type
                    raise ProcessingError(f"{type(exc).__name__}: {exc}") from exc
                with self._cond:
                    self._slot = (analysis, captured)
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 — handed to the worker, which reports it
            with self._cond:
                self._failure = exc
                self._cond.notify_all()
