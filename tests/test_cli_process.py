"""End-to-end tests of `silhouette-cam process` (the real segmenter on real clips) and its bad input."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest

from silhouette_cam.cli import main
from silhouette_cam.sources import demo_clip_path
from tests.fixtures.video import decode


def count_frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_process_demo_clip_to_h264_with_summary(tmp_path, capsys):
    out = tmp_path / "overlay.mp4"
    assert main(["process", str(demo_clip_path()), "-o", str(out), "--quiet", "--device", "cpu"]) == 0
    summary = capsys.readouterr().out
    assert "62 frames" in summary and "libx264" in summary and "FPS" in summary and "CPU" in summary
    assert count_frames(out) == 62


def test_process_cutout_to_rgba_png_sequence(tmp_path):
    out = tmp_path / "pngs"
    code = main(["process", str(demo_clip_path()), "-o", str(out), "--mode", "cutout", "--quiet",
                 "--max-frames", "5", "--device", "cpu"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:06d}.png" for i in range(5)]
    rgba = cv2.imread(str(out / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (270, 480, 4)
    assert rgba[..., 3].max() == 255 and rgba[..., 3].min() == 0  # a person and a transparent background


@pytest.mark.parametrize(("args", "message"), [
    (["--background", "fog"], "background 'fog'"),
    (["--background", "missing.png"], "missing.png"),
    (["--max-frames", "-3"], "--max-frames must be >= 1, got -3"),
])
def test_bad_options_are_one_line_errors_with_exit_2(tmp_path, capsys, args, message):
    code = main(["process", str(demo_clip_path()), "-o", str(tmp_path / "o.mp4"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unreadable_input_and_unwritable_output(tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    assert main(["process", str(junk), "-o", str(tmp_path / "o.mp4"), "--quiet"]) == 2
    assert "junk.mp4" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["process", str(demo_clip_path()), "-o", str(blocker / "pngs"), "--quiet"]) == 2
    assert "pngs" in capsys.readouterr().err


def _file_size_limit(limit_bytes: int):
    """For a child process: writes past `limit_bytes` fail (EFBIG) as they would on a full disk,
    instead of the default SIGXFSZ killing the process."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.slow
def test_disk_filling_mid_recording_is_one_line_exit_2_and_keeps_what_was_written(tmp_path):
    out = tmp_path / "half.mp4"  # the whole clip is ~230 kB: the "disk" fills half way
    cli = "import sys; from silhouette_cam.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", cli, "process", str(demo_clip_path()), "-o", str(out),
                             "--quiet", "--device", "cpu"],
                            capture_output=True, text=True, preexec_fn=_file_size_limit(120_000), timeout=300)
    err = result.stderr.strip()
    assert result.returncode == 2, err
    assert len(err.splitlines()) == 1 and "half.mp4" in err and "Traceback" not in err, err
    frames = decode(out)
    times = [t for _, t in frames]
    assert 24 <= len(frames) < 62, f"{len(frames)} of 62 frames kept"  # at least 2 s of the 5 s clip
    assert times == sorted(times) and times[0] == 0


@pytest.mark.slow
def test_davis_quality_bar_via_process_mask_pngs(tmp_path, shared_data):
    """Issue bar: dance-twirl through `process --mode mask` to PNGs: IoU >= 0.75, boundary F >= 0.55."""
    from silhouette_cam.metrics import boundary_f, confusion_matrix, iou_per_class

    out = tmp_path / "masks"
    video = shared_data / "davis" / "videos" / "dance-twirl.mp4"
    assert main(["process", str(video), "-o", str(out), "--mode", "mask", "--quiet", "--device", "cpu"]) == 0
    ious, bfs = [], []
    for i, path in enumerate(sorted(out.glob("*.png"))):
        pred = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 127
        gt = cv2.imread(str(shared_data / "davis" / "masks" / "dance-twirl" / f"{i:05d}.png"),
                        cv2.IMREAD_GRAYSCALE) > 127
        ious.append(iou_per_class(confusion_matrix(pred.astype(np.uint8), gt.astype(np.uint8), 2))[1])
        bfs.append(boundary_f(pred, gt, 3))
    assert len(ious) == 90
    assert np.mean(ious) >= 0.75 and np.mean(bfs) >= 0.55, (np.mean(ious), np.mean(bfs))
