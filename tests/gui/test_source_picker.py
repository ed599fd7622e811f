"""SourcePicker: cameras are probed off the GUI thread; the current choice survives the rescan."""

from __future__ import annotations

from silhouette_cam.gui.source_picker import SourcePicker


def test_camera_scan_runs_in_the_background_and_keeps_the_choice(qtbot, tmp_path) -> None:
    picker = SourcePicker()
    qtbot.addWidget(picker)
    talk = tmp_path / "talk.mp4"
    talk.write_bytes(b"")
    picker.set_current(str(talk))
    picker.scan_cameras()
    qtbot.waitUntil(picker.scan_finished, timeout=10_000)
    labels = [picker.itemText(i) for i in range(picker.count())]
    assert labels[0] == "Demo clip" and labels[-1] == "Video file…" and "talk.mp4" in labels
    assert picker.currentText() == "talk.mp4" and picker.current_spec == str(talk)


def test_a_missing_camera_is_listed_as_such(qtbot) -> None:
    picker = SourcePicker()
    qtbot.addWidget(picker)
    picker.set_current("7")
    assert picker.currentText() == "Camera 7 (not found)"


def test_a_missing_file_is_listed_as_such(qtbot) -> None:
    picker = SourcePicker()
    qtbot.addWidget(picker)
    picker.set_current("/videos/gone.mp4")
    assert picker.currentText() == "gone.mp4 (not found)"
