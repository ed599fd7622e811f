"""The status bar's message elides to its room: a long error never hides under the device label."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from silhouette_cam.gui.launch import LaunchOptions
from silhouette_cam.gui.main_window import MainWindow
from silhouette_cam.gui.status_label import StatusLabel

LONG_ERROR = ("Camera 0 stopped delivering frames (device unplugged?): cannot read /dev/video0 — retrying every "
              "second; the last frame stays on screen until it is back, or pick another source in the toolbar")


def test_a_long_message_is_elided_with_the_full_text_in_the_tooltip(qtbot) -> None:
    label = StatusLabel()
    qtbot.addWidget(label)
    label.resize(200, 20)
    label.show()
    label.set_message(LONG_ERROR)
    assert label.text().endswith("…") and len(label.text()) < len(LONG_ERROR)
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    assert label.toolTip() == label.full_text() == LONG_ERROR
    label.resize(4000, 20)
    assert label.text() == LONG_ERROR  # room again: the whole message


def shown_window(qtbot, store, width: int, height: int) -> MainWindow:
    """A window of that size, shown, its device label set (what the status bar shares room with)."""
    window = MainWindow(store, LaunchOptions(source="demo", paced=False))
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    window._on_engine_ready("CPU (onnxruntime, 2 threads) · fp32")
    return window


def test_the_windows_error_stays_left_of_the_device_label(qtbot, store) -> None:
    window = shown_window(qtbot, store, 900, 600)
    window._on_error(LONG_ERROR)
    QApplication.processEvents()
    label, device = window.status_label, window.device_status
    label_right = label.mapTo(window, label.rect().topRight()).x()
    device_left = device.mapTo(window, device.rect().topLeft()).x()
    assert device.isVisible() and label_right < device_left
    assert label.text().endswith("…") and label.toolTip() == LONG_ERROR
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


def test_error_state_screenshot_exists() -> None:
    """docs/screenshots/error_state.png shows a long error (made by docs/screenshots/make_screenshots.py)."""
    assert (Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "error_state.png").is_file()


def test_a_temporary_notice_is_elided_too_with_the_full_text_in_the_tooltip(qtbot, store) -> None:
    window = shown_window(qtbot, store, 700, 500)
    QApplication.processEvents()
    window._show_model_problem(LONG_ERROR)
    bar = window.statusBar()
    shown = bar.currentMessage()
    assert shown.endswith("…") and LONG_ERROR.startswith(shown[:-1])
    room = bar.width() - window.device_status.width()
    assert bar.fontMetrics().horizontalAdvance(shown) < room
    assert bar.toolTip() == LONG_ERROR and window.last_error == LONG_ERROR
