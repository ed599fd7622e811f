"""Tests for silhouette_cam.sinks: codecs, source timestamps, alpha, PNG sequence, snapshots, and a
real `kill -9` during a recording."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import av
import cv2
import numpy as np
import pytest

from silhouette_cam.sinks import PngSequenceWriter, VideoRecorder, save_snapshot
from tests.fixtures.video import decode


def striped(i: int, channels: int = 3) -> np.ndarray:
    image = np.zeros((48, 64, channels), np.uint8)
    image[:, (i * 4) % 64:(i * 4) % 64 + 8, :3] = 255
    if channels == 4:
        image[..., 3] = 255
        image[:, :16, 3] = 0
    return image


@pytest.mark.parametrize("name", ["out.mp4", "out.mkv"])
def test_h264_keeps_source_timestamps_even_when_uneven(tmp_path, name):
    stamps = [0.0, 0.04, 0.08, 0.2, 0.24, 0.5]  # uneven: a slow stretch must stay slow in the video
    with VideoRecorder(tmp_path / name, fps=25, size=(64, 48)) as recorder:
        for i, ts in enumerate(stamps):
            recorder.write(striped(i), ts)
    assert recorder.codec == "libx264" and recorder.frames_written == 6
    frames = decode(tmp_path / name)
    assert len(frames) == 6
    times = np.array([t for _, t in frames])
    np.testing.assert_allclose(times - times[0], np.array(stamps) - stamps[0], atol=0.002)


@pytest.mark.parametrize("name", ["alpha.webm", "alpha.mov", "alpha.mkv"])
def test_alpha_video_keeps_transparency(tmp_path, name):
    with VideoRecorder(tmp_path / name, fps=10, size=(64, 48), alpha=True) as recorder:
        for i in range(3):
            recorder.write(striped(i, 4), i / 10)
    if name.endswith(".webm"):  # FFmpeg's native VP9 decoder drops alpha; libvpx keeps it
        with av.open(str(tmp_path / name)) as container:
            assert container.streams.video[0].metadata.get("alpha_mode") == "1"
        return
    image, _ = decode(tmp_path / name)[0]
    assert image[10, 5, 3] < 10 and image[10, 40, 3] > 245


def test_bad_recording_arguments(tmp_path):
    with pytest.raises(ValueError, match="out.avi"):
        VideoRecorder(tmp_path / "out.avi", fps=25, size=(64, 48))
    with pytest.raises(ValueError, match="fps"):
        VideoRecorder(tmp_path / "out.mp4", fps=0, size=(64, 48))
    with VideoRecorder(tmp_path / "out.mp4", fps=25, size=(64, 48)) as recorder:
        with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
            recorder.write(np.zeros((48, 64), np.uint8), 0.0)


def test_png_sequence_and_snapshot(tmp_path):
    with PngSequenceWriter(tmp_path / "seq") as writer:
        for i in range(3):
            writer.write(striped(i, 4))
    names = sorted(p.name for p in (tmp_path / "seq").iterdir())
    assert names == ["000000.png", "000001.png", "000002.png"]
    back = cv2.imread(str(tmp_path / "seq" / "000001.png"), cv2.IMREAD_UNCHANGED)
    assert back.shape == (48, 64, 4) and back[0, 0, 3] == 0
    path = save_snapshot(tmp_path / "snap.png", striped(0))
    assert cv2.imread(str(path)).shape == (48, 64, 3)
    with pytest.raises(ValueError, match="snap.jpg"):
        save_snapshot(tmp_path / "snap.jpg", striped(0))


def test_png_folder_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match="file"):
        PngSequenceWriter(blocker)
    with pytest.raises(OSError, match="sub"):
        PngSequenceWriter(blocker / "sub")


CHILD = textwrap.dedent("""
    import sys
    import cv2
    import numpy as np
    from silhouette_cam.sinks import VideoRecorder
    path, content = sys.argv[1:]
    recorder = VideoRecorder(path, fps=25, size=(320, 240))
    rng = np.random.default_rng(0)
    i = 0
    while True:
        if content == "noise":  # a high bitrate
            image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
        else:  # a silhouette: two flat colors, a few hundred bytes a frame
            image = np.full((240, 320, 3), 30, np.uint8)
            cv2.circle(image, (40 + 2 * i % 240, 120), 40, (250, 250, 250), -1)
        recorder.write(image, i / 25)
        print(i, flush=True)
        i += 1
""")


@pytest.mark.slow
@pytest.mark.parametrize("content", ["noise", "silhouette"])
@pytest.mark.parametrize("name", ["killed.mp4", "killed.mkv", "killed.webm"])
def test_recording_survives_kill_9(tmp_path, name, content):
    """A high and a very low bitrate: the low one once sat whole in the muxer's write buffer."""
    path = tmp_path / name
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), content], stdout=subprocess.PIPE, text=True)
    try:
        written = -1
        for line in child.stdout:  # wait on the child's own progress reports, not on a clock
            written = int(line)
            if written >= 149:  # 6 s of video at 25 fps
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert written >= 149
    frames = decode(path)
    lost_s = (written + 1 - len(frames)) / 25
    print(f"{name}: {len(frames)} of {written + 1} frames survived kill -9")
    assert lost_s <= 2.0, f"{len(frames)} of {written + 1} frames survived ({lost_s:.2f} s lost)"
    times = [t for _, t in frames]
    assert times[-1] - times[0] == pytest.approx((len(frames) - 1) / 25, abs=0.05)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) to simulate a full disk")
def test_full_disk_is_a_one_line_oserror_naming_the_file(tmp_path):
    target = tmp_path / "full.mp4"
    target.symlink_to("/dev/full")
    rng = np.random.default_rng(0)
    recorder = VideoRecorder(target, fps=25, size=(160, 120))
    with pytest.raises(OSError, match="full.mp4.*[Nn]o space left"):
        for i in range(100):
            recorder.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), i / 25)
    recorder.close()  # closing after the failure does not raise


def test_a_file_where_the_recording_folder_should_be_is_named(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    with pytest.raises(OSError, match=r"notes.txt is a file, not a folder"):
        VideoRecorder(blocker / "sub" / "out.mp4", fps=30, size=(64, 48))
    assert blocker.read_text() == "mine"
