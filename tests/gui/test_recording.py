"""RecordingControl: a full disk stops the recording with a message and keeps what was written."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from silhouette_cam.gui.recording import RecordingControl
from silhouette_cam.gui.recording_ui import format_elapsed, timestamped_name


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
