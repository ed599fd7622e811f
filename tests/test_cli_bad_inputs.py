"""Issue 14 through the real entry points: nothing overwritten, odd names, huge/tiny/truncated/mixed files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest

from silhouette_cam.cli import main
from silhouette_cam.image_files import read_image, write_image
from tests.conftest import FIXTURES, REPO_ROOT
from tests.media_makers import audio_only, png_with_header, truncated_copy, video_with_size_change, write_video

ASTRONAUT = FIXTURES / "golden" / "inputs" / "astronaut.jpg"
ODD = os.fsdecode(b"r\xe9sum\xe9 \xff")  # not valid UTF-8: cv2.imread/imwrite crashed on such names


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    """The CLI in a child process: a crash shows as a negative return code instead of ending the tests."""
    return subprocess.run([sys.executable, str(REPO_ROOT / "main.py"), *argv], capture_output=True, text=True,
                          errors="backslashreplace", timeout=300)


def one_line_errors(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.strip() and "%|" not in line]
    assert "Traceback" not in stderr
    assert all(line.startswith("silhouette-cam") for line in lines), lines
    return lines


def test_process_output_equal_to_input_is_refused_and_the_input_kept(tmp_path, capsys):
    clip = write_video(tmp_path / "clip.mp4", [(64, 48)] * 12)
    before = clip.read_bytes()
    for output in (clip, tmp_path / "." / "clip.mp4"):
        assert main(["process", str(clip), "-o", str(output), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "is the input" in err and "would be overwritten" in err and len(err.strip().splitlines()) == 1
    assert clip.read_bytes() == before


def test_process_into_the_image_folder_it_reads_is_refused(tmp_path, capsys):
    frames = tmp_path / "frames"
    for index in range(3):
        write_image(frames / f"{index:06d}.png", np.full((32, 32, 3), index * 40, np.uint8))
    before = {p.name: p.read_bytes() for p in frames.iterdir()}
    assert main(["process", str(frames), "-o", str(frames), "--quiet"]) == 2
    assert "is the input folder" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == before


def test_segment_into_the_photo_folder_refuses_only_when_it_would_replace_photos(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(ASTRONAUT, photos / "a.png")
    before = (photos / "a.png").read_bytes()
    assert main(["segment", str(photos), "-o", str(photos), "--raw"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert (photos / "a.png").read_bytes() == before
    (photos / "a.png").unlink()
    shutil.copy(ASTRONAUT, photos / "b.jpg")
    assert main(["segment", str(photos), "-o", str(photos), "--raw", "--quiet"]) == 0  # b.png is new
    assert read_image(photos / "b.png").shape == read_image(photos / "b.jpg").shape


def test_segment_non_utf8_names_in_and_out(tmp_path):
    folder = tmp_path / ODD
    folder.mkdir()
    shutil.copy(ASTRONAUT, folder / f"{ODD}.jpg")
    result = run_cli("segment", os.fsdecode(folder), "-o", os.fsdecode(tmp_path / f"{ODD} masks"), "--raw")
    assert result.returncode == 0, result.stderr
    mask = read_image(tmp_path / f"{ODD} masks" / f"{ODD}.png")
    assert mask.shape[:2] == read_image(ASTRONAUT).shape[:2]


def test_process_non_utf8_image_folder_and_video_names(tmp_path):
    folder = tmp_path / f"{ODD} frames"
    for index in range(3):
        write_image(folder / f"{ODD}{index}.png", np.full((48, 64, 3), 90, np.uint8))
    video = os.fsdecode(tmp_path / f"{ODD}.mp4")
    result = run_cli("process", os.fsdecode(folder), "-o", video, "--quiet", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    result = run_cli("process", video, "-o", os.fsdecode(tmp_path / f"{ODD} again.mkv"), "--quiet")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / f"{ODD} again.mkv", "rb") as stream, av.open(stream) as container:
        assert len(list(container.decode(video=0))) == 3


def test_non_utf8_video_name_read_in_process(tmp_path):
    video = write_video(tmp_path / f"{ODD}.mp4", [(64, 48)] * 5)
    from silhouette_cam.sources import VideoFileSource

    with VideoFileSource(video) as source:
        assert len(list(source)) == 5


def test_huge_tiny_and_truncated_images_are_named_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ASTRONAUT, folder / "good.jpg")
    png_with_header(folder / "huge.png", 30000, 30000)
    write_image(folder / "tiny.png", np.zeros((8, 8, 3), np.uint8))
    truncated_copy(ASTRONAUT, folder / "cut.jpg", 0.2)
    result = run_cli("segment", str(folder), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    errors = one_line_errors(result.stderr)
    assert any("huge.png is 30000x30000" in e and "over the limit of 12.5 MP" in e for e in errors)
    assert any("tiny.png is 8x8, expected at least 16x16 pixels" in e for e in errors)
    assert any("cut.jpg is truncated or corrupt" in e for e in errors)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]
    assert "wrote 1 mask(s)" in result.stdout and "3 failed" in result.stdout


def test_audio_only_and_background_errors_say_what_they_are(tmp_path, capsys):
    sound = audio_only(tmp_path / "voice.m4a")
    assert main(["process", str(sound), "-o", str(tmp_path / "o.mp4"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"silhouette-cam process: error: {sound} has no video stream (expected a video file, e.g. .mp4, " \
                  ".mkv, .webm)"
    clip = write_video(tmp_path / "clip.mp4", [(64, 48)] * 4)
    assert main(["process", str(clip), "-o", str(tmp_path / "o.mp4"), "--mode", "cutout", "--background",
                 str(sound), "--quiet"]) == 2
    assert "background video cannot be used: " in capsys.readouterr().err
    assert main(["process", str(clip), "-o", str(tmp_path / "o.mp4"), "--mode", "cutout", "--background",
                 "color", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--background 'color' is not one of transparent, blur, a color (#rrggbb, r,g,b or a name) or an " \
           "existing image or video file" in err


def test_truncated_video_warns_with_both_counts_and_keeps_the_frames(tmp_path, capsys):
    whole = write_video(tmp_path / "whole.mp4", [(64, 48)] * 120, options={"movflags": "faststart"})
    cut = truncated_copy(whole, tmp_path / "cut.mp4", 0.3)
    assert main(["process", str(cut), "-o", str(tmp_path / "o.mp4"), "--quiet"]) == 0
    captured = capsys.readouterr()
    kept = int(captured.out.split(" frames")[0])
    assert 0 < kept < 120
    assert f"video {cut} ended after {kept} of the 120 frames its header lists" in captured.err


def test_resolution_change_mid_video_is_fitted_with_a_warning(tmp_path, capsys):
    video = video_with_size_change(tmp_path / "mixed.ts", (64, 48), (96, 48))
    out = tmp_path / "pngs"
    assert main(["process", str(video), "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"video {video}: frame 6 is 96x48, the first was 64x48" in err and "letterboxed" in err
    sizes = {cv2.imread(str(p)).shape for p in out.iterdir()}
    assert sizes == {(48, 64, 3)} and len(list(out.iterdir())) == 12
    assert main(["process", str(video), "-o", str(tmp_path / "o.mp4"), "--quiet"]) == 0
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert len(list(container.decode(video=0))) == 12


def test_image_folder_with_mixed_sizes_warns_naming_the_frame(tmp_path, capsys):
    folder = tmp_path / "frames"
    write_image(folder / "0.png", np.full((40, 80, 3), 200, np.uint8))
    write_image(folder / "1.png", np.full((40, 40, 3), 200, np.uint8))
    out = tmp_path / "o"
    assert main(["process", str(folder), "-o", str(out), "--quiet", "--mode", "mask"]) == 0
    assert f"image folder {folder}: frame 1 is 40x40, the first was 80x40" in capsys.readouterr().err
    assert {cv2.imread(str(p)).shape for p in out.iterdir()} == {(40, 80, 3)}


def test_recorded_timestamps_keep_the_source_time_base(tmp_path):
    source = write_video(tmp_path / "s24.mp4", [(64, 48)] * 48, codec="libx264")
    assert main(["process", str(source), "-o", str(tmp_path / "o.mp4"), "--quiet"]) == 0
    with av.open(str(tmp_path / "o.mp4")) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert times == pytest.approx([i / 24 for i in range(48)], abs=1e-9)


def test_segment_quiet_prints_no_progress(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(ASTRONAUT, folder / name)
    result = run_cli("segment", str(folder), "-o", str(tmp_path / "out"), "--raw", "--quiet")
    assert result.returncode == 0 and result.stderr == ""


def _file_size_limit(limit_bytes: int):
    """For a child process: writes past `limit_bytes` per file fail (EFBIG) as on a full disk."""
    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


def test_masks_that_cannot_be_written_are_errors_never_empty_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for index in range(4):  # noisy images: masks of different sizes, some over the limit
        size = 64 if index % 2 else 512
        write_image(folder / f"{index}.png", rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py"), "segment", str(folder), "-o", str(out),
                             "--raw", "--quiet"], capture_output=True, text=True, timeout=300,
                            preexec_fn=_file_size_limit(600))  # the 64x64 masks fit, the 512x512 do not
    errors = one_line_errors(result.stderr)
    written = sorted(out.iterdir())
    assert result.returncode == 2 and len(errors) == 4 - len(written) > 0
    assert all("cannot write mask" in e and "file too large" in e for e in errors), errors
    for path in written:  # what was counted as written is whole
        assert read_image(path).shape[0] in (64, 512)
    assert f"wrote {len(written)} mask(s)" in result.stdout
