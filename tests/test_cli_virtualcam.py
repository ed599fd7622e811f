"""`silhouette-cam virtualcam`: the pipeline into a virtual camera (a recording pyvirtualcam backend)."""

from __future__ import annotations

import numpy as np
import pytest

from silhouette_cam import virtualcam
from silhouette_cam.cli import main
from silhouette_cam.cli.virtualcam import parse_size, send_frames
from silhouette_cam.pacing import SourcePacer
from silhouette_cam.pipeline import FramePipeline
from silhouette_cam.pipeline_runner import PipelineRunner
from silhouette_cam.sources import FrameSource, demo_clip_path
from silhouette_cam.virtualcam import VirtualCamera
from tests.fixtures.pipeline_fakes import BrightSegmenter, disk_frame
from tests.fixtures.virtualcam_backend import ManualClock, MissingDevice, register, unregister

DEMO_SIZE = (480, 270)


@pytest.fixture
def backend():
    yield register("recording")
    unregister("recording")


class StampedSource(FrameSource):
    """`count` frames at `fps`, timestamps from `start_s`; frame i carries i in two dark patches
    (top-left: i % 100, next to it: i // 100, each + 10) that the 'person' never covers."""

    def __init__(self, count: int, fps: float, start_s: float = 2.0) -> None:
        self.fps, self.size, self.name, self.frame_count = fps, (160, 120), "stamped", count
        self._count, self._start, self._index = count, start_s, 0

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._index >= self._count:
            return None
        i, self._index = self._index, self._index + 1
        frame = disk_frame(160, 120)
        frame[:8, :8], frame[:8, 8:16] = 10 + i % 100, 10 + i // 100
        return frame, self._start + i / self.fps


def stamp(image: np.ndarray) -> int:
    return int(image[3, 3, 0] - 10) + 100 * int(image[3, 11, 0] - 10)


def test_300_frames_arrive_in_order_one_per_source_frame_at_the_source_rate(backend):
    """Time moves only while the pacer waits, so each send time is exactly when the frame was due."""
    clock = ManualClock()
    backend.clock = clock
    source = StampedSource(300, fps=30.0)
    pipeline = FramePipeline(BrightSegmenter())  # overlay: the dark stamps pass through untouched
    reports = []
    with VirtualCamera(size=source.size, fps=source.fps, backend="recording", clock=clock) as camera, \
            PipelineRunner(pipeline, source) as runner:
        send_frames(runner, camera, pacer=SourcePacer(clock=clock, sleep=clock.sleep),
                    report=lambda: reports.append(camera.fps_sent), clock=clock)
        assert camera.fps_sent == pytest.approx(30.0)
    device = backend.instances[0]
    assert [stamp(device.image(i)) for i in range(len(device.frames))] == list(range(300))
    times = np.array(device.times) - device.times[0]
    assert np.abs(times - np.arange(300) / 30.0).max() < 1e-9  # each frame at its source time
    rate = (len(times) - 1) / times[-1]
    assert rate == pytest.approx(source.fps, rel=0.05)
    assert reports == [pytest.approx(30.0)]  # one FPS line: after 5 s of the 10 s clip
    assert device.close_calls == 1 and device.sends_after_close == 0


def test_demo_clip_into_the_camera_then_it_closes(backend, capsys):
    code = main(["virtualcam", "--source", str(demo_clip_path()), "--backend", "recording", "--max-frames", "6",
                 "--mode", "cutout", "--background", "blur", "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    device = backend.instances[0]
    assert (device.width, device.height) == DEMO_SIZE and str(device.pixel_format) == "RGB"
    assert len(device.frames) == 6 and device.close_calls == 1 and device.sends_after_close == 0
    assert "demo_person.mp4 -> /dev/video42 (480x270 RGB" in out and "sent 6 frames to /dev/video42" in out


def test_a_chosen_size_letterboxes_the_source(backend):
    code = main(["virtualcam", "--source", str(demo_clip_path()), "--backend", "recording", "--max-frames", "2",
                 "--size", "1280x960", "--mode", "silhouette", "--device", "cpu", "--quiet"])
    assert code == 0
    device = backend.instances[0]
    assert (device.width, device.height) == (1280, 960)
    sent = device.image(1)
    assert (sent[:100] == 0).all() and (sent[-100:] == 0).all()  # 16:9 in 4:3: bars top and bottom


def test_ctrl_c_stops_cleanly_and_nothing_is_sent_after(backend, capsys):
    backend.interrupt_at = 4  # Ctrl-C arrives while the 4th frame is being sent
    code = main(["virtualcam", "--source", "demo", "--backend", "recording", "--device", "cpu"])
    assert code == 0
    assert "sent 3 frames to /dev/video42" in capsys.readouterr().out
    device = backend.instances[0]
    assert len(device.frames) == 3 and device.close_calls == 1 and device.sends_after_close == 0


def test_an_unplugged_device_is_one_line_exit_2_without_a_traceback(backend, capsys):
    backend.fail_at = 3
    code = main(["virtualcam", "--source", "demo", "--backend", "recording", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == ("silhouette-cam virtualcam: error: virtual camera /dev/video42 stopped after 2 frames: "
                           "device unplugged")
    device = backend.instances[0]
    assert len(device.frames) == 2 and device.close_calls == 1 and device.sends_after_close == 0


def test_no_virtual_camera_is_one_line_naming_what_to_install_exit_2(monkeypatch, capsys):
    import pyvirtualcam

    pyvirtualcam.register_backend("missing", MissingDevice)
    monkeypatch.setattr(virtualcam.platform, "system", lambda: "Linux")
    try:
        code = main(["virtualcam", "--source", "demo", "--backend", "missing"])
    finally:
        unregister("missing")
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no virtual camera to send to" in err and "sudo modprobe v4l2loopback devices=1" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--size", "1280"], "--size '1280' is not WIDTHxHEIGHT"),
    (["--matte", "fog"], "matte color 'fog' is not a color"),
    (["--source", "missing.mp4"], "source not found: 'missing.mp4'"),
])
def test_bad_options_are_one_line_errors_with_exit_2(backend, capsys, args, message):
    code = main(["virtualcam", "--source", "demo", "--backend", "recording", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert all(device.frames == [] for device in backend.instances)


def test_parse_size():
    assert parse_size("1280x720") == (1280, 720) and parse_size("640X480") == (640, 480)
    for bad in ("x720", "1280x", "1x720", "axb", ""):
        with pytest.raises(ValueError, match="is not WIDTHxHEIGHT"):
            parse_size(bad)
