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

from typing import Any

from .capture import CapturedFrame, FrameGrabber
from .slot_thread import SlotThread


class ProcessingError(Exception):
    """The pipeline raised on a frame (the cause is chained)."""


class FrameAnalyzer(SlotThread):
    """See the module docstring. `engine.analyze(frame_bgr, timestamp_s=, capture_ms=)` -> analysis."""

    def __init__(self, engine: Any, grabber: FrameGrabber) -> None:
        super().__init__(name="analyzer")
        self._engine, self._grabber = engine, grabber

    def take(self, timeout_s: float) -> tuple[Any, CapturedFrame] | None:
        """(analysis, the captured frame it came from), or None after `timeout_s`; re-raises failures."""
        return super().take(timeout_s)

    def _produce(self) -> None:
        while self._wait_until_slot_empty():
            captured = self._grabber.take(timeout_s=0.05)
            if captured is None:
                continue
            try:
                analysis = self._engine.analyze(captured.frame_bgr, timestamp_s=captured.timestamp_s,
                                                capture_ms=captured.read_ms)
            except Exception as exc:  # noqa: BLE001 — told apart from source failures by its type
                raise ProcessingError(f"{type(exc).__name__}: {exc}") from exc
            self._publish((analysis, captured))
