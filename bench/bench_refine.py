"""The refine stage at 720p, sub-stage by sub-stage: the frozen pre-issue-15 implementation
(tests/fixtures/refine_reference) beside the current one, alternating frame by frame in one run, on
a real clip. Also how far apart their masks are (mean |diff|, IoU of mask > 0.5).

    python bench/bench_refine.py [--video /work/wt/clip720_600.mp4] [--frames 200] [--cv-threads N]

"refine" is the pipeline's stage: the analysis thread's part (downscale .. guide stats) plus the
full-resolution step (coefficients .. upsample); wall ms and the process's CPU ms (all threads:
OpenCV's own worker threads burn CPU on small images that wall time does not show). The network
runs in ONNX Runtime with one thread (no spinning pool to pollute the CPU time); it is not timed.
Without --video the DAVIS clip in the shared data is stretched to 1280x720.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from silhouette_cam.fps import StageTimer  # noqa: E402
from silhouette_cam.refine import MaskRefiner, RefineSettings  # noqa: E402
from silhouette_cam.segmenter import PersonSegmenter  # noqa: E402
from silhouette_cam.threads import apply_thread_policy  # noqa: E402
from tests.fixtures import refine_reference  # noqa: E402

DAVIS = REPO.parent / "shared" / "data" / "davis" / "videos" / "dance-twirl.mp4"
SUB_STAGES = ("downscale", "composite", "track", "temporal", "guide stats", "coefficients", "guide blur",
              "upsample")


def load_frames(video: Path | None, count: int) -> list[np.ndarray]:
    """`count` frames [720, 1280, 3] uint8 BGR: the video's, or DAVIS dance-twirl's stretched and
    played forth and back."""
    path = video or DAVIS
    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(cv2.resize(frame.to_ndarray(format="bgr24"), (1280, 720), interpolation=cv2.INTER_LINEAR))
            if len(frames) >= count:
                return frames
    while len(frames) < count:
        frames += frames[-2:0:-1]
    return frames[:count]


class WallAndCpuTimer:
    """StageTimer's `stage(name)` for the refiners' sub-stages, recording wall and CPU ms."""

    def __init__(self) -> None:
        self.wall, self.cpu = StageTimer(window=100_000), StageTimer(window=100_000, clock=time.process_time)

    @contextmanager
    def stage(self, name: str):
        with self.wall.stage(name), self.cpu.stage(name):
            yield


class CpuTimedSegmenter:
    """Passes segment_lowres / segment through, adding up the CPU time they take (so the bench can
    count the analysis's CPU without the network's)."""

    def __init__(self, segmenter) -> None:
        self._segmenter = segmenter
        self.cpu_s = 0.0

    def segment_lowres(self, frame):
        start = time.process_time()
        try:
            return self._segmenter.segment_lowres(frame)
        finally:
            self.cpu_s += time.process_time() - start

    def segment(self, frame):
        return self._segmenter.segment(frame)


class Side:
    """One implementation: its refiner, its sub-stage timer, the stage's wall and CPU ms per frame."""

    def __init__(self, name: str, refiner, settings) -> None:
        self.name, self.refiner, self.settings = name, refiner, settings
        self.clear()

    def clear(self) -> None:
        self.profile = WallAndCpuTimer()
        self.refiner.profile = self.refiner._edges.profile = self.profile
        self.refine_ms: list[float] = []
        self.cpu_ms: list[float] = []

    def run(self, segmenter: CpuTimedSegmenter, frame: np.ndarray) -> np.ndarray:
        timer = StageTimer(window=1)
        segmenter.cpu_s = 0.0
        cpu = time.process_time()
        grid_mask = self.refiner.analyze(segmenter, frame, self.settings, timer)
        start = time.perf_counter()
        mask = grid_mask.finish(self.refiner._edges, frame)
        self.refine_ms.append(timer.median_ms("refine") + (time.perf_counter() - start) * 1000)
        self.cpu_ms.append((time.process_time() - cpu - segmenter.cpu_s) * 1000)
        return mask


def row(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:14s} {'-':>8s} {'-':>8s}"
    return f"{label:14s} {np.median(values):8.2f} {np.percentile(values, 90):8.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--cv-threads", type=int, default=None,
                        help="cv2.setNumThreads (default: silhouette_cam.threads' policy, as the app)")
    args = parser.parse_args(argv)
    apply_thread_policy()
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    frames = load_frames(args.video, args.frames + args.warmup)
    segmenter = CpuTimedSegmenter(PersonSegmenter(device="cpu", threads=1))
    before = Side("before", refine_reference.MaskRefiner(), refine_reference.RefineSettings())
    after = Side("after", MaskRefiner(), RefineSettings())
    diffs, ious, worst = [], [], []
    for i, frame in enumerate(frames):
        if i == args.warmup:
            before.clear()
            after.clear()
        # Alternate which runs first, so neither always finds the caches warm.
        masks = {side.name: side.run(segmenter, frame) for side in ((before, after) if i % 2 else (after, before))}
        if i >= args.warmup:
            a, b = masks["before"] > 0.5, masks["after"] > 0.5
            diff = np.abs(masks["before"] - masks["after"])
            diffs.append(float(diff.mean()))
            worst.append(float(diff.max()))
            ious.append(float((a & b).sum() / max(1, (a | b).sum())))
    source = args.video or f"{DAVIS} stretched"
    print(f"refine at 1280x720, {args.frames} frames of {source}, OpenCV threads={cv2.getNumThreads()}")
    print(f"{'':14s} {'wall: before':>17s} {'after':>17s} {'CPU: before':>17s} {'after':>17s}")
    print(f"{'ms':14s}" + f" {'median':>8s} {'p90':>8s}" * 4)
    names = [*SUB_STAGES, *sorted(set(after.profile.wall.stages) - set(SUB_STAGES))]
    for name in names:
        cells = [row(name, list(timer._samples.get(name, ())))[14:]
                 for timer in (before.profile.wall, after.profile.wall, before.profile.cpu, after.profile.cpu)]
        print(f"{name:14s}{''.join(cells)}")
    print(f"{'refine stage':14s}{row('', before.refine_ms)[14:]}{row('', after.refine_ms)[14:]}"
          f"{row('', before.cpu_ms)[14:]}{row('', after.cpu_ms)[14:]}")
    print(f"masks after vs before: mean |diff| {np.mean(diffs):.2e} (worst frame {np.max(diffs):.2e}), "
          f"max |diff| {np.max(worst):.2e}, IoU(>0.5) mean {np.mean(ious):.5f} (worst frame {np.min(ious):.5f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
