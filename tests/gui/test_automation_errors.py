"""Window automation (`--quit-after-frames`) is never silent (issue 14, points 5, 6, 7, 13, 2): every
failure is one stderr line and exit 2; a remembered background that is gone falls back and the run
finishes; recordings keep the source's time base; screenshots take any file name and a full disk."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from silhouette_cam.cli import main
from silhouette_cam.gui.settings_store import SettingsStore
from silhouette_cam.image_files import read_image
from silhouette_cam.pipeline import PipelineSettings


def run_window(*argv: str, settings: Path) -> int:
    return main(["gui", *argv, "--settings", str(settings)])


def one_error_line(capsys) -> str:
    """The run's stderr, which must be exactly one `silhouette-cam gui: error:` line."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("silhouette-cam gui: error: "), err
    return lines[0]


# -- 7: automation is not silent ------------------------------------------------------------------
def test_cuda_without_a_gpu_is_one_line_and_exit_2(qtbot, clip: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine without a GPU
    code = run_window("--source", str(clip), "--device", "cuda", "--quit-after-frames", "3",
                      settings=tmp_path / "s.ini")
    assert code == 2
    line = one_error_line(capsys)
    assert "cannot load the model" in line and "cuda" in line.lower()


def test_bad_weights_are_one_line_and_exit_2(qtbot, clip: Path, tmp_path: Path, capsys) -> None:
    weights = tmp_path / "broken.safetensors"
    weights.write_bytes(b"not a safetensors file" * 10)
    code = run_window("--source", str(clip), "--weights", str(weights), "--quit-after-frames", "3",
                      settings=tmp_path / "s.ini")
    assert code == 2
    assert "broken.safetensors" in one_error_line(capsys)


def test_a_missing_source_file_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    record = tmp_path / "rec.mp4"
    code = run_window("--source", str(tmp_path / "gone.mp4"), "--record", str(record), "--quit-after-frames", "3",
                      settings=tmp_path / "s.ini")
    assert code == 2
    assert f"--source {tmp_path / 'gone.mp4'} does not exist" in one_error_line(capsys)
    assert not record.exists()


def test_a_named_camera_that_is_missing_fails_instead_of_recording_the_demo(qtbot, tmp_path: Path,
                                                                         capsys) -> None:
    record = tmp_path / "rec.mp4"
    code = run_window("--source", "9", "--record", str(record), "--quit-after-frames", "3",
                      settings=tmp_path / "s.ini")  # no camera 9 here (nor in CI)
    assert code == 2
    line = one_error_line(capsys)
    assert "No camera '9'" in line and "demo" not in line
    assert not record.exists()


def test_no_source_and_no_camera_still_shows_the_demo_clip(qtbot, tmp_path: Path, capsys) -> None:
    """The quick start: nothing named, nothing remembered, no camera -> the demo clip, exit 0."""
    shot = tmp_path / "w.png"
    assert run_window("--screenshot", str(shot), "--quit-after-frames", "2", settings=tmp_path / "s.ini") == 0
    assert "error" not in capsys.readouterr().err
    assert shot.is_file()


# -- 6: recording failures are errors -------------------------------------------------------------
def test_an_unsupported_record_suffix_names_the_file(clip: Path, tmp_path: Path, capsys) -> None:
    assert run_window("--source", str(clip), "--record", str(tmp_path / "out.avi"), "--quit-after-frames", "3",
                      settings=tmp_path / "s.ini") == 2
    line = one_error_line(capsys)
    assert "out.avi" in line and ".mp4" in line


def test_a_read_only_record_folder_is_one_line_and_exit_2(clip: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path) != folder and real_access(path, mode))
    assert run_window("--source", str(clip), "--record", str(folder / "out.mp4"), "--quit-after-frames", "3",
                      settings=tmp_path / "s.ini") == 2
    assert f"folder {folder} is not writable" in one_error_line(capsys)


def test_a_recording_that_cannot_open_fails_the_run(qtbot, clip: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    """A folder that refuses the file only when it is created (found out by opening it)."""
    def refuse(path, fps, size, alpha, time_base=None):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("silhouette_cam.live.recording._open_recorder", refuse)
    record = tmp_path / "rec.mp4"
    assert run_window("--source", str(clip), "--record", str(record), "--quit-after-frames", "5",
                      settings=tmp_path / "s.ini") == 2
    line = one_error_line(capsys)
    assert f"cannot record to {record}" in line and "permission denied" in line
    assert "saved" not in line


def test_a_recording_that_fails_mid_way_keeps_its_frames_and_says_so(qtbot, clip: Path, tmp_path: Path, capsys,
                                                                      monkeypatch) -> None:
    from silhouette_cam.sinks import VideoRecorder

    class FillsUpAfterThree(VideoRecorder):
        def write(self, image: np.ndarray, timestamp_s: float) -> None:
            if self.frames_written == 3:
                raise OSError(f"recording to {self.path} failed after 3 frames: no space left on device")
            super().write(image, timestamp_s)

    monkeypatch.setattr("silhouette_cam.live.recording._open_recorder",
                        lambda path, fps, size, alpha, time_base=None: FillsUpAfterThree(path, fps=fps, size=size))
    record = tmp_path / "rec.mp4"
    assert run_window("--source", str(clip), "--record", str(record), "--quit-after-frames", "8",
                      settings=tmp_path / "s.ini") == 2
    line = one_error_line(capsys)
    assert "no space left on device" in line and f"the 3 frames written before are kept in {record}" in line
    with av.open(str(record)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 3


# -- 5: a remembered background that is gone or unreadable ----------------------------------------
@pytest.mark.parametrize("damage", ["gone", "garbage"])
def test_a_remembered_background_that_cannot_be_read_falls_back_once(qtbot, clip: Path, tmp_path: Path,
                                                                     capsys, damage: str) -> None:
    picture = tmp_path / "beach.png"
    if damage == "garbage":
        picture.write_bytes(b"\x89PNG not really")
    settings = tmp_path / "s.ini"
    store = SettingsStore.at_path(settings)
    store.mode = "cutout"
    store.settings = {"background": "image", "background_path": str(picture)}
    store.sync()
    assert run_window("--source", str(clip), "--quit-after-frames", "4", settings=settings) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"background image {picture}" in err and "using blur instead" in err
    assert "PNG, JPEG" in err  # what was expected
    remembered, _ = PipelineSettings().with_stored(SettingsStore.at_path(settings).settings)
    assert remembered.render.background == "blur"  # said once: the next start finds blur


def test_a_background_video_that_is_not_a_video_falls_back(qtbot, clip: Path, tmp_path: Path, make_window,
                                                           store: SettingsStore) -> None:
    video = tmp_path / "loop.mp4"
    video.write_bytes(b"\x00" * 2048)
    store.mode = "cutout"
    store.settings = {"background": "video", "background_path": str(video)}
    window = make_window(source=str(clip), paced=False)
    qtbot.waitUntil(lambda: window.frames_shown >= 3 and window._info.mode == "cutout", timeout=30_000)
    message = window.statusBar().currentMessage()
    assert f"background video {video} cannot be read (expected a video file)" in message
    assert window.panel.settings.render.background == "blur"
    assert "processing failed" not in window.last_error


def test_an_unreadable_background_named_on_the_command_line_is_one_line(clip: Path, tmp_path: Path,
                                                                        capsys) -> None:
    picture = tmp_path / "broken.jpg"
    picture.write_bytes(b"\xff\xd8 not a jpeg")
    assert run_window("--source", str(clip), "--mode", "cutout", "--background", str(picture),
                      "--quit-after-frames", "2", settings=tmp_path / "s.ini") == 2
    assert f"--background: background image {picture} cannot be read" in one_error_line(capsys)


# -- 13: the source's time base -------------------------------------------------------------------
def test_a_24_fps_source_records_at_exactly_24_fps(qtbot, tmp_path: Path) -> None:
    source = _clip_at_24_fps(tmp_path / "film24.mp4", 30)
    record = tmp_path / "rec.mp4"
    assert run_window("--source", str(source), "--record", str(record), "--quit-after-frames", "25",
                      settings=tmp_path / "s.ini") == 0
    with av.open(str(record)) as container:
        stream = container.streams.video[0]
        times = [Fraction(frame.pts) * stream.time_base for frame in container.decode(video=0)]
    assert len(times) == 25
    assert times[24] - times[0] == 1  # 24 frame steps of exactly 1/24 s (ms rounding gave 1.008)
    assert all(b - a == Fraction(1, 24) for a, b in zip(times, times[1:], strict=False))


def _clip_at_24_fps(path: Path, frames: int) -> Path:
    rng = np.random.default_rng(1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


# -- 2: screenshots take any file name and never leave a 0-byte file --------------------------------
def test_a_screenshot_with_a_non_utf8_name_is_written(qtbot, clip: Path, tmp_path: Path) -> None:
    shot = Path(os.fsdecode(os.fsencode(tmp_path) + b"/shot-\xff\xfe.png"))
    assert run_window("--source", str(clip), "--screenshot", str(shot), "--quit-after-frames", "2",
                      settings=tmp_path / "s.ini") == 0
    image = read_image(shot)
    assert image.shape[0] > 240 and image.shape[1] > 320 and image.std() > 0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) to simulate a full disk")
def test_a_screenshot_on_a_full_disk_is_an_error_and_leaves_no_file(qtbot, clip: Path, tmp_path: Path, capsys,
                                                                    monkeypatch) -> None:
    real_open = open

    def open_full(path, mode="r", *args, **kwargs):  # the screenshot's temp file lands on a full disk
        if "w" in mode and os.fspath(path).endswith(".tmp.png"):
            return real_open("/dev/full", mode, *args, **kwargs)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", open_full)
    shot = tmp_path / "shots" / "w.png"
    assert run_window("--source", str(clip), "--screenshot", str(shot), "--quit-after-frames", "2",
                      settings=tmp_path / "s.ini") == 2
    monkeypatch.undo()
    line = one_error_line(capsys)
    assert f"screenshot {shot}" in line and "no space left on device" in line
    assert not shot.exists() and list(shot.parent.iterdir()) == []


def test_a_background_file_that_goes_away_while_the_window_runs_falls_back(qtbot, clip: Path, tmp_path: Path,
                                                                           make_window, store: SettingsStore) -> None:
    """Chosen while it was there, deleted before a cutout needed it: one message, blur, frames go on."""
    import cv2

    picture = tmp_path / "beach.png"
    cv2.imwrite(str(picture), np.full((48, 64, 3), 200, np.uint8))
    store.settings = {"background": "image", "background_path": str(picture)}
    window = make_window(source=str(clip), paced=False, mode="overlay")
    qtbot.waitUntil(lambda: window.frames_shown >= 2, timeout=30_000)
    assert window.panel.settings.render.background == "image"  # readable at start: kept
    picture.unlink()
    window.set_mode("cutout")
    qtbot.waitUntil(lambda: window.panel.settings.render.background == "blur", timeout=30_000)
    shown = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown >= shown + 3 and window._info.mode == "cutout", timeout=30_000)
    assert f"background image {picture} is gone" in window.statusBar().currentMessage()
    assert "processing failed" not in window.last_error
