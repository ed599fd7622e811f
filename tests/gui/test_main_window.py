"""The window end to end with the real pipeline on a real video (the bundled demo clip, a person).

Waits are on signals or on state the GUI thread sets (qtbot.waitSignal / waitUntil), never sleeps.
"""

from __future__ import annotations

import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from silhouette_cam.gui.launch import LaunchOptions
from silhouette_cam.gui.main_window import MainWindow
from silhouette_cam.live.virtual_camera import VirtualCameraOptions
from silhouette_cam.sources import VideoFileSource, demo_clip_path

DEMO = str(demo_clip_path())
TIMEOUT_MS = 30_000  # the first model load on a busy 2-core CI machine


def displayed_rgb(window: MainWindow) -> np.ndarray:
    """The view's current frame as [H, W, 3] RGB uint8."""
    image = window.view.image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def wait_frames(qtbot, window: MainWindow, count: int, *, mode: str | None = None) -> None:
    """Until `count` more frames were shown (rendered in `mode`, if given)."""
    target = window.frames_shown + count

    def ready() -> bool:
        info = window._info
        return window.frames_shown >= target and (mode is None or (info is not None and info.mode == mode))

    qtbot.waitUntil(ready, timeout=TIMEOUT_MS)


def count_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_starts_in_a_starting_state_then_shows_frames_with_the_hud(qtbot, make_window) -> None:
    window = make_window(source=DEMO, paced=False)
    assert window.view.message.startswith("Starting")  # never a blank or frozen window
    wait_frames(qtbot, window, 3, mode="overlay")
    assert window.view.message == ""
    assert "demo_person.mp4" in window.status_label.text()
    assert window.view.image is not None and not window.view.image.isNull()
    window.hud.set_stats(window.hud_stats(), force=True)
    hud = "\n".join(window.hud.lines)
    assert "fps" in hud and "segment" in hud and "refine" in hud and window.device_label in hud
    assert window.device_label.startswith(("CPU fp32", "CUDA"))  # precision and device, honestly
    assert "model: general" in hud or "model: landscape" in hud


def test_each_mode_changes_the_rendered_output(qtbot, make_window) -> None:
    window = make_window(source=DEMO, paced=False)
    window.panel.apply(person_color=(255, 0, 0), silhouette_background=(0, 0, 255),
                       background="color", background_color=(0, 255, 0), temporal_strength=0.0)
    shown = {}
    for mode in ("overlay", "cutout", "silhouette", "mask"):
        window.set_mode(mode)
        wait_frames(qtbot, window, 2, mode=mode)
        shown[mode] = displayed_rgb(window).astype(np.int16)
    mask, silhouette, cutout, overlay = shown["mask"], shown["silhouette"], shown["cutout"], shown["overlay"]
    assert (mask[..., 0] == mask[..., 1]).all() and (mask[..., 1] == mask[..., 2]).all()  # grayscale
    assert 0.05 < (mask[..., 0] > 128).mean() < 0.95  # a person, not all or nothing
    assert silhouette[..., 1].max() <= 2  # only red person on blue background (and their blend)
    assert (silhouette[..., 0] > 200).mean() == pytest.approx((mask[..., 0] > 128).mean(), abs=0.1)
    green = (cutout[..., 1] > 220) & (cutout[..., 0] < 40) & (cutout[..., 2] < 40)
    assert 0.05 < green.mean() < 0.95  # the solid background around the kept person
    assert np.abs(overlay[..., 0] - overlay[..., 1]).mean() > 3  # colored, not the mask
    assert not green.mean() == pytest.approx(((overlay[..., 1] > 220) & (overlay[..., 0] < 40)).mean())


def test_keys_switch_modes_toggle_the_hud_and_save_snapshots(qtbot, make_window, store, tmp_path: Path) -> None:
    store.output_folder = tmp_path / "out"  # the default folder is the user's Videos: not in tests
    window = make_window(source=DEMO, paced=False)
    window.activateWindow()
    qtbot.waitActive(window)  # shortcuts go to the active window
    wait_frames(qtbot, window, 1)
    assert window.focusWidget() is window.view
    qtbot.keyClick(window.view, Qt.Key.Key_4)
    assert window.mode == "mask"
    wait_frames(qtbot, window, 1, mode="mask")
    qtbot.keyClick(window.view, Qt.Key.Key_2)
    assert window.mode == "cutout"
    qtbot.keyClick(window.view, Qt.Key.Key_H)
    assert not window.hud.isVisible()
    with qtbot.waitSignal(window.worker.snapshot_saved, timeout=TIMEOUT_MS) as saved:
        qtbot.keyClick(window.view, Qt.Key.Key_S)
    path = Path(saved.args[0])
    assert path.parent == tmp_path / "out" and path.name.startswith("silhouette-cam_") and path.is_file()


def test_model_variant_changes_live(qtbot, make_window) -> None:
    window = make_window(source=DEMO, paced=False)
    for variant in ("landscape", "general"):
        window.panel.apply(model=variant, track_people=False)  # tracking would pick by crop shape
        qtbot.waitUntil(lambda v=variant: window._info is not None and window._info.variant == v,
                        timeout=TIMEOUT_MS)


def test_snapshot_writes_a_png_rgba_for_cutout(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(source=DEMO, paced=False, mode="cutout")
    window.panel.apply(background="transparent")
    wait_frames(qtbot, window, 2, mode="cutout")
    with qtbot.waitSignal(window.worker.snapshot_saved, timeout=TIMEOUT_MS) as saved:
        target = window.take_snapshot(tmp_path / "snap.png")
    assert saved.args == [str(target)]
    image = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
    assert image.shape == (270, 480, 4)  # full source resolution, with alpha
    assert image[..., 3].min() == 0 and image[..., 3].max() == 255
    assert "Snapshot saved" in window.status_label.text()


def test_closing_while_recording_finishes_the_file(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(source=DEMO, paced=False)
    wait_frames(qtbot, window, 1)
    with qtbot.waitSignal(window.worker.recording_started, timeout=TIMEOUT_MS):
        target = window.start_recording(tmp_path / "rec.mp4")
    assert window.recording_indicator.isVisible() and "rec.mp4" in window.recording_indicator.text()
    wait_frames(qtbot, window, 5)
    with qtbot.waitSignal(window.worker.recording_stopped, timeout=TIMEOUT_MS) as stopped:
        window.close()
    frames = stopped.args[1]
    assert frames >= 5 and count_frames(target) == frames


def test_window_closes_within_2_s_while_processing(qtbot, make_window) -> None:
    window = make_window(source=DEMO, paced=False)
    wait_frames(qtbot, window, 3)
    started = time.perf_counter()
    window.close()
    assert not window.worker.isRunning()
    assert time.perf_counter() - started < 2.0


def test_settings_round_trip_through_the_window(qtbot, store, clip: Path) -> None:
    first = MainWindow(store, LaunchOptions(source=DEMO, paced=False))
    qtbot.addWidget(first)
    first.start()
    first.set_source(str(clip))  # picked by the user: remembered (a --source is for one run only)
    first.set_mode("silhouette")
    first.panel.apply(overlay_opacity=0.25, invert=True, model="general")
    first.commands.hud.setChecked(False)
    first.set_virtual_camera_options(size=(640, 480), matte_color=(12, 34, 56))
    first.close()

    second = MainWindow(store, LaunchOptions(paced=False))
    qtbot.addWidget(second)
    assert second.mode == "silhouette" and second.mode_actions.mode == "silhouette"
    settings = second.panel.settings
    assert (settings.render.overlay_opacity, settings.refine.invert, second.panel.values.model) == (
        0.25, True, "general")
    assert second.commands.hud.isChecked() is False
    assert second.sources.current_spec == str(clip)
    assert second.virtual_camera_options == VirtualCameraOptions(size=(640, 480), matte_color=(12, 34, 56))
    assert second.commands.camera_sizes[(640, 480)].isChecked()  # the menu shows the remembered size
    assert not second.commands.camera_sizes[None].isChecked()
    second.close()


class FailingSource:
    """A real video source that raises OSError after `frames` frames (a camera being unplugged)."""

    def __init__(self, frames: int) -> None:
        self._inner, self._left = VideoFileSource(DEMO, loop=True), frames
        self.fps, self.size, self.name = self._inner.fps, self._inner.size, "flaky camera"

    def read(self):
        if self._left == 0:
            raise OSError("device unplugged")
        self._left -= 1
        return self._inner.read()

    def close(self) -> None:
        self._inner.close()


def test_source_failing_mid_stream_shows_the_error_and_reconnects(qtbot, make_window) -> None:
    opened: list[str] = []

    def opener(spec: str):
        opened.append(spec)
        return FailingSource(5 if len(opened) == 1 else 10_000)

    window = make_window(source="flaky", paced=False, worker_overrides={"source_opener": opener})
    with qtbot.waitSignal(window.worker.error, timeout=TIMEOUT_MS) as failed:
        pass
    assert "flaky camera failed: device unplugged" in failed.args[0]
    assert "device unplugged" in window.status_label.text()
    with qtbot.waitSignal(window.worker.source_opened, timeout=TIMEOUT_MS):
        pass  # reconnected
    shown = window.frames_shown
    wait_frames(qtbot, window, 3)
    assert window.frames_shown > shown and window.isVisible() and opened == ["flaky", "flaky"]


def test_missing_camera_falls_back_to_the_demo_clip_and_says_so(qtbot, make_window) -> None:
    window = make_window(source="9", paced=False)  # no camera 9 here (nor in CI)
    wait_frames(qtbot, window, 2)
    assert "No camera '9'" in window.last_error
    assert "demo clip" in window.status_label.text()
    assert window.sources.current_spec == "9"  # the user's choice is kept for when it comes back


def test_model_load_failure_is_shown_and_the_window_stays(qtbot, make_window) -> None:
    def broken_engine(options):
        raise ValueError("weights file is corrupt")

    window = make_window(source=DEMO, worker_overrides={"engine_factory": broken_engine})
    with qtbot.waitSignal(window.worker.finished, timeout=TIMEOUT_MS):
        pass
    assert "cannot load the model: weights file is corrupt" in window.status_label.text()
    assert window.view.message.startswith("cannot load the model") and window.isVisible()


def test_a_failing_pipeline_is_shown_in_the_status_bar_and_the_window_stays(qtbot, make_window) -> None:
    from tests.gui.test_worker import FakeEngine

    window = make_window(source=DEMO, paced=False,
                         worker_overrides={"engine_factory": lambda options: FakeEngine(fail_after=3)})
    # The fake engine is fast: the error may come before a signal wait could connect; wait on the label.
    qtbot.waitUntil(lambda: "processing failed: RuntimeError: network exploded" in window.status_label.text(),
                    timeout=TIMEOUT_MS)
    assert window.isVisible() and window.worker.isRunning()
