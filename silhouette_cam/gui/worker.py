"""ProcessingWorker: the window's one worker thread. It opens the source, iterates a PipelineRunner
(the same harness as the CLI's) and hands the GUI a ready-to-blit QImage of the newest frame.

Qt's worker pattern (the Mandelbrot example): every request from the GUI (mode, controls, view size,
mirror, source, virtual camera, stop) is stored under a lock and picked up at the next frame, or
within IDLE_S when none comes. Frames go back through a one-frame slot: `frame_ready` is emitted only
when the slot was empty and `take_frame()` always returns the newest, so a slow GUI skips frames
instead of queueing them. A paced source (files at their own rate, cameras) runs live: the runner
drops what processing cannot keep up with. An unpaced one (every frame processed: benchmarks,
--quit-after-frames) runs with display_ahead=1: frame k is read only once frame k-2 was shown, so the
shown frame is at most one frame older than the newest read. Scaling to the view, the preview's
mirror and RGB -> 32-bit conversion happen here, into a QImage the GUI then owns.

Recording, snapshots and the virtual camera are sinks on one SinkWriter thread that outlives source
switches. The model loads on an EngineLoader thread while the source already shows (raw frames,
mode STARTING). Every failure becomes a signal; stop is `stop()` = flag + wait, never terminate().
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
from silhouette_cam.frame_sinks import SinkWriter
from silhouette_cam.live.engine import Engine, EngineLoader, EngineOptions, ModelLoadError, PipelineEngine
from silhouette_cam.live.recording import RecordingControl
from silhouette_cam.live.virtual_camera import VirtualCameraControl, VirtualCameraOptions, open_virtual_camera
from silhouette_cam.pacing import SourcePacer
from silhouette_cam.pipeline_runner import PipelineRunner

from .source_picker import DEMO, default_source_opener, describe_source, is_camera_spec
from .video_view import to_display_image

RECONNECT_INTERVAL_S = 1.0
IDLE_S = 0.1  # the longest a GUI request waits when no frame comes
STARTING = "starting"  # FrameInfo.mode of unprocessed frames shown while the model loads


class EndOfStream(Exception):
    """The source returned None (a file that does not loop, a camera that stopped)."""


class ProcessingError(Exception):
    """The pipeline raised on a frame (the cause is chained)."""


@dataclass(frozen=True)
class FrameInfo:
    """What the GUI needs to know about the frame in the slot."""

    index: int  # processed frames since the worker started (0-based; -1 while the model loads)
    capture_index: int  # index of this frame among those the current runner read
    timestamp_s: float  # source time
    frame_size: tuple[int, int]  # (width, height) of the source frame
    fps: float  # pipeline FPS, sliding window
    stage_ms: dict[str, float] = field(default_factory=dict)  # capture/segment/refine/render(/write) medians
    variant: str = ""
    mode: str = ""  # the rendering this frame was made with
    age: int = 0  # newest captured index - capture_index when the GUI took the frame
    virtual_camera: str = ""  # the device frames go to ("" when off)
    virtual_camera_fps: float = 0.0  # frames sent per second


class ProcessingWorker(QThread):
    frame_ready = Signal()  # a new frame is in the slot: call take_frame()
    status = Signal(str)  # progress / information for the status bar
    error = Signal(str)  # one-line problem description; the worker keeps going where it can
    demo_fallback = Signal(str)  # a chosen source failed and the demo clip stands in: the line says why
    engine_ready = Signal(str)  # device label, e.g. "CPU fp32 — no GPU found"
    source_opened = Signal(str, float, int, int)  # name, fps, width, height
    recording_started = Signal(str, str)  # path, codec
    recording_stopped = Signal(str, int, str)  # path, frames written, problem ("" when saved fine)
    snapshot_saved = Signal(str)  # path
    frame_limit_reached = Signal(int)  # frames processed (with max_frames)
    virtual_camera_started = Signal(str)  # device
    virtual_camera_stopped = Signal(str)  # why ("" when turned off)
    virtual_camera_unavailable = Signal(str)  # no device: what to install
    background_replaced = Signal(str, str)  # the background now used, why (its file could not be read)

    def __init__(
        self,
        *,
        source: str,
        options: EngineOptions,
        paced: bool = True,
        max_frames: int | None = None,
        record_path: str | None = None,
        demo_fallback: bool = True,
        engine_factory: Callable[[EngineOptions], Engine] = PipelineEngine,
        source_opener: Callable[[str], Any] = default_source_opener,
        virtual_camera_factory: Callable[..., Any] = open_virtual_camera,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._options, self._paced, self._max_frames = options, paced, max_frames
        self._engine_factory, self._open_source = engine_factory, source_opener
        self._demo_fallback = demo_fallback  # False: a source that cannot be opened is only reported
        self._lock = threading.Lock()
        self._wake = threading.Event()  # cuts waits short on stop / source change
        self._stopping = False
        self._requested_source: str | None = source
        self._changes: dict[str, Any] = {}
        self._target, self._ratio, self._mirror = QSize(1280, 720), 1.0, False
        self._slot: tuple[QImage, FrameInfo, PipelineRunner | None] | None = None
        self._engine: Engine | None = None
        self._writer: SinkWriter | None = None
        self._source: Any = None
        self._spec = DEMO
        self.displayed_fps = FpsMeter(window=60)
        # Every error reported, in order (appended on the thread that hit it; the demo clip standing
        # in has its own signal and is not one): automation reads the ones whose signal came too late
        # to be delivered, e.g. a recording that failed as it closed.
        self.errors: list[str] = []
        self.recording = RecordingControl(
            on_started=self.recording_started.emit, on_stopped=self.recording_stopped.emit,
            on_snapshot=self.snapshot_saved.emit, on_error=self._report, on_notice=self.status.emit,
        )
        if record_path:
            self.recording.request_start(record_path)
        self.virtual_camera = VirtualCameraControl(
            open_camera=virtual_camera_factory, on_started=self.virtual_camera_started.emit,
            on_stopped=self.virtual_camera_stopped.emit, on_unavailable=self.virtual_camera_unavailable.emit,
        )

    # -- GUI thread -----------------------------------------------------------------------------
    def update_controls(self, changes: dict[str, Any]) -> None:
        """Mode / control changes ({"mode": "cutout"}, {"overlay_opacity": 0.3}), from the next frame."""
        with self._lock:
            self._changes.update(changes)

    def set_target_size(self, size: QSize, ratio: float = 1.0) -> None:
        with self._lock:
            self._target, self._ratio = QSize(size), float(ratio)

    def set_mirror(self, on: bool) -> None:
        """Mirror the preview (a self-view); recordings, snapshots and the virtual camera never are."""
        with self._lock:
            self._mirror = bool(on)

    def request_source(self, spec: str) -> None:
        with self._lock:
            self._requested_source = str(spec)
        self._wake.set()

    def request_virtual_camera(self, options: VirtualCameraOptions | None) -> None:
        """Send to the virtual camera with `options` (again: reopened with them), or stop (None)."""
        self.virtual_camera.request(options)

    def take_frame(self) -> tuple[QImage, FrameInfo] | None:
        """The newest frame (removing it from the slot), or None if it was already taken. The caller
        shows it now: an unpaced source reads on only once frames are shown."""
        with self._lock:
            item, self._slot = self._slot, None
        if item is None:
            return None
        image, info, runner = item
        age = runner.frame_shown(info.capture_index) if runner is not None else 0
        return image, dataclasses.replace(info, age=max(0, age))

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
            self._report(f"cannot load the model: {exc.__cause__}")
        except Exception as exc:  # noqa: BLE001 — last resort: say so instead of dying silently
            self._report(f"processing stopped: {type(exc).__name__}: {exc}")
        finally:
            if self._writer is not None:
                self._writer.close()  # finishes the recording, closes the virtual camera
            else:
                self.recording.finish()

    def _serve(self, loader: EngineLoader) -> None:
        reconnecting, processed = False, 0
        while not self._is_stopping():
            with self._lock:
                requested, self._requested_source = self._requested_source, None
            if requested is not None:
                self._spec, reconnecting = requested, False
            source, self._spec = self._open(self._spec, reconnecting)
            if source is None:
                reconnecting = True
                self._pause(RECONNECT_INTERVAL_S)
                continue
            self._opened(source)
            try:
                if self._engine is None and not self._preview_until_loaded(source, loader):
                    continue  # stopping or another source asked for; the finally closes this one
                processed = self._run_stream(source, processed)
                reconnecting = False
            except ModelLoadError:
                raise
            except ProcessingError as exc:
                if not self._replace_unusable_background():  # else it would fail again on every frame
                    self._report(f"processing failed: {exc} — retrying…")
                    reconnecting = True
            except Exception as exc:  # noqa: BLE001 — a failing source must not end the app
                verb = "ended" if isinstance(exc, EndOfStream) else "failed"
                self._report(f"{self._source.name} {verb}: {exc} — reconnecting…")  # the source last switched to
                reconnecting = True
            finally:
                self._finish_recording()  # a new or reconnected source may differ in size
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
                self._report(f"{describe_source(spec)} unavailable ({exc}) — retrying every second…")
                return None, spec
            kind = "camera" if is_camera_spec(spec) else "source"
            if not self._demo_fallback:  # automation named this source: the demo clip is no stand-in
                self._report(f"No {kind} {spec!r}: {exc}")
                return None, spec
            self._report(f"No {kind} {spec!r}: {exc} — showing the demo clip instead", demo_fallback=True)
        try:
            return self._open_source(DEMO), DEMO
        except Exception as exc:  # noqa: BLE001
            self._report(f"cannot open the demo clip either: {exc}")
            return None, DEMO

    def _opened(self, source: Any) -> None:
        self._source = source
        self.recording.fps = float(source.fps)
        self.recording.time_base = getattr(source, "time_base", None)  # a file's own: timestamps stay exact
        self.source_opened.emit(source.name, float(source.fps), *source.size)

    def _preview_until_loaded(self, source: Any, loader: EngineLoader) -> bool:
        """Until the model is loaded: a paced source shows raw frames at its rate, an unpaced one
        waits (every frame gets processed). False when stopping or another source was asked for."""
        pacer = SourcePacer(sleep=self._wake.wait)
        self._wake.clear()  # a request made before now was seen by _interrupted() below
        while not loader.done:
            if self._interrupted():
                return False
            if not self._paced:
                loader.wait(IDLE_S)
                continue
            item = source.read()
            if item is None:
                raise EndOfStream(f"{source.name}: no more frames")
            frame_bgr, timestamp_s = item
            pacer.wait(timestamp_s)
            height, width = frame_bgr.shape[:2]
            target, ratio, mirror = self._view()
            image = to_display_image(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), target, ratio, mirror=mirror)
            self._publish(image, FrameInfo(-1, -1, timestamp_s, (width, height), 0.0, mode=STARTING), None)
        engine = self._engine = loader.result()  # raises ModelLoadError
        self.engine_ready.emit(engine.device_label)
        self._writer = SinkWriter(timer=engine.pipeline.timer, drop_when_full=self._paced,
                                  on_error=self._on_sink_error)
        self._writer.add(self.recording)
        return not self._interrupted()

    def _run_stream(self, source: Any, processed: int) -> int:
        """Process frames until stop, the end of the source or the frame limit; another source asked
        for is switched to in the same runner. -> frames processed so far."""
        engine = self._engine
        runner = PipelineRunner(engine.pipeline, source, live=self._paced, paced=self._paced,
                                display_ahead=None if self._paced else 1, writer=self._writer)
        try:
            for out in runner.frames(idle_s=IDLE_S):
                if self._handle_requests(engine, runner):
                    return processed
                if out is None:
                    continue
                fps_now, stage_ms = engine.stats()
                camera = self.virtual_camera.camera
                info = FrameInfo(processed, runner.last_read_index, out.timestamp_s,
                                 (out.image.shape[1], out.image.shape[0]), fps_now, stage_ms, engine.variant,
                                 runner.last_settings.render.mode,
                                 virtual_camera=camera.device if camera is not None else "",
                                 virtual_camera_fps=camera.fps_sent if camera is not None else 0.0)
                target, ratio, mirror = self._view()
                self._publish(to_display_image(out.image, target, ratio, mirror=mirror), info, runner)
                processed += 1
                if self._max_frames is not None and processed >= self._max_frames:
                    self._writer.call(self.recording.finish)  # the file is complete before anyone is told
                    self.frame_limit_reached.emit(processed)
                    return processed
        except Exception as exc:
            if runner.failed_stage in ("analyze", "render"):
                raise ProcessingError(f"{type(exc).__name__}: {exc}") from exc
            raise
        finally:
            runner.stop()
            if runner.source is not source:
                runner.source.close()  # switched to here; the one we were given is closed by the caller
        raise EndOfStream(f"{runner.source.name}: no more frames")

    def _handle_requests(self, engine: Engine, runner: PipelineRunner) -> bool:
        """Apply what the GUI asked for since the last frame; True when the worker should stop."""
        with self._lock:
            if self._stopping:
                return True
            changes, self._changes = self._changes, {}
            spec, self._requested_source = self._requested_source, None
        if changes:
            try:
                engine.apply(changes)  # the pipeline validates; applies from the next analysis
            except (ValueError, TypeError, OSError) as exc:
                self._report(str(exc))
        if spec is not None:
            source, self._spec = self._open(spec, reconnecting=False)
            if source is not None:
                self._finish_recording()  # the new source may differ in size
                runner.switch_source(source)
                self._opened(source)
        self.virtual_camera.apply(self._writer, self._source)
        return False

    def _on_sink_error(self, sink: Any, exc: BaseException) -> None:
        # The writer thread: the sink is closed and detached already; the preview goes on.
        if not self.virtual_camera.sink_failed(sink, exc):
            self._report(str(exc))

    def _replace_unusable_background(self) -> bool:
        """After a failed frame: when the background file is what failed (gone or damaged since it was
        chosen), switch to the fallback background and say so once. True when it did."""
        settings = getattr(getattr(self._engine, "pipeline", None), "settings", None)
        if settings is None:
            return False
        from silhouette_cam.live.background_check import usable_background

        replaced, notice = usable_background(settings)
        if not notice:
            return False
        self._engine.apply({"background": replaced.render.background})
        self.background_replaced.emit(replaced.render.background, notice)
        return True

    # -- helpers ----------------------------------------------------------------------------------
    def _finish_recording(self) -> None:
        if self._writer is not None:
            self._writer.call(self.recording.finish, timeout_s=None)  # after the frames queued for it
        else:
            self.recording.finish()

    def _view(self) -> tuple[QSize, float, bool]:
        with self._lock:
            return self._target, self._ratio, self._mirror

    def _publish(self, image: QImage, info: FrameInfo, runner: PipelineRunner | None) -> None:
        with self._lock:
            was_empty = self._slot is None
            self._slot = (image, info, runner)  # the runner the frame came from hears it was shown
        if was_empty:
            self.frame_ready.emit()

    def _report(self, text: str, *, demo_fallback: bool = False) -> None:
        """An error for the window (any thread): kept in `errors` and signalled; with `demo_fallback`
        (the demo clip now stands in for the source that failed) only signalled, on its own signal."""
        if demo_fallback:
            self.demo_fallback.emit(text)
            return
        self.errors.append(text)
        self.error.emit(text)

    def _is_stopping(self) -> bool:
        with self._lock:
            return self._stopping

    def _interrupted(self) -> bool:
        with self._lock:
            return self._stopping or self._requested_source is not None

    def _pause(self, seconds: float) -> None:
        """Wait up to `seconds`, returning early on stop or a source change."""
        self._wake.clear()
        if not self._interrupted():  # a request made just before clear() must not be slept through
            self._wake.wait(seconds)
