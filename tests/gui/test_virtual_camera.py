"""The window's virtual camera toggle (issue 16), with pyvirtualcam's real Camera on a registered
test backend: the toggle and V, frames in order, the matte, mirror for the preview only, no device,
and a device unplugged mid-run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from silhouette_cam.gui.main_window import MainWindow
from silhouette_cam.sources import FrameSource
from silhouette_cam.virtualcam import VirtualCamera, install_hint
from tests.fixtures.virtualcam_backend import MissingDevice, register, unregister
from tests.gui.test_main_window import displayed_rgb, wait_frames

TIMEOUT_MS = 30_000
SIZE = (320, 240)


class StampedSource(FrameSource):
    """Endless 320x240 frames: left half bright, right half dark, and frame i's number in a patch
    at the top-left corner (value 20 + 3 * (i % 70)), where the model sees no person."""

    def __init__(self) -> None:
        self.fps, self.size, self.name, self._index = 30.0, SIZE, "stamped", 0

    def read(self):
        i, self._index = self._index, self._index + 1
        frame = np.full((SIZE[1], SIZE[0], 3), 30, np.uint8)
        frame[:, : SIZE[0] // 2] = 220
        frame[:16, :16] = 20 + 3 * (i % 70)
        return frame, i / self.fps

    def close(self) -> None:
        pass


def stamp(image: np.ndarray) -> int:
    return round((int(image[6, 6, 1]) - 20) / 3)


@pytest.fixture
def backend():
    yield register("gui_recording")
    unregister("gui_recording")


def open_window(make_window, name: str, **launch) -> MainWindow:
    def factory(**options):
        return VirtualCamera(backend=name, **options)

    overrides = {"virtual_camera_factory": factory, "source_opener": lambda spec: StampedSource()}
    window = make_window(source="stamped", paced=False, worker_overrides=overrides, **launch)
    window.panel.apply(overlay_opacity=0.0, temporal_strength=0.0)  # the frame as it came, unsmoothed
    return window


def test_toggle_and_v_key_send_what_is_rendered_in_order_and_stop(qtbot, make_window, backend) -> None:
    window = open_window(make_window, "gui_recording")
    window.activateWindow()
    qtbot.waitActive(window)
    wait_frames(qtbot, window, 2)
    with qtbot.waitSignal(window.worker.virtual_camera_started, timeout=TIMEOUT_MS) as started:
        qtbot.keyClick(window.view, Qt.Key.Key_V)
    assert started.args == ["/dev/video42"] and window.commands.virtual_camera.isChecked()
    assert "sending to /dev/video42" in window.status_label.text()
    camera = backend.instances[0]
    qtbot.waitUntil(lambda: len(camera.frames) >= 20, timeout=TIMEOUT_MS)
    window.hud.set_stats(window.hud_stats(), force=True)
    assert any(line.startswith("virtual camera: /dev/video42") and "fps sent" in line for line in window.hud.lines)
    with qtbot.waitSignal(window.worker.virtual_camera_stopped, timeout=TIMEOUT_MS) as stopped:
        window.commands.virtual_camera.trigger()  # the toolbar button
    assert stopped.args == [""] and not window.commands.virtual_camera.isChecked()
    shown = window.frames_shown
    wait_frames(qtbot, window, 3)
    assert window.frames_shown > shown  # the preview goes on
    assert camera.close_calls == 1 and camera.sends_after_close == 0
    assert (camera.width, camera.height) == SIZE  # the source's size
    stamps = [stamp(camera.image(i)) for i in range(len(camera.frames))]
    steps = {(b - a) % 70 for a, b in zip(stamps, stamps[1:], strict=False)}
    assert steps == {1}, stamps  # every rendered frame once, in order (unpaced: none dropped)


def test_mirror_flips_the_preview_only(qtbot, make_window, backend) -> None:
    window = open_window(make_window, "gui_recording")
    window.commands.mirror.setChecked(True)
    with qtbot.waitSignal(window.worker.virtual_camera_started, timeout=TIMEOUT_MS):
        window.set_virtual_camera(True)
    camera = backend.instances[0]
    qtbot.waitUntil(lambda: len(camera.frames) >= 3, timeout=TIMEOUT_MS)
    wait_frames(qtbot, window, 2)
    preview, sent = displayed_rgb(window).astype(int), camera.image(len(camera.frames) - 1).astype(int)
    width = preview.shape[1]
    assert preview[:, width * 3 // 4:].mean() > preview[:, : width // 4].mean() + 50  # bright half: right
    assert sent[:, : SIZE[0] // 4].mean() > sent[:, SIZE[0] * 3 // 4:].mean() + 50  # as the source: left
    window.commands.mirror.setChecked(False)
    wait_frames(qtbot, window, 3)
    preview = displayed_rgb(window).astype(int)
    assert preview[:, : width // 4].mean() > preview[:, width * 3 // 4:].mean() + 50


def test_a_transparent_cutout_goes_on_the_matte_letterboxed_into_a_chosen_size(qtbot, make_window,
                                                                               backend) -> None:
    window = open_window(make_window, "gui_recording")
    window.set_virtual_camera_options(matte_color=(255, 0, 255), size=(640, 360))
    window.set_mode("cutout")
    window.panel.apply(background="transparent")
    wait_frames(qtbot, window, 2, mode="cutout")
    with qtbot.waitSignal(window.worker.virtual_camera_started, timeout=TIMEOUT_MS):
        window.set_virtual_camera(True)
    camera = backend.instances[0]
    qtbot.waitUntil(lambda: len(camera.frames) >= 3, timeout=TIMEOUT_MS)
    sent = camera.image(len(camera.frames) - 1).astype(int)
    assert (camera.width, camera.height) == (640, 360)
    assert (sent[:, :78] == 0).all() and (sent[:, -78:] == 0).all()  # 4:3 in 16:9: bars, not stretched
    inner = sent[:, 82:558]
    magenta = (inner[..., 0] > 240) & (inner[..., 1] < 15) & (inner[..., 2] > 240)
    assert magenta.mean() > 0.05  # transparent pixels: the matte color, not the preview's checkerboard


def test_no_device_disables_the_toggle_with_the_install_hint(qtbot, make_window) -> None:
    register("gui_missing")
    from pyvirtualcam.camera import BACKENDS

    BACKENDS["gui_missing"] = MissingDevice
    try:
        window = open_window(make_window, "gui_missing")
        with qtbot.waitSignal(window.worker.virtual_camera_unavailable, timeout=TIMEOUT_MS):
            window.set_virtual_camera(True)
        action = window.commands.virtual_camera
        assert not action.isEnabled() and not action.isChecked()
        assert install_hint() in action.toolTip() and install_hint() in window.last_error
        shown = window.frames_shown
        wait_frames(qtbot, window, 2)
        assert window.frames_shown > shown
    finally:
        unregister("gui_missing")


def test_without_pyvirtualcam_the_toggle_is_disabled_from_the_start(qtbot, make_window, monkeypatch) -> None:
    monkeypatch.setattr("silhouette_cam.live.virtual_camera.importlib.util.find_spec", lambda name: None)
    window = open_window(make_window, "unused")
    action = window.commands.virtual_camera
    assert not action.isEnabled() and "pip install" in action.toolTip()


def test_device_unplugged_mid_run_stops_sending_with_a_message_and_the_preview_goes_on(
        qtbot, make_window) -> None:
    backend = register("gui_unplugged", fail_at=6)
    try:
        window = open_window(make_window, "gui_unplugged")
        with qtbot.waitSignal(window.worker.virtual_camera_stopped, timeout=TIMEOUT_MS) as stopped:
            window.set_virtual_camera(True)
        assert "stopped after 5 frames: device unplugged" in stopped.args[0]
        assert "device unplugged" in window.statusBar().currentMessage()
        assert not window.commands.virtual_camera.isChecked() and window.commands.virtual_camera.isEnabled()
        camera = backend.instances[0]
        shown = window.frames_shown
        wait_frames(qtbot, window, 3)
        assert window.frames_shown > shown and window.worker.isRunning()
        assert len(camera.frames) == 5 and camera.sends_after_close == 0
    finally:
        unregister("gui_unplugged")


def test_recording_and_snapshots_keep_working_with_the_camera_on(qtbot, make_window, backend,
                                                                 tmp_path: Path) -> None:
    window = open_window(make_window, "gui_recording")
    with qtbot.waitSignal(window.worker.virtual_camera_started, timeout=TIMEOUT_MS):
        window.set_virtual_camera(True)
    with qtbot.waitSignal(window.worker.recording_started, timeout=TIMEOUT_MS):
        window.start_recording(tmp_path / "rec.mp4")
    with qtbot.waitSignal(window.worker.snapshot_saved, timeout=TIMEOUT_MS):
        window.take_snapshot(tmp_path / "snap.png")
    wait_frames(qtbot, window, 3)
    with qtbot.waitSignal(window.worker.recording_stopped, timeout=TIMEOUT_MS) as stopped:
        window.stop_recording()
    assert stopped.args[1] >= 1 and (tmp_path / "snap.png").is_file()
    assert len(backend.instances[0].frames) >= stopped.args[1]
