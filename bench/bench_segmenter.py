"""Segmentation speed at 1280x720: network alone and whole `segment()`, per variant and device.

    python bench/bench_segmenter.py [--runs 300] [--threads N] [--mediapipe-python /tmp/mpvenv/bin/python]

Prints median and p90 over the runs as a table. With --mediapipe-python (a Python that has
mediapipe==0.10.14), MediaPipe's `SelfieSegmentation.process()` is timed on the same frames.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, machine_description, print_table, test_frames  # noqa: E402

from silhouette_cam.segmenter import PersonSegmenter  # noqa: E402


def time_calls(call, frames: list[np.ndarray], runs: int, sync=lambda: None) -> list[float]:
    for frame in frames * 5:  # warm-up
        call(frame)
    sync()
    times = []
    for run in range(runs):
        frame = frames[run % len(frames)]
        start = time.perf_counter()
        call(frame)
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def bench_device(device: str, frames: list[np.ndarray], runs: int) -> list[tuple[str, list[float]]]:
    rows = []
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for variant in ("general", "landscape"):
        segmenter = PersonSegmenter(model=variant, device=device)
        runner = segmenter.runner_for(1280, 720)
        precision = segmenter.device_label.split(" ")[1]

        runner.person_probability(frames[0], full_size=False)  # fills the CPU runner's input buffer
        if device == "cuda":
            network_input = torch.rand(1, 3, runner.facts.input_height, runner.facts.input_width,
                                       device="cuda").half().contiguous(memory_format=torch.channels_last)
        else:
            network_input = runner._input

        def network_only(frame, module=runner.module, network_input=network_input):
            with torch.inference_mode():
                module(network_input)

        label = f"{variant} {device} {precision}"
        rows.append((f"{label}: network", time_calls(network_only, frames, runs, sync)))
        rows.append((f"{label}: segment()", time_calls(segmenter.segment, frames, runs, sync)))
    return rows


def bench_mediapipe(python: str, frames: list[np.ndarray], runs: int) -> list[tuple[str, list[float]]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frames.npy"
        np.save(path, np.stack(frames))
        for selection, variant in ((0, "general"), (1, "landscape")):
            out = subprocess.run([python, str(REPO_ROOT / "scripts" / "mediapipe_reference.py"), "timing",
                                  "--model", str(selection), "--frames", str(path), "--runs", str(runs)],
                                 capture_output=True, text=True, check=True)
            rows.append((f"{variant} MediaPipe 0.10.14 process()", json.loads(out.stdout.splitlines()[-1])["ms"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--mediapipe-python", help="a Python with mediapipe==0.10.14, to time the reference")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    frames = test_frames()
    rows = bench_device("cpu", frames, args.runs)
    if args.mediapipe_python:
        rows += bench_mediapipe(args.mediapipe_python, frames, args.runs)
    if torch.cuda.is_available():
        rows += bench_device("cuda", frames, args.runs)
    print_table(f"Segmentation at 1280x720 — {machine_description()}", rows)


if __name__ == "__main__":
    main()
