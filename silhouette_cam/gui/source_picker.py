"""Source picker: the demo clip, the cameras found on this machine, or a video file; and the
source-spec helpers the worker shares ("demo", "0", "/dev/video2", a path).

Probing cameras opens devices, which can take a second each: it runs on a daemon thread and the
combo box fills in when it is done. The window never waits for it, not even to close (a driver
stuck in open() must not hold up quitting).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

DEMO = "demo"
VIDEO_FILTER = "Videos (*.mp4 *.mkv *.avi *.mov *.webm *.m4v);;All files (*)"
_PICK_FILE = "__pick_file__"


def default_source_opener(spec: str) -> Any:
    from silhouette_cam.sources import open_source

    return open_source(spec, loop=True)


def is_camera_spec(spec: str) -> bool:
    return spec.isdigit() or spec.startswith("/dev/video")


def describe_source(spec: str) -> str:
    """"0" -> "camera 0"; "/videos/a.mp4" -> "a.mp4"; for messages and the source picker."""
    if is_camera_spec(spec):
        return f"camera {spec}"
    return "the demo clip" if spec == DEMO else spec.replace("\\", "/").rsplit("/", 1)[-1]


class _ScanResult(QObject):
    """Carries the camera list from the probing thread to the GUI thread (a queued signal)."""

    found = Signal(list)


def _probe_cameras(result: _ScanResult, done: threading.Event) -> None:
    try:
        from silhouette_cam.sources import list_cameras

        cameras = [(str(info.device), f"Camera {info.label}") for info in list_cameras()]
    except Exception:  # noqa: BLE001 — no camera list is not worth a dialog; the demo clip remains
        cameras = []
    try:
        result.found.emit(cameras)
    except RuntimeError:
        pass  # the window closed meanwhile
    done.set()


class SourcePicker(QComboBox):
    """Emits source_chosen(spec) when the user picks an entry ("demo", a camera spec, a file path)."""

    source_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(200)
        self.setToolTip("What to segment: a camera, a video file, or the demo clip")
        self._current = DEMO
        self._cameras: list[tuple[str, str]] = []
        self._rebuild()
        self.activated.connect(self._on_activated)
        self._scan_done: threading.Event | None = None
        self._scan_result = _ScanResult()
        self._scan_result.found.connect(self._on_cameras)

    @property
    def current_spec(self) -> str:
        return self._current

    def scan_cameras(self) -> None:
        """Start probing cameras in the background (safe to call again; one scan at a time)."""
        if self._scan_done is not None and not self._scan_done.is_set():
            return
        self._scan_done = threading.Event()
        threading.Thread(target=_probe_cameras, args=(self._scan_result, self._scan_done),
                         name="camera-scan", daemon=True).start()

    def scan_finished(self, timeout_s: float = 0.0) -> bool:
        """True once the last scan delivered its list (waits up to `timeout_s`)."""
        return self._scan_done is not None and self._scan_done.wait(timeout_s)

    def set_current(self, spec: str, name: str | None = None) -> None:
        """Show `spec` as the current source (adds a file entry if it is not listed); emits nothing."""
        self._current = str(spec)
        self._rebuild(name)

    def _on_cameras(self, cameras: list) -> None:
        self._cameras = [(str(spec), str(label)) for spec, label in cameras]
        self._rebuild()

    def _rebuild(self, name: str | None = None) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem("Demo clip", DEMO)
        for spec, label in self._cameras:
            self.addItem(label, spec)
        if is_camera_spec(self._current):
            label = f"Camera {self._current} (not found)"
        else:  # a file: the demo clip plays in its place when it is gone (the status bar says so)
            label = Path(self._current).name or self._current
            if not Path(self._current).exists():
                label += " (not found)"
        if self.findData(self._current) < 0:
            self.addItem(name or label, self._current)
        self.addItem("Video file…", _PICK_FILE)
        self.setCurrentIndex(max(0, self.findData(self._current)))
        self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        spec = self.itemData(index)
        if spec == _PICK_FILE:
            path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", VIDEO_FILTER)
            if not path:
                self.setCurrentIndex(max(0, self.findData(self._current)))
                return
            spec = path
        if spec != self._current:
            self.set_current(spec)
            self.source_chosen.emit(spec)
