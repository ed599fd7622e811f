"""Whole-process race: `silhouette-cam process` (600 frames of 720p to a silhouette MP4; default
refinement and --raw) against bench/mediapipe_process.py (MediaPipe 0.10.14 in its own venv), each
run as a fresh process, alternating, N runs each. Prints per job the median / p90 wall time, the
speed against MediaPipe (its median wall / ours: > 1 is faster), peak RSS and the time from start to
the first processed frame.

    python bench/bench_process.py [--video /work/wt/clip720_600.mp4] [--runs 3] [--frames 600]
                                  [--mediapipe-python VENV/bin/python]

The clip: any 720p video; without one, make it from the shared DAVIS clip (stretched to 1280x720,
played forth and back to 600 frames) with `--make-video PATH` (evaluation data: keep it out of the
repository). The machine may be loaded by other work: only the ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = REPO.parent / "clip720_600.mp4"
DAVIS = REPO.parent / "shared" / "data" / "davis" / "videos" / "dance-twirl.mp4"

# Runs the CLI in this process, noting when the first frame has been rendered (the renderer is what
# every mode goes through) and printing it on exit.
OURS = """
import atexit, sys, time
START = time.perf_counter()
from silhouette_cam.render import renderer
first = []
render = renderer.FrameRenderer.render
def timed_render(self, *args, **kwargs):
    out = render(self, *args, **kwargs)
    if not first:
        first.append(time.perf_counter() - START)
    return out
renderer.FrameRenderer.render = timed_render
atexit.register(lambda: print(f"first_frame_s {first[0] if first else float('nan'):.3f}", flush=True))
from silhouette_cam.cli import main
sys.exit(main(sys.argv[1:]))
"""


def make_video(path: Path, frames: int) -> None:
    """DAVIS dance-twirl stretched to 1280x720, forth and back to `frames` frames, H.264 at 30 FPS."""
    import av
    import cv2

    with av.open(str(DAVIS)) as container:
        clip = [cv2.resize(f.to_ndarray(format="bgr24"), (1280, 720), interpolation=cv2.INTER_LINEAR)
                for f in container.decode(video=0)]
    sequence: list[np.ndarray] = []
    while len(sequence) < frames:
        sequence += clip + clip[-2:0:-1]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"crf": "20", "preset": "fast"}
        for image in sequence[:frames]:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())


def run_once(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run a command to completion -> wall_s, peak_rss_mb (its own, from wait4), first_frame_s."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read().decode(), stderr.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} ... failed ({process.returncode}): {err[-2000:]}")
    first = float("nan")
    for line in out.splitlines():
        if line.startswith("first_frame_s "):
            first = float(line.split()[1])
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "first_frame_s": first}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--make-video", type=Path, default=None, help="write the DAVIS-based test clip here first")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mediapipe-python", default="",
                        help="a python with mediapipe==0.10.14 (a separate venv); without it: ours only")
    args = parser.parse_args(argv)
    video = args.video
    if args.make_video is not None:
        make_video(args.make_video, args.frames)
        video = args.make_video
    if not video.is_file():
        raise SystemExit(f"no video {video}: pass --video, or --make-video PATH to make one from DAVIS")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        common = ["process", str(video), "--mode", "silhouette", "--quiet", "--max-frames", str(args.frames)]
        jobs = {
            "ours default": [sys.executable, "-c", OURS, *common, "-o", f"{tmp}/ours.mp4"],
            "ours --raw": [sys.executable, "-c", OURS, *common, "--raw", "-o", f"{tmp}/raw.mp4"],
        }
        if args.mediapipe_python and Path(args.mediapipe_python).is_file():
            jobs["mediapipe script"] = [args.mediapipe_python, str(REPO / "bench" / "mediapipe_process.py"),
                                        str(video), f"{tmp}/mp.mp4", "--max-frames", str(args.frames)]
        else:
            print(f"(no MediaPipe python at {args.mediapipe_python}: ours only)")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in jobs}
        for _ in range(args.runs):  # alternate: load from other work hits every job alike
            for name, command in jobs.items():
                results[name].append(run_once(command, env))
    print(f"{args.frames} frames of {video} -> silhouette MP4, {args.runs} runs each, {os.cpu_count()} cores")
    print(f"{'job':17s} {'wall s median':>13s} {'p90':>6s} {'vs MediaPipe':>12s} {'peak RSS MB':>11s} "
          f"{'first frame s':>13s}")
    reference = statistics.median(r["wall_s"] for r in results.get("mediapipe script", [])) \
        if "mediapipe script" in results else None
    for name, runs in results.items():
        walls = [r["wall_s"] for r in runs]
        wall = statistics.median(walls)
        ratio = f"{reference / wall:11.2f}x" if reference else f"{'-':>12s}"
        print(f"{name:17s} {wall:13.2f} {float(np.percentile(walls, 90)):6.2f} {ratio} "
              f"{statistics.median(r['peak_rss_mb'] for r in runs):11.0f} "
              f"{statistics.median(r['first_frame_s'] for r in runs):13.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
