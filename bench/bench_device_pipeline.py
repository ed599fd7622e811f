"""Whole-pipeline speed with make_pipeline (DevicePipeline on CUDA, FramePipeline on the CPU), refinement on.

    python bench/bench_device_pipeline.py [--device cuda] [--frames 300] [--size 1920x1080]

Per rendering mode: frames per second single-threaded (`process`) and threaded (PipelineRunner,
analysis and rendering on two threads; needs PyAV for silhouette_cam.sources), median / p90 ms per
frame, this process's CPU time per frame, and the pipeline's median stage times (CUDA events on
CUDA). Frames are the bundled demo clip resized and held in memory. Bars (issue #12, one H100/H200,
1920x1080): >= 400 FPS overlay, silhouette and cutout color, >= 250 FPS cutout blur, CPU time
per frame <= 3 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from common import MemorySource, demo_frames  # noqa: E402

from silhouette_cam.device import make_pipeline  # noqa: E402
from silhouette_cam.pipeline import PipelineSettings  # noqa: E402
from silhouette_cam.segmenter import PersonSegmenter  # noqa: E402

JOBS = {"overlay": {"mode": "overlay"}, "silhouette": {"mode": "silhouette"},
        "cutout color": {"mode": "cutout", "background": "color"},
        "cutout blur": {"mode": "cutout", "background": "blur"}}
WARMUP = 20


def run_job(segmenter, frames, job: dict, threaded: bool) -> dict:
    pipeline = make_pipeline(segmenter, PipelineSettings().replace(**job))
    stamps, cpu_start = [], None
    if threaded:
        from silhouette_cam.pipeline_runner import PipelineRunner

        with PipelineRunner(pipeline, MemorySource(frames)) as runner:
            for index, _ in enumerate(runner):
                stamps.append(time.perf_counter())
                if index == WARMUP:
                    cpu_start = time.process_time()
    else:
        for index, frame in enumerate(frames):
            pipeline.process(frame, timestamp_s=index / 30)
            stamps.append(time.perf_counter())
            if index == WARMUP:
                cpu_start = time.process_time()
    cpu_ms = (time.process_time() - cpu_start) * 1000 / max(1, len(stamps) - WARMUP - 1)
    ms = np.diff(stamps[WARMUP:]) * 1000
    pipeline.close()
    return {"engine": type(pipeline).__name__, "median": float(np.median(ms)), "p90": float(np.percentile(ms, 90)),
            "fps": float(1000 / np.mean(ms)), "cpu_ms": cpu_ms, "stages": pipeline.stats.stage_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cpu", "cuda"))
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    frames = demo_frames(args.frames, (width, height))
    segmenter = PersonSegmenter(device=args.device, threads=1 if args.device == "cpu" else None)
    print(f"{width}x{height}, {args.frames} frames, {segmenter.device_label}, precision {segmenter.precision}\n")
    print("| job | engine | threaded | median ms | p90 ms | FPS | CPU ms/frame | stage medians ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, job in JOBS.items():
        for threaded in (False, True):
            try:
                r = run_job(segmenter, frames, job, threaded)
            except ImportError as exc:  # no PyAV on the machine: the threaded runner's sources need it
                print(f"| {name} | - | {threaded} | skipped: {exc} |")
                continue
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items())
            print(f"| {name} | {r['engine']} | {threaded} | {r['median']:.2f} | {r['p90']:.2f} | {r['fps']:.1f} | "
                  f"{r['cpu_ms']:.2f} | {stages} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
