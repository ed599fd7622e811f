"""The main window: live view + HUD, mode toolbar, control dock, status bar; wires them to the worker.

Every slot here is trivial — take the newest QImage, hand it to the view, update labels — so the GUI
thread stays free for painting and input while the worker runs the model at full load.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QColor, QImage
from PySide6.QtWidgets import QColorDialog, QFileDialog, QLabel, QMainWindow

from silhouette_cam.errors import describe, warn
from silhouette_cam.live.background_check import usable_background
from silhouette_cam.live.engine import EngineOptions
from silhouette_cam.live.model_switch import ModelSwitch
from silhouette_cam.live.virtual_camera import VirtualCameraOptions, unavailable_reason
from silhouette_cam.pipeline import PipelineSettings

from .actions import WindowActions
from .control_values import ControlValues, restore_model_choice
from .controls import ControlsPanel, ModeActions, controls_dock
from .hud import HudOverlay, HudStats
from .launch import LaunchOptions
from .model_combo import ModelSwitchRelay
from .recording_ui import RecordingIndicator, timestamped_name
from .settings_store import SettingsStore
from .source_picker import VIDEO_FILTER, SourcePicker
from .status_label import StatusLabel
from .video_view import VideoView
from .worker import STARTING, ProcessingWorker

STOP_TIMEOUT_MS = 10_000  # only reached if a model load is still running at close
MODEL_NOTICE_MS = 15_000  # how long a model problem stays in the status bar


class MainWindow(QMainWindow):
    def __init__(
        self, store: SettingsStore, launch: LaunchOptions | None = None, **worker_overrides: Any
    ) -> None:
        super().__init__()
        self.setWindowTitle("silhouette_cam")
        launch = launch or LaunchOptions()
        self.store, self.launch = store, launch
        self.exit_code = 0
        self.last_error = ""
        self.failure = ""  # automation (--quit-after-frames): why the run failed ("" when it did not)
        self._closed = False
        self.frames_shown = 0
        self.slot_ms: deque[float] = deque(maxlen=600)  # GUI time per frame outside paintEvent
        self.frame_age: deque[int] = deque(maxlen=600)  # newest captured index - shown index
        self._info: Any = None
        self.device_label = ""
        self._source_name = ""
        self._fallback_notice = False
        self.virtual_camera_options = VirtualCameraOptions.from_dict(store.virtual_camera)
        self.virtual_camera_device = ""  # "" while nothing is sent
        mode = launch.mode or store.mode
        # Stored settings (a value that no longer validates keeps its default), then the command line's.
        settings, _ = PipelineSettings().with_stored(store.settings)
        settings = settings.replace(**launch.settings, mode=mode)
        settings, background_notice = usable_background(settings)  # a remembered file that is gone: blur
        values, model_notice = ControlValues.from_dict(store.controls), ""
        if launch.weights or launch.model:  # --weights wins over --model, as in the engine
            values = values.with_changes(model=str(Path(launch.weights).resolve()) if launch.weights
                                         else launch.model)
        else:
            values, model_notice = restore_model_choice(values)  # a saved file that is gone: auto
        self.mode = mode

        self.view = VideoView()
        self.hud = HudOverlay(self.view)
        self.setCentralWidget(self.view)
        self.panel = ControlsPanel(settings, values)
        self.panel.set_mode(mode)
        self.mode_actions = ModeActions(self)
        self.mode_actions.set_mode(mode)
        self.sources = SourcePicker()
        self.recording_indicator = RecordingIndicator()
        self.commands = WindowActions(self, self.mode_actions, self.sources)
        self.dock = controls_dock(self.panel, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.commands.view_menu.addAction(self.dock.toggleViewAction())
        self.status_label = StatusLabel()  # elides a long message: never under the device label
        self.device_status = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.recording_indicator)
        self.statusBar().addPermanentWidget(self.device_status)
        if model_notice:
            self._show_model_problem(model_notice)
        if background_notice:
            warn(background_notice)  # automation's stderr too; the run goes on
            self._show_model_problem(background_notice)
        self.model_relay = ModelSwitchRelay(self)

        source = launch.source or store.source or "0"
        self.sources.set_current(source)
        paced = launch.paced if launch.paced is not None else launch.quit_after_frames is None
        options = EngineOptions(model=values.model, device=launch.device, weights=launch.weights,
                                settings=self.panel.settings, on_model=self.model_relay.report)
        self.worker = ProcessingWorker(source=source, options=options, paced=paced,
                                       max_frames=launch.quit_after_frames, record_path=launch.record_path,
                                       # automation that names its source must not record the demo clip
                                       demo_fallback=launch.source is None or launch.quit_after_frames is None,
                                       **worker_overrides)
        self._connect()
        self.hud.setVisible(store.hud_visible)
        self.commands.hud.setChecked(store.hud_visible)
        if store.geometry is not None:
            self.restoreGeometry(store.geometry)
        else:
            self.resize(1280, 800)
        if store.window_state is not None:
            self.restoreState(store.window_state)
        self.view.show_message("Starting — loading the model…")

    def _connect(self) -> None:
        w = self.worker
        w.frame_ready.connect(self._on_frame_ready)
        w.status.connect(self._on_status)
        w.error.connect(self._on_error)
        w.demo_fallback.connect(self._on_demo_fallback)
        w.engine_ready.connect(self._on_engine_ready)
        w.source_opened.connect(self._on_source_opened)
        w.recording_started.connect(self._on_recording_started)
        w.recording_stopped.connect(self._on_recording_stopped)
        w.snapshot_saved.connect(lambda path: self._on_status(f"Snapshot saved: {path}"))
        w.frame_limit_reached.connect(self._on_frame_limit)
        w.virtual_camera_started.connect(self._on_virtual_camera_started)
        w.virtual_camera_stopped.connect(self._on_virtual_camera_stopped)
        w.virtual_camera_unavailable.connect(self._on_virtual_camera_unavailable)
        w.background_replaced.connect(self._on_background_replaced)
        w.finished.connect(self._on_worker_finished)
        self.model_relay.switched.connect(self._on_model_switched)
        self.view.target_size_changed.connect(
            lambda size: w.set_target_size(size, self.view.devicePixelRatioF())
        )
        self.mode_actions.mode_changed.connect(self.set_mode)
        self.panel.values_changed.connect(w.update_controls)
        self.panel.problem.connect(self._show_model_problem)
        self.sources.source_chosen.connect(self.set_source)
        self.commands.record.toggled.connect(self._on_record_toggled)
        self.commands.snapshot.triggered.connect(self.take_snapshot)
        self.commands.virtual_camera.toggled.connect(self.set_virtual_camera)
        self.commands.mirror.toggled.connect(w.set_mirror)
        for size, action in self.commands.camera_sizes.items():
            action.triggered.connect(lambda _=False, size=size: self.set_virtual_camera_options(size=size))
        self.commands.matte_color.triggered.connect(self._choose_matte_color)
        self.commands.camera_sizes[self.virtual_camera_options.size].setChecked(True)  # remembered
        self.commands.hud.toggled.connect(self.hud.setVisible)
        self.commands.fullscreen.toggled.connect(self.set_fullscreen)
        self.commands.leave_fullscreen.triggered.connect(lambda: self.commands.fullscreen.setChecked(False))
        self.commands.open_video.triggered.connect(self._open_video)
        self.commands.output_folder.triggered.connect(self._choose_output_folder)
        self.commands.quit.triggered.connect(self.close)

    def start(self) -> None:
        """Show the window and start the worker (the model loads there; the window paints at once)."""
        self.worker.set_target_size(self.view.target_size(), self.view.devicePixelRatioF())
        if self.launch.fullscreen:
            self.commands.fullscreen.setChecked(True)
        else:
            self.show()
        self.view.setFocus()  # not a combo box: 1-4 / R / S / V / H must reach the shortcuts
        reason = unavailable_reason()
        if reason:
            self._on_virtual_camera_unavailable(reason)
        self.sources.scan_cameras()
        self.worker.start()

    # -- user actions (also the test API) ------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode_actions.set_mode(mode)  # validates
        self.mode = mode
        self.panel.set_mode(mode)
        self.worker.update_controls({"mode": mode})

    def set_source(self, spec: str) -> None:
        self.sources.set_current(spec)
        self.store.source = spec
        self._on_status(f"Opening {spec}…")
        self.worker.request_source(spec)

    def start_recording(self, path: str | Path | None = None) -> Path:
        """Record to `path` (default: the output folder, timestamped name); no dialog."""
        target = Path(path) if path else self.store.output_folder / timestamped_name("mp4")
        self.worker.recording.request_start(target)
        self.recording_indicator.set_pending(target)
        self.commands.record.blockSignals(True)
        self.commands.record.setChecked(True)
        self.commands.record.blockSignals(False)
        return target

    def stop_recording(self) -> None:
        self.worker.recording.request_stop()

    def take_snapshot(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else self.store.output_folder / timestamped_name("png")
        self.worker.recording.request_snapshot(target)
        return target

    def set_virtual_camera(self, on: bool) -> None:
        """Send what is rendered to the virtual camera (on) or stop; the worker opens the device."""
        self._set_checked(self.commands.virtual_camera, on)
        self.worker.request_virtual_camera(self.virtual_camera_options if on else None)

    def set_virtual_camera_options(self, **changes: Any) -> None:
        """size=(w, h) or None (the source's), matte_color=(r, g, b); a camera on is reopened with them."""
        self.virtual_camera_options = dataclasses.replace(self.virtual_camera_options, **changes)
        size = self.virtual_camera_options.size
        if size in self.commands.camera_sizes:
            self.commands.camera_sizes[size].setChecked(True)
        if self.commands.virtual_camera.isChecked():
            self.worker.request_virtual_camera(self.virtual_camera_options)

    def set_fullscreen(self, on: bool) -> None:
        for widget in (self.commands.toolbar, self.dock, self.statusBar(), self.menuBar()):
            widget.setVisible(not on)
        self.showFullScreen() if on else self.showNormal()

    # -- worker signals ------------------------------------------------------------------------
    def _on_frame_ready(self) -> None:
        start = time.perf_counter()
        item = self.worker.take_frame()
        if item is None:
            return
        image, info = item
        if self._info is None or self._info.mode == STARTING:
            if info.mode != STARTING:
                self.view.clear_message()  # the model is ready: leave the "starting" state
        self.frame_age.append(info.age)
        self.view.show_frame(image)
        self.frames_shown += 1
        self._info = info
        self.worker.displayed_fps.tick()
        if self.hud.isVisible():
            self.hud.set_stats(self.hud_stats())
        self.slot_ms.append((time.perf_counter() - start) * 1000.0)

    def hud_stats(self) -> HudStats:
        """The HUD's numbers for the newest frame shown."""
        info = self._info
        if info is None:
            return HudStats(device_label=self.device_label)
        return HudStats(
            fps=info.fps, displayed_fps=self.worker.displayed_fps.fps, stage_ms=info.stage_ms,
            device_label=self.device_label, variant=info.variant, frame_size=info.frame_size,
            source_name=self._source_name, virtual_camera=info.virtual_camera,
            virtual_camera_fps=info.virtual_camera_fps,
        )

    def _on_status(self, text: str) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.set_message(text)

    def _on_error(self, text: str) -> None:
        if self.launch.quit_after_frames is not None:  # automation: an error ends the run (exit 2)
            self._fail(text)
            return
        self._show_error(text)

    def _on_demo_fallback(self, text: str) -> None:
        """The demo clip stands in for a source that failed. Never an automation failure: the worker
        falls back only when no --source was named or nobody automates the window (the quick start
        with no camera depends on it)."""
        self._show_error(text)
        self._fallback_notice = True  # the status bar keeps saying why once the demo clip plays

    def _show_error(self, text: str) -> None:
        self.last_error = text
        self._fallback_notice = False
        self.status_label.setStyleSheet("color: #e04040; font-weight: bold;")
        self.status_label.set_message(text)
        self.view.show_message(text, error=True)

    def _on_engine_ready(self, device_label: str) -> None:
        self.device_label = device_label
        self.device_status.setText(device_label)

    def _on_model_switched(self, switch: ModelSwitch) -> None:
        self.panel.show_model_in_use(switch.choice)  # after a failure: back on the model still in use
        self._on_engine_ready(switch.device_label)
        if switch.error:
            self._show_model_problem(switch.error)
        else:
            self.statusBar().clearMessage()
            self._on_status(f"Model: {switch.label}")

    def _show_model_problem(self, text: str) -> None:
        """A model that could not be used: a status-bar message (the video keeps running, no overlay)."""
        self.last_error = text
        self._show_notice(text)

    def _show_notice(self, text: str) -> None:
        """A temporary status-bar message, elided to the room left of the permanent widgets (QStatusBar
        would clip it under the device label without a sign); the whole text is the bar's tooltip."""
        bar = self.statusBar()
        shown = text
        if bar.isVisible():  # (a hidden bar has no width yet: nothing to fit)
            permanent = sum(w.width() for w in (self.recording_indicator, self.device_status) if w.isVisible())
            room = max(40, bar.width() - permanent - 24)
            shown = bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
        bar.showMessage(shown, MODEL_NOTICE_MS)
        bar.setToolTip(text)

    def _on_background_replaced(self, background: str, notice: str) -> None:
        """The background file failed while in use: the panel shows the fallback the worker now uses."""
        self.panel.apply(background=background)
        warn(notice)
        self._show_model_problem(notice)

    def _on_source_opened(self, name: str, fps: float, width: int, height: int) -> None:
        self._source_name = name
        if self._info is not None and self._info.mode != STARTING:
            self.view.clear_message()  # back after a failure
        if self._fallback_notice:
            self._fallback_notice = False  # keep "no camera — showing the demo clip" in the status bar
            return
        self._on_status(f"Showing {name} ({width}x{height} @ {fps:.0f} fps)")

    def _on_record_toggled(self, on: bool) -> None:
        self.start_recording() if on else self.stop_recording()

    def _on_recording_started(self, path: str, codec: str) -> None:
        self.recording_indicator.start(Path(path), codec)

    def _on_recording_stopped(self, path: str, frames: int, problem: str) -> None:
        self.recording_indicator.stop()
        self.commands.record.blockSignals(True)
        self.commands.record.setChecked(False)
        self.commands.record.blockSignals(False)
        if not problem:  # a problem came as an error already (red), which stays in the status bar
            self._on_status(f"Recording saved: {path} ({frames} frames)")

    def _on_virtual_camera_started(self, device: str) -> None:
        self.virtual_camera_device = device
        self._on_status(f"Virtual camera: sending to {device}")

    def _on_virtual_camera_stopped(self, reason: str) -> None:
        """Turned off ("") or the device went away (reason): the preview goes on either way."""
        self.virtual_camera_device = ""
        self._set_checked(self.commands.virtual_camera, False)
        if reason:
            self.last_error = reason
            self._show_notice(reason)
        else:
            self._on_status("Virtual camera off")

    def _on_virtual_camera_unavailable(self, reason: str) -> None:
        """No device (or no pyvirtualcam): the toggle is disabled, its tooltip says what to install."""
        self._on_virtual_camera_stopped(reason)
        self.commands.virtual_camera.setEnabled(False)
        self.commands.virtual_camera.setToolTip(reason)

    def _choose_matte_color(self) -> None:
        r, g, b = self.virtual_camera_options.matte_color
        color = QColorDialog.getColor(QColor(r, g, b), self, "Virtual camera matte color")
        if color.isValid():
            self.set_virtual_camera_options(matte_color=(color.red(), color.green(), color.blue()))

    @staticmethod
    def _set_checked(action: Any, on: bool) -> None:
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)

    def _on_frame_limit(self, frames: int) -> None:
        self._save_screenshot()
        self.close()

    def _on_worker_finished(self) -> None:
        if self.launch.quit_after_frames is not None and not self._closed:
            # automation asked for N frames and the worker could not deliver them
            self._fail(self.last_error or f"the run ended after {self.frames_shown} of "
                       f"{self.launch.quit_after_frames} frames")

    # -- automation ----------------------------------------------------------------------------
    def _fail(self, text: str) -> None:
        """Automation failed: keep the first reason (the command prints it), exit 2, close."""
        self.last_error = self.last_error if self.failure else text
        self.failure = self.failure or text
        self.exit_code = 2
        if not self._closed:
            self.close()

    def _save_screenshot(self) -> None:
        """--screenshot: the window as shown, written by image_files (any file name; a full disk is an
        error, never a 0-byte file)."""
        if not self.launch.screenshot_path:
            return
        from silhouette_cam.image_files import write_image

        path = Path(self.launch.screenshot_path)
        try:
            write_image(path, _bgr_pixels(self.grab().toImage()), what="screenshot")
        except (OSError, ValueError) as exc:
            text = f"cannot save screenshot {path}: {describe(exc)}" if str(path) not in str(exc) else describe(exc)
            self._on_error(text)

    def _open_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", VIDEO_FILTER)
        if path:
            self.set_source(path)

    def _choose_output_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", str(self.store.output_folder))
        if folder:
            self.store.output_folder = folder
            self._on_status(f"Recordings and snapshots go to {folder}")

    # -- shutdown ------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self._closed:
            event.accept()
            return
        self._closed = True
        self._save_settings()
        if self.launch.quit_after_frames is None:
            self._save_screenshot()
        self.hide()
        if not self.worker.stop(STOP_TIMEOUT_MS):  # finishes a running recording before returning
            self.exit_code = self.exit_code or 1
        # Errors raised while stopping (a recording that could not be completed) come too late for
        # their signal: automation reads them from the worker.
        late = self.worker.errors if self.launch.quit_after_frames is not None else []
        if late and not self.failure:
            self._fail(late[0])
        event.accept()

    def _save_settings(self) -> None:
        store = self.store
        store.geometry = self.saveGeometry()
        store.window_state = self.saveState()
        store.mode = self.mode
        store.settings = {name: value for name, value in self.panel.settings.changes_from_defaults().items()
                          if name != "mode"}  # the mode is stored on its own
        store.controls = self.panel.values.changes_from_defaults()
        store.hud_visible = self.commands.hud.isChecked()
        store.virtual_camera = self.virtual_camera_options.to_dict()
        if self.launch.source is None:  # a --source is for this run; the user's picks were stored already
            store.source = self.sources.current_spec
        store.sync()


def _bgr_pixels(image: QImage) -> np.ndarray:
    """A QImage -> [H, W, 3] uint8 BGR (an owned copy), for image_files.write_image."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return np.ascontiguousarray(rows[:, : width * 3].reshape(height, width, 3)[:, :, ::-1])
