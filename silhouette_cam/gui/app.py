"""QApplication setup and the run loop for the window (`silhouette-cam gui`)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from silhouette_cam.opencv_log import quiet_opencv_log

from .launch import LaunchOptions
from .main_window import MainWindow
from .settings_store import APPLICATION, ORGANIZATION, SettingsStore


def application() -> QApplication:
    """The process's QApplication (created once; reused when one exists, e.g. under pytest-qt)."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    quiet_opencv_log()  # before the worker and camera-probe threads start
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("silhouette_cam")
    return app


def run_window(launch: LaunchOptions, *, settings_path: str | Path | None = None) -> tuple[int, str]:
    """Open the window, run the event loop until it closes; returns (exit code, 0 = fine; why an
    automation run failed, "" when it did not)."""
    app = application()
    store = SettingsStore.at_path(settings_path) if settings_path else SettingsStore.for_user()
    window = MainWindow(store, launch)
    window.start()
    app.exec()
    outcome = window.exit_code, window.failure
    window.deleteLater()
    return outcome
