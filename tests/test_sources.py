"""Tests for silhouette_cam.sources: video file (timestamps, loop), image folder, demo clip, bad input."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from silhouette_cam.sources import (
    CameraSource,
    ImageFolderSource,
    VideoFileSource,
    demo_clip_path,
    list_cameras,
    open_camera_or_demo,
    open_source,
)


def write_video(path, frames: int = 6, fps: int = 10, size=(64, 48)):
    """A tiny H.264 video whose frame i has gray level 20 * i (so frames are identifiable)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            image = np.full((size[1], size[0], 3), 20 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_video_file_frames_timestamps_and_end(tmp_path):
    path = write_video(tmp_path / "v.mp4")
    with open_source(str(path)) as source:
        assert isinstance(source, VideoFileSource)
        assert source.size == (64, 48) and source.fps == pytest.approx(10)
        items = list(source)
    assert len(items) == 6
    frame, _ = items[3]
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert abs(int(frame.mean()) - 60) <= 3
    stamps = [ts for _, ts in items]
    assert stamps == pytest.approx([i / 10 for i in range(6)], abs=1e-6)


def test_video_loop_keeps_time_rising(tmp_path):
    path = write_video(tmp_path / "v.mp4", frames=3)
    with VideoFileSource(path, loop=True) as source:
        stamps = [source.read()[1] for _ in range(8)]
    assert stamps == pytest.approx([i / 10 for i in range(8)], abs=1e-6)


def test_image_folder_in_name_order(tmp_path):
    for i, level in enumerate((10, 200, 100)):
        cv2.imwrite(str(tmp_path / f"img_{i}.png"), np.full((20, 30, 3), level, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(str(tmp_path)) as source:
        assert isinstance(source, ImageFolderSource) and source.size == (30, 20)
        items = list(source)
    assert [int(f.mean()) for f, _ in items] == [10, 200, 100]
    assert [ts for _, ts in items] == pytest.approx([0, 1 / 30, 2 / 30])


def test_demo_clip_is_bundled_and_loops():
    assert demo_clip_path().is_file()
    assert (demo_clip_path().parent / "ATTRIBUTION.txt").is_file()
    with open_source("demo") as source:
        frame, _ = source.read()
        assert frame.ndim == 3 and source.size == (frame.shape[1], frame.shape[0])
        assert source.loop


def test_bad_inputs_name_the_thing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        open_source(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video")
    with pytest.raises(ValueError, match="junk.mp4"):
        open_source(str(junk))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no images"):
        open_source(str(empty))
    with pytest.raises(ValueError, match="single image"):
        cv2.imwrite(str(tmp_path / "one.png"), np.zeros((4, 4, 3), np.uint8))
        open_source(str(tmp_path / "one.png"))


def test_missing_camera_falls_back_to_demo_with_message(capfd):
    from silhouette_cam.opencv_log import quiet_opencv_log

    quiet_opencv_log()  # as the CLI and the window do at start-up (alone, this test used to fail)
    with pytest.raises(OSError, match="camera"):
        CameraSource(97)
    source, message = open_camera_or_demo(97)
    with source:
        assert "97" in message and "demo" in message
        assert source.read() is not None
    assert isinstance(list_cameras(), list)
    assert "WARN" not in capfd.readouterr().err  # our one line, not OpenCV's per-backend warnings too


def test_camera_label_shows_resolution_and_frame_rate():
    from silhouette_cam.sources import camera_label

    assert camera_label("/dev/video0", 1280, 720, 30.0) == "/dev/video0 (1280x720 @ 30 fps)"
    assert camera_label(1, 640, 480, 29.97) == "1 (640x480 @ 29.97 fps)"
    assert camera_label(0, 640, 480, 0.0) == "0 (640x480)"  # driver reports no rate: say nothing false
