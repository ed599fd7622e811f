"""RecordingControl: a full disk stops the recording with a message and keeps what was written."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from silhouette_cam.gui.recording_ui import format_elapsed, timestamped_name
from silhouette_cam.live.recording import RecordingControl


class DiskFullRecorder:
    """Accepts `capacity` frames, then raises like a full disk."""

    codec = "h264"

    def __init__(self, capacity: int) -> None:
        self.capacity, self.frames_written, self.closed = capacity, 0, False

    def write(self, image: np.ndarray, timestamp_s: float) -> None:
        if self.frames_written == self.capacity:
            raise OSError(28, "No space left on device")
        self.frames_written += 1

    def close(self) -> None:
        self.closed = True


def test_disk_full_stops_the_recording_and_reports_it(tmp_path: Path) -> None:
    events: list[tuple] = []
    recorder = DiskFullRecorder(capacity=3)
    control = RecordingControl(
        on_started=lambda path, codec: events.append(("started", codec)),
        on_stopped=lambda path, frames, problem: events.append(("stopped", frames)),
        on_snapshot=lambda path: events.append(("snapshot", path)),
        on_error=lambda message: events.append(("error", message)),
        open_recorder=lambda path, fps, size, alpha, time_base: recorder,
    )
    control.request_start(tmp_path / "rec.mp4")
    image = np.zeros((4, 6, 3), np.uint8)
    assert control.wants_frames  # a start is pending
    for i in range(5):
        control.write(SimpleNamespace(image=image, rgba=None, timestamp_s=i / 30))
    assert events[0] == ("started", "h264")
    assert events[1] == ("error", f"recording stopped: no space left on device — the 3 frames written before are "
                                  f"kept in {tmp_path / 'rec.mp4'}")
    assert events[2] == ("stopped", 3) and recorder.closed and not control.recording
    assert not control.wants_frames  # idle: the writer copies no frames for it


def test_default_names_are_timestamped_and_elapsed_is_readable() -> None:
    from datetime import datetime

    assert timestamped_name("mp4", now=datetime(2025, 1, 2, 3, 4, 5)) == "silhouette-cam_20250102-030405.mp4"
    assert (format_elapsed(42.7), format_elapsed(3725)) == ("00:42", "1:02:05")


class SizeChangingCamera:
    """A camera-like source (no size keeper of its own) whose frames grow from 320x240 to 640x360 at
    frame `switch_at`: what a webcam does when its driver changes resolution."""

    fps, name, time_base = 30.0, "camera 3", None

    def __init__(self, switch_at: int) -> None:
        self.switch_at, self.index = switch_at, 0
        self.size = (320, 240)

    def read(self):
        width, height = (320, 240) if self.index < self.switch_at else (640, 360)
        frame = np.full((height, width, 3), 90, np.uint8)
        frame[height // 4: height * 3 // 4, width // 3: width * 2 // 3] = 220
        self.index += 1
        return frame, self.index / self.fps

    def close(self) -> None:
        pass


def test_a_resolution_change_mid_recording_is_letterboxed_not_stopped(qtbot, make_window, tmp_path: Path) -> None:
    import av

    record = tmp_path / "rec.mp4"
    window = make_window(source="3", paced=False, quit_after_frames=12, record_path=str(record),
                         worker_overrides={"source_opener": lambda spec: SizeChangingCamera(switch_at=5)})
    notices: list[str] = []
    window.worker.status.connect(notices.append)
    qtbot.waitUntil(lambda: not window.worker.isRunning(), timeout=30_000)
    assert window.exit_code == 0 and window.failure == ""
    with av.open(str(record)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 12 and {frame.shape for frame in frames} == {(240, 320, 3)}
    # 640x360 into 320x240: 320x180 centred, black bars of 30 rows above and below
    assert frames[-1][:25].max() < 20 and frames[-1][215:].max() < 20 and frames[-1][30:210].max() > 60
    assert any(f"recording {record}: frame 5 is 640x360, the recording is 320x240" in text for text in notices)


def test_a_recording_that_holds_no_frames_is_a_problem_not_saved(tmp_path: Path) -> None:
    events: list[tuple] = []

    class NeverWrites:
        codec, frames_written = "h264", 0

        def write(self, image, timestamp_s):
            raise OSError(5, "Input/output error")

        def close(self):
            pass

    control = RecordingControl(
        on_started=lambda path, codec: events.append(("started",)),
        on_stopped=lambda path, frames, problem: events.append(("stopped", frames, problem)),
        on_snapshot=lambda path: None, on_error=lambda message: events.append(("error", message)),
        open_recorder=lambda *args: NeverWrites(),
    )
    control.request_start(tmp_path / "rec.mp4")
    control.write(SimpleNamespace(image=np.zeros((4, 6, 3), np.uint8), rgba=None, timestamp_s=0.0))
    problem = f"recording stopped: input/output error — nothing was recorded in {tmp_path / 'rec.mp4'}"
    assert events == [("started",), ("error", problem), ("stopped", 0, problem)]


def test_the_window_shows_a_failed_recording_in_red_never_as_saved(qtbot, make_window, clip: Path,
                                                                   tmp_path: Path, monkeypatch) -> None:
    def refuse(path, fps, size, alpha, time_base=None):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("silhouette_cam.live.recording._open_recorder", refuse)
    window = make_window(source=str(clip), paced=False)
    # The error and the stop are two signals: wait for the second (the state is checked after both).
    with qtbot.waitSignal(window.worker.recording_stopped, timeout=30_000):
        target = window.start_recording(tmp_path / "rec.mp4")
    qtbot.waitUntil(lambda: "cannot record to" in window.status_label.text(), timeout=30_000)
    assert f"cannot record to {target}: permission denied" in window.last_error
    assert "e04040" in window.status_label.styleSheet()  # red
    assert not window.commands.record.isChecked() and window.recording_indicator.isHidden()
    assert "Recording saved" not in window.status_label.text()


def test_window_snapshots_take_a_non_utf8_name(qtbot, make_window, clip: Path, tmp_path: Path) -> None:
    import os

    from silhouette_cam.image_files import read_image

    window = make_window(source=str(clip), paced=False)
    qtbot.waitUntil(lambda: window.frames_shown >= 2, timeout=30_000)
    target = Path(os.fsdecode(os.fsencode(tmp_path) + b"/snap-\xff.png"))
    with qtbot.waitSignal(window.worker.snapshot_saved, timeout=30_000):
        window.take_snapshot(target)
    assert read_image(target).shape == (240, 320, 3)
