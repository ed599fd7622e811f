"""Live-pipeline speed at 1280x720 with refinement on: FPS per rendering mode, threaded (PipelineRunner)
and single-threaded, beside MediaPipe's legacy selfie solution in one run: "same job" (its masks
through the same refinement and compositing) and "bare" (its masks + the same compositing only).

    python bench/bench_pipeline.py [--frames 300] [--device cpu] [--mediapipe-python /path/to/python]
                                   [--camera-rate 30 [--reference] [--skip-fps] [--thread-policies cv1 cv-default ...]]
                                   [--cv-threads N]

Frames are the bundled demo clip upscaled to 1280x720 and held in memory (a camera delivers decoded
frames; decoding a file is measured by `process`). Prints median / p90 ms per frame and FPS.
MediaPipe is optional: it is imported here, or run in a side process with --mediapipe-python.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import MemorySource, demo_frames  # noqa: E402

from silhouette_cam.render import FrameRenderer, RenderSettings  # noqa: E402

JOBS = {  # name -> RenderSettings fields
    "overlay": {"mode": "overlay"},
    "silhouette": {"mode": "silhouette"},
    "cutout color": {"mode": "cutout", "background": "color"},
    "cutout blur": {"mode": "cutout", "background": "blur"},
}
SIZE = (1280, 720)


class CameraRateSource(MemorySource):
    """MemorySource that hands frames out no faster than a camera delivers them (`read()` waits for
    the next frame's time, as a camera's read blocks), to measure CPU use at the camera's rate."""

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0) -> None:
        super().__init__(frames, fps)
        self._start: float | None = None

    def read(self):
        if self._start is None:
            self._start = time.perf_counter()
        wait_s = self._start + self.i / self.fps - time.perf_counter()
        if wait_s > 0:
            time.sleep(wait_s)
        return super().read()


def summarize(intervals_s: list[float]) -> dict[str, float]:
    ms = np.array(intervals_s) * 1000
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "fps": float(1000 / np.mean(ms))}


def bench_ours(frames, job: dict, threaded: bool, device: str, warmup: int = 20, threads: int | None = None,
               refine: dict | None = None) -> dict[str, float]:
    from silhouette_cam.pipeline import FramePipeline, PipelineSettings
    from silhouette_cam.pipeline_runner import PipelineRunner
    from silhouette_cam.segmenter import PersonSegmenter

    segmenter = PersonSegmenter(device=device, threads=threads)
    pipe = FramePipeline(segmenter, PipelineSettings().replace(**job, **(refine or {})))
    stamps = []
    if threaded:
        with PipelineRunner(pipe, MemorySource(frames)) as runner:
            for _ in runner:
                stamps.append(time.perf_counter())
    else:
        for i, frame in enumerate(frames):
            pipe.process(frame, timestamp_s=i / 30)
            stamps.append(time.perf_counter())
    stages = pipe.stats.stage_ms
    result = summarize(np.diff(stamps[warmup:]).tolist())
    result.update({f"{k}_ms": v for k, v in stages.items()})
    return result


POLICIES = {  # --thread-policies name -> ThreadPolicy fields (cv_threads 0: OpenCV's default, a thread per core)
    "cv1": {"cv_threads": 1},
    "cv-default": {"cv_threads": os.cpu_count() or 1},
    "cv1 ort2": {"cv_threads": 1, "onnx_intra_op": 2},
    "cv1 ort2 spin": {"cv_threads": 1, "onnx_intra_op": 2, "onnx_spinning": True},
}


def use_thread_policy(name: str) -> None:
    """Make POLICIES[name] the process's policy: OpenCV's pool now, ONNX sessions opened from now on."""
    from silhouette_cam import threads

    threads.THREAD_POLICY = threads.ThreadPolicy(**POLICIES[name])
    threads.apply_thread_policy(threads.THREAD_POLICY)


def bench_cpu_at_camera_rate(frames, job: dict, device: str, fps: float = 30.0, warmup: int = 20,
                             reference: bool = False) -> dict[str, float]:
    """The threaded runner fed at a camera's `fps` (live: a frame that arrives while the previous one
    is still in work replaces it, as in the app): this process's CPU time per shown frame, and in
    percent of one core. reference: refine with the frozen pre-issue-15 implementation
    (tests/fixtures/refine_reference) instead, the rest unchanged, for a before/after in one run."""
    from silhouette_cam.pipeline import FramePipeline, PipelineSettings
    from silhouette_cam.pipeline_runner import PipelineRunner
    from silhouette_cam.segmenter import PersonSegmenter

    pipe = FramePipeline(PersonSegmenter(device=device, threads=None), PipelineSettings().replace(**job))
    if reference:  # the pipeline's own refiners, swapped (same interface: analyze / finish)
        from tests.fixtures import refine_reference

        pipe._refiner, pipe._edges = refine_reference.MaskRefiner(), refine_reference.EdgeRefiner()
    cpu_s, wall_s = [], []
    with PipelineRunner(pipe, CameraRateSource(frames, fps), live=True) as runner:
        for _ in runner:
            cpu_s.append(time.process_time())
            wall_s.append(time.perf_counter())
    cpu_ms = np.diff(cpu_s[warmup:]) * 1000
    busy = (cpu_s[-1] - cpu_s[warmup]) / (wall_s[-1] - wall_s[warmup])
    return {"cpu_median_ms": float(np.median(cpu_ms)), "cpu_p90_ms": float(np.percentile(cpu_ms, 90)),
            "core_percent": 100 * busy, "shown_fps": (len(wall_s) - 1 - warmup) / (wall_s[-1] - wall_s[warmup])}


class MediaPipeSegmenter:
    """MediaPipe's legacy selfie solution behind the segmenter interface FramePipeline uses, so the
    same refinement (tracking crops, temporal smoothing, guided filter) and compositing run on its
    masks. Its masks come at the input's size; the refiner resamples any size onto its grid."""

    def __init__(self, selfie) -> None:
        self.selfie = selfie

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        return self.selfie.process(rgb).segmentation_mask.astype(np.float32, copy=False)

    segment_lowres = segment


def bench_mediapipe(frames, job: dict, warmup: int = 20) -> dict[str, dict[str, float]]:
    """MediaPipe legacy SelfieSegmentation (landscape model for 16:9), one thread, as its synchronous
    `process()` is used: "same job" = + our refinement and compositing (FramePipeline.process);
    "bare" = + our compositing only, no refinement."""
    import mediapipe as mp

    from silhouette_cam.pipeline import FramePipeline, PipelineSettings

    results = {}
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1) as selfie:
        segmenter = MediaPipeSegmenter(selfie)
        pipe = FramePipeline(segmenter, PipelineSettings().replace(**job))
        stamps = []
        for i, frame in enumerate(frames):
            pipe.process(frame, timestamp_s=i / 30)
            stamps.append(time.perf_counter())
        results["same job"] = summarize(np.diff(stamps[warmup:]).tolist())
        renderer, settings = FrameRenderer(), RenderSettings(**job)
        stamps = []
        for frame in frames:
            renderer.render(frame, segmenter.segment(frame), settings)
            stamps.append(time.perf_counter())
        results["bare"] = summarize(np.diff(stamps[warmup:]).tolist())
    return results


def mediapipe_side_process(python: str, count: int, jobs: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    code = (f"import json,sys; sys.argv=['x']; sys.path.insert(0, {str(REPO / 'bench')!r}); "
            f"import bench_pipeline as b; fr=b.demo_frames({count}, b.SIZE); "
            f"print(json.dumps({{n: b.bench_mediapipe(fr, b.JOBS[n]) for n in {jobs!r}}}))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mediapipe-python", default=None, help="a python with mediapipe installed")
    parser.add_argument("--jobs", nargs="*", default=list(JOBS))
    parser.add_argument("--torch-threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--gray-guide", action="store_true", help="the cheaper grayscale guided filter")
    parser.add_argument("--single", action="store_true", help="also run the single-threaded pipeline")
    parser.add_argument("--camera-rate", type=float, default=None, metavar="FPS",
                        help="also feed each job at a camera's FPS and print the CPU it takes")
    parser.add_argument("--reference", action="store_true",
                        help="with --camera-rate: also the frozen pre-issue-15 refinement, alternating")
    parser.add_argument("--skip-fps", action="store_true", help="only the --camera-rate table")
    parser.add_argument("--cv-threads", type=int, default=None,
                        help="cv2.setNumThreads before running (default: silhouette_cam.threads' policy)")
    parser.add_argument("--thread-policies", nargs="*", default=None, choices=list(POLICIES),
                        help="with --camera-rate: run each job under each of these thread policies, alternating")
    args = parser.parse_args(argv)
    from silhouette_cam.threads import apply_thread_policy

    apply_thread_policy()  # as the app does at start-up
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    frames = demo_frames(args.frames, SIZE)
    mediapipe: dict[str, dict[str, dict[str, float]]] = {}
    if importlib.util.find_spec("mediapipe") is not None:
        mediapipe = {name: bench_mediapipe(frames, JOBS[name]) for name in args.jobs}
    elif args.mediapipe_python:
        mediapipe = mediapipe_side_process(args.mediapipe_python, args.frames, args.jobs)
    print(f"1280x720, {args.frames} frames, device={args.device}, torch threads={args.torch_threads or 'default'}, "
          f"OpenCV threads={cv2.getNumThreads()}, "
          f"refinement on ({'gray guide' if args.gray_guide else 'defaults'})")
    print(f"{'job':14s} {'runner':15s} {'median ms':>9s} {'p90 ms':>7s} {'FPS':>6s}  stages (median ms)")
    for name in [] if args.skip_fps else args.jobs:
        ours_fps = 0.0
        for threaded in (True, False) if args.single else (True,):
            refine = {"edge_guide": "gray"} if args.gray_guide else {}
            r = bench_ours(frames, JOBS[name], threaded, args.device, threads=args.torch_threads, refine=refine)
            ours_fps = ours_fps or r["fps"]
            stages = " ".join(f"{k[:-3]} {v:.1f}" for k, v in r.items() if k.endswith("_ms")
                              and k not in ("median_ms", "p90_ms"))
            print(f"{name:14s} {'ours ' + ('threaded' if threaded else 'single'):15s} {r['median_ms']:9.2f} "
                  f"{r['p90_ms']:7.2f} {r['fps']:6.1f}  {stages}", flush=True)
        for kind, m in mediapipe.get(name, {}).items():
            print(f"{name:14s} {'mediapipe ' + kind:15s} {m['median_ms']:9.2f} {m['p90_ms']:7.2f} {m['fps']:6.1f}"
                  f"  ours threaded = {ours_fps / m['fps']:.2f}x", flush=True)
    if args.camera_rate:
        print(f"\nCPU at a camera's {args.camera_rate:g} FPS (threaded, live; this process, all threads; "
              f"{os.cpu_count()} cores)")
        print(f"{'job':14s} {'refinement':10s} {'threads':14s} {'shown FPS':>9s} {'% of a core':>11s} "
              f"{'CPU ms/frame median':>19s} {'p90':>6s}")
        policies = args.thread_policies or [None]
        for name in args.jobs:
            for reference in (True, False) if args.reference else (False,):
                for policy in policies:
                    if policy is not None:
                        use_thread_policy(policy)
                    r = bench_cpu_at_camera_rate(frames, JOBS[name], args.device, args.camera_rate,
                                                 reference=reference)
                    print(f"{name:14s} {'before' if reference else 'current':10s} {policy or 'policy':14s} "
                          f"{r['shown_fps']:9.1f} {r['core_percent']:11.0f} {r['cpu_median_ms']:19.1f} "
                          f"{r['cpu_p90_ms']:6.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
