"""The status-bar recording indicator (● REC 00:42 name.mp4) and default output names."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget


def timestamped_name(suffix: str, *, now: datetime | None = None) -> str:
    """"silhouette-cam_20250101-120000.mp4": sortable, unique to the second, no dialog needed."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"silhouette-cam_{stamp}.{suffix.lstrip('.')}"


def format_elapsed(seconds: float) -> str:
    """42.7 -> "00:42"; 3725 -> "1:02:05"."""
    total = int(max(0.0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class RecordingIndicator(QLabel):
    """Hidden unless recording; shows elapsed time and the file name, refreshed twice a second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("color: #e03030; font-weight: bold; padding: 0 8px;")
        self._started = 0.0
        self._path: Path | None = None
        self._codec = ""
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._refresh)
        self.hide()

    @property
    def path(self) -> Path | None:
        return self._path

    def set_pending(self, path: Path) -> None:
        self._path = path
        self.setText(f"● REC starting… {path.name}")
        self.setToolTip(str(path))
        self.show()

    def start(self, path: Path, codec: str) -> None:
        self._path, self._codec, self._started = path, codec, time.monotonic()
        self.setToolTip(f"{path} ({codec})" if codec else str(path))
        self._refresh()
        self._timer.start()
        self.show()

    def stop(self) -> None:
        self._timer.stop()
        self._path = None
        self.hide()

    def _refresh(self) -> None:
        if self._path is not None:
            self.setText(f"● REC {format_elapsed(time.monotonic() - self._started)}  {self._path.name}")
