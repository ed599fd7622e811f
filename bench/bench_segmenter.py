"""Segmentation speed at 1280x720: network alone and whole `segment()`, per variant and device.

    python bench/bench_segmenter.py [--runs 300] [--threads N] [--mediapipe-python /tmp/mpvenv/bin/python]
                                    [--precisions fp32,tf32,fp16,bf16]

Prints median and p90 over the runs as a table: the CPU with ONNX Runtime (the default, one
thread) and with PyTorch, and on a GPU, per precision: the network as a CUDA graph at batch 1 and 8
(per image), the same network eager at batch 1, and `segment()` at 720p and 1080p. With
--mediapipe-python (a Python that has mediapipe==0.10.14), MediaPipe's `SelfieSegmentation.process()`
is timed on the same frames.
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

from silhouette_cam.inference import TorchRunner  # noqa: E402
from silhouette_cam.onnx_runner import OnnxRuntimeRunner  # noqa: E402
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


def network_only_call(runner):
    """A callable running just the network of `runner` on a prepared input (no pre/post-processing)."""
    if isinstance(runner, OnnxRuntimeRunner):
        width, height = runner.input_size
        blob = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
        return lambda frame: runner.session.run(None, {runner._input_name: blob})
    if isinstance(runner, TorchRunner):
        network_input = torch.rand(1, 3, runner.input_size[1], runner.input_size[0], device=runner.device)
        network_input = network_input.to(runner.dtype).contiguous(memory_format=torch.channels_last)
    else:
        runner.person_probability(np.zeros((64, 64, 3), np.uint8), full_size=False)  # fills its input buffer
        network_input = runner._input

    def call(frame):
        with torch.inference_mode():
            runner.module(network_input)
    return call


def bench_cuda(precision: str, frames: list[np.ndarray], runs: int) -> list[tuple[str, list[float]]]:
    """The CUDA engine at one precision: graph batch 1 / 8 (ms per image), eager batch 1, segment() 720p / 1080p."""
    import cv2

    rows = []
    frames_1080 = [cv2.resize(frame, (1920, 1080)) for frame in frames]
    sync = torch.cuda.synchronize
    for variant in ("general", "landscape"):
        segmenter = PersonSegmenter(model=variant, device="cuda", precision=precision)
        runner = segmenter.runner_for(1280, 720)
        w, h = runner.input_size
        label = f"{variant}, CUDA {segmenter.precision}"
        for batch in (1, 8):
            x = torch.rand(batch, 3, h, w, device="cuda").to(runner.dtype)
            times = time_calls(lambda frame, x=x, r=runner: r.network(x), frames, runs, sync)
            rows.append((f"{label}: network graph batch {batch} (per image)", [t / batch for t in times]))
        x = torch.rand(1, 3, h, w, device="cuda").to(runner.dtype).contiguous(memory_format=torch.channels_last)

        def eager(frame, x=x, module=runner.module):
            with torch.inference_mode():
                module(x)
        rows.append((f"{label}: network eager batch 1", time_calls(eager, frames, runs, sync)))
        rows.append((f"{label}: segment() 720p", time_calls(segmenter.segment, frames, runs, sync)))
        rows.append((f"{label}: segment() 1080p", time_calls(segmenter.segment, frames_1080, runs, sync)))
    return rows


def bench_device(device: str, backend: str, frames: list[np.ndarray], runs: int) -> list[tuple[str, list[float]]]:
    rows = []
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for variant in ("general", "landscape"):
        segmenter = PersonSegmenter(model=variant, device=device, backend=backend)
        runner = segmenter.runner_for(1280, 720)
        network_only = network_only_call(runner)
        label = f"{variant}, {segmenter.device_label.split(' — ')[0]}"  # e.g. "CPU fp32 ONNX Runtime"
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
    parser.add_argument("--threads", type=int, help="torch CPU threads for the PyTorch rows (default: torch's)")
    parser.add_argument("--mediapipe-python", help="a Python with mediapipe==0.10.14, to time the reference")
    parser.add_argument("--precisions", default="fp32,tf32,fp16,bf16", help="CUDA precisions to time")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    frames = test_frames()
    rows = bench_device("cpu", "onnxruntime", frames, args.runs) + bench_device("cpu", "torch", frames, args.runs)
    if args.mediapipe_python:
        rows += bench_mediapipe(args.mediapipe_python, frames, args.runs)
    if torch.cuda.is_available():
        for precision in args.precisions.split(","):
            rows += bench_cuda(precision, frames, args.runs)
    print_table(f"Segmentation at 1280x720 — {machine_description()}", rows)


if __name__ == "__main__":
    main()
