"""ProcessingWorker: the QThread that loads the model, reads the source, runs the pipeline, and hands
the GUI a ready-to-blit QImage of the newest frame.

Stages: FrameGrabber (capture thread) -> FrameAnalyzer (segment + refine thread) -> this thread
(render, record, scale + convert for display). The model loads on an EngineLoader thread while the
source already shows.

Threads (Qt's worker pattern): every request from the GUI (mode, controls, view size, source,
recording, snapshot, stop) is stored under a lock and picked up at the next frame; frames go back
through a one-frame slot — `frame_ready` is emitted only when the slot was empty, and `take_frame()`
always returns the newest, so a slow GUI skips frames instead of queueing them (a live source);
an unpaced source (every frame processed) instead reads on only as frames are taken for display,
so the shown frame is at most one frame older than the newest read. Scaling to the view
and RGB -> 32-bit conversion happen here, straight into a QImage the GUI then owns. Every failure
becomes a signal; stop is `stop()` = flag + wait, never terminate().
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
from PySide6.QtCore import QSize, QThread, Signal
from PySide6.QtGui import QImage

from silhouette_cam.fps import FpsMeter

from .analyzer import FrameAnalyzer, ProcessingError
from .capture import EndOfStream, FrameGrabber
from .engine import Engine, EngineLoader, EngineOptions, ModelLoadError, PipelineEngine
from .recording import RecordingControl
from .source_picker import DEMO, default_source_opener, describe_source, is_camera_spec
from .video_view import to_display_image

RECONNECT_INTERVAL_S = 1.0
STARTING = "starting"  # FrameInfo.mode of unprocessed frames shown while the model loads


@dataclass(frozen=True)
class FrameInfo:
    """What the GUI needs to know about the frame in the slot."""

    index: int  # processed frames since the worker started (0-based)
    capture_index: int  # index of this frame among those read from the current source
    timestamp_s: float  # source time
    frame_size: tuple[int, int]  # (width, height) of the source frame
    fps: float  # pipeline FPS, sliding window
    stage_ms: dict[str, float] = field(default_factory=dict)  # capture/segment/refine/render medians
    variant: str = ""
    mode: str = ""  # the rendering this frame was made with
    age: int = 0  # newest captured index - capture_index when the GUI took the frame


class ProcessingWorker(QThread):
    frame_ready = Signal()  # a new frame is in the slot: call take_frame()
    status = Signal(str)  # progress / information for the status bar
    error = Signal(str)  # one-line problem description; the worker keeps going where it can
    engine_ready = Signal(str)  # device label, e.g. "CPU fp32 — no GPU found"
    source_opened = Signal(str, float, int, int)  # name, fps, width, height
    recording_started = Signal(str, str)  # path, codec
    recording_stopped = Signal(str, int)  # path, frames written
    snapshot_saved = Signal(str)  # path
    frame_limit_reached = Signal(int)  # frames processed (with max_frames)

    def __init__(
        self,
        *,
        source: str,
        options: EngineOptions,
        paced: bool = True,
        max_frames: int | None = None,
        record_path: str | None = None,
        engine_factory: Callable[[EngineOptions], Engine] = PipelineEngine,
        source_opener: Callable[[str], Any] = default_source_opener,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._options, self._paced, self._max_frames = options, paced, max_frames
        self._engine_factory, self._open_source = engine_factory, source_opener
        self._lock = threading.Lock()
        self._wake = threading.Event()  # cuts reconnect waits short on stop / source change
        self._stopping = False
        self._requested_source: str | None = source
        self._changes: dict[str, Any] = {}
        self._target, self._ratio = QSize(1280, 720), 1.0
        self._slot: tuple[QImage, FrameInfo, FrameGrabber] | None = None
        self._grabber: FrameGrabber | None = None
        self._engine: Engine | None = None
        self.displayed_fps = FpsMeter(window=60)
        self.recording = RecordingControl(
            on_started=self.recording_started.emit, on_stopped=self.recording_stopped.emit,
            on_snapshot=self.snapshot_saved.emit, on_error=self.error.emit,
        )
        if record_path:
            self.recording.request_start(record_path)

    # -- GUI thread -----------------------------------------------------------------------------
    def update_controls(self, changes: dict[str, Any]) -> None:
        """Mode / control changes ({"mode": "cutout"}, {"overlay_opacity": 0.3}), from the next frame."""
        with self._lock:
            self._changes.update(changes)

    def set_target_size(self, size: QSize, ratio: float = 1.0) -> None:
        with self._lock:
            self._target, self._ratio = QSize(size), float(ratio)

    def request_source(self, spec: str) -> None:
        with self._lock:
            self._requested_source = str(spec)
        self._wake.set()

    def take_frame(self) -> tuple[QImage, FrameInfo] | None:
        """The newest frame (removing it from the slot), or None if it was already taken. The caller
        shows it now: an unpaced source reads on only once frames are shown (capture.py)."""
        with self._lock:
            item, self._slot = self._slot, None
        if item is None:
            return None
        image, info, grabber = item
        return image, dataclasses.replace(info, age=max(0, grabber.frame_shown(info.capture_index)))

    def stop(self, timeout_ms: int = 3000) -> bool:
        """Ask the thread to finish (it closes any recording first) and wait; True if it finished."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        return self.wait(timeout_ms)

    # -- worker thread --------------------------------------------------------------------------
    def run(self) -> None:
        # The model loads beside us while the source opens; live sources show unprocessed frames
        # under the "starting" message meanwhile, so the window shows the camera at once.
        loader = EngineLoader(self._engine_factory, self._options).start()
        try:
            self.status.emit("Starting — loading the model…")
            self._serve(loader)
        except ModelLoadError as exc:
            self.error.emit(f"cannot load the model: {exc.__cause__}")
        except Exception as exc:  # noqa: BLE001 — last resort: say so instead of dying silently
            self.error.emit(f"processing stopped: {type(exc).__name__}: {exc}")
        finally:
            self.recording.finish()

    def _serve(self, loader: EngineLoader) -> None:
        spec, reconnecting, processed = DEMO, False, 0
        while not self._is_stopping():
            with self._lock:
                requested, self._requested_source = self._requested_source, None
            if requested is not None:
                spec, reconnecting = requested, False
            source, spec = self._open(spec, reconnecting)
            if source is None:
                reconnecting = True
                self._pause(RECONNECT_INTERVAL_S)
                continue
            self.source_opened.emit(source.name, float(source.fps), *source.size)
            grabber = self._grabber = FrameGrabber(source, paced=self._paced).start()
            try:
                processed = self._process_stream(loader, grabber, source.fps, processed)
                reconnecting = False
            except ModelLoadError:
                raise
            except ProcessingError as exc:
                self.error.emit(f"processing failed: {exc} — retrying…")
                reconnecting = True
            except Exception as exc:  # noqa: BLE001 — a failing source must not end the app
                verb = "ended" if isinstance(exc, EndOfStream) else "failed"
                self.error.emit(f"{source.name} {verb}: {exc} — reconnecting…")
                reconnecting = True
            finally:
                self.recording.finish()  # a new or reconnected source may differ in size
                grabber.stop()
                self._grabber = None
                source.close()
            if self._max_frames is not None and processed >= self._max_frames:
                return
            if reconnecting:
                self._pause(RECONNECT_INTERVAL_S)

    def _open(self, spec: str, reconnecting: bool) -> tuple[Any, str]:
        """-> (source or None, the spec now followed). A source that fails when first chosen falls
        back to the demo clip (said so); one that fails while reconnecting is retried later."""
        try:
            return self._open_source(spec), spec
        except Exception as exc:  # noqa: BLE001 — reported; the window stays up
            if reconnecting or spec == DEMO:
                self.error.emit(f"{describe_source(spec)} unavailable ({exc}) — retrying every second…")
                return None, spec
            kind = "camera" if is_camera_spec(spec) else "source"
            self.error.emit(f"No {kind} {spec!r}: {exc} — showing the demo clip instead")
        try:
            return self._open_source(DEMO), DEMO
        except Exception as exc:  # noqa: BLE001
            self.error.emit(f"cannot open the demo clip either: {exc}")
            return None, DEMO

    def _process_stream(self, loader: EngineLoader, grabber: FrameGrabber, fps: float, processed: int) -> int:
        """Process frames until stop, a source change or the frame limit; returns frames processed so far."""
        analyzer: FrameAnalyzer | None = None
        try:
            while True:
                with self._lock:
                    if self._stopping or self._requested_source is not None:
                        return processed
                    target, ratio = self._target, self._ratio
                    changes: dict[str, Any] = {}
                    if self._engine is not None:  # kept until the model is loaded
                        changes, self._changes = self._changes, {}
                engine = self._engine
                if engine is None:
                    if not loader.done:
                        self._preview(grabber, loader, target, ratio)
                        continue
                    engine = self._engine = loader.result()  # raises ModelLoadError
                    self.engine_ready.emit(engine.device_label)
                    continue  # pick up the changes made while it loaded
                if changes:
                    try:
                        engine.apply(changes)  # the pipeline validates; applies from the next analysis
                    except (ValueError, TypeError, OSError) as exc:
                        self.error.emit(str(exc))
                if analyzer is None:
                    analyzer = FrameAnalyzer(engine, grabber).start()
                item = analyzer.take(timeout_s=0.1)
                if item is None:
                    continue
                analysis, captured = item
                try:
                    out, mode = engine.render(analysis)
                except Exception as exc:  # noqa: BLE001 — told apart from source failures by its type
                    raise ProcessingError(f"{type(exc).__name__}: {exc}") from exc
                self.recording.on_frame(out.image, out.rgba, captured.timestamp_s, fps)
                fps_now, stage_ms = engine.stats()
                height, width = captured.frame_bgr.shape[:2]
                info = FrameInfo(processed, captured.index, captured.timestamp_s, (width, height),
                                 fps_now, stage_ms, engine.variant, mode)
                self._publish(to_display_image(out.image, target, ratio), info, grabber)
                processed += 1
                if self._max_frames is not None and processed >= self._max_frames:
                    self.recording.finish()  # the file is complete before anyone is told to exit
                    self.frame_limit_reached.emit(processed)
                    return processed
        finally:
            if analyzer is not None:
                analyzer.stop()

    def _preview(self, grabber: FrameGrabber, loader: EngineLoader, target: QSize, ratio: float) -> None:
        """While the model loads: live sources show raw frames; files wait (every frame gets processed)."""
        if not self._paced:
            loader.wait(0.1)
            return
        captured = grabber.take(timeout_s=0.1)
        if captured is not None:
            height, width = captured.frame_bgr.shape[:2]
            rgb = cv2.cvtColor(captured.frame_bgr, cv2.COLOR_BGR2RGB)
            info = FrameInfo(-1, captured.index, captured.timestamp_s, (width, height), 0.0, mode=STARTING)
            self._publish(to_display_image(rgb, target, ratio), info, grabber)

    def _publish(self, image: QImage, info: FrameInfo, grabber: FrameGrabber) -> None:
        with self._lock:
            was_empty = self._slot is None
            self._slot = (image, info, grabber)  # the grabber the frame came from hears it was shown
        if was_empty:
            self.frame_ready.emit()

    def _is_stopping(self) -> bool:
        with self._lock:
            return self._stopping

    def _pause(self, seconds: float) -> None:
        """Wait up to `seconds`, returning early on stop or a source change."""
        self._wake.clear()
        with self._lock:  # a request made just before clear() must not be slept through
            pending = self._stopping or self._requested_source is not None
        if not pending:
            self._wake.wait(seconds)
