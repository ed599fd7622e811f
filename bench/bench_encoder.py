"""H.264 presets for `process` and recordings: encode time vs file size vs quality at 1280x720.

    python bench/bench_encoder.py [--video clip.mp4] [--frames 150] [--rounds 3]

Encodes the same rendered-like frames (a real clip scaled to 720p) with libx264 at the recorder's CRF
and tune (silhouette_cam.sinks.X264) for each preset, through VideoRecorder's own options, rounds
alternating; prints CPU ms per frame (median, p90 over rounds), MB per second of video and PSNR of
the decoded result against the input (equal quality check). Not a test: a table for README.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from silhouette_cam.sinks import X264  # noqa: E402
from silhouette_cam.sources import demo_clip_path  # noqa: E402

PRESETS = ("ultrafast", "superfast", "veryfast", "faster")


def load_frames(path: Path, count: int) -> list[np.ndarray]:
    """Up to `count` frames of `path` at 1280x720, RGB uint8 (looping a short clip)."""
    frames: list[np.ndarray] = []
    while len(frames) < count:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), (1280, 720)))
                if len(frames) == count:
                    break
    return frames


def encode(frames: list[np.ndarray], preset: str) -> tuple[float, bytes]:
    """-> (CPU seconds of this process for the whole encode, the MP4 bytes)."""
    buffer = io.BytesIO()
    start = time.process_time()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30, options={**X264, "preset": preset})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return time.process_time() - start, buffer.getvalue()


def psnr(frames: list[np.ndarray], data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    errors = [np.mean((a.astype(np.float32) - b) ** 2) for a, b in zip(frames, decoded, strict=True)]
    return float(10 * np.log10(255.0**2 / max(np.mean(errors), 1e-9)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=demo_clip_path())
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    frames = load_frames(args.video, args.frames)
    cpu_ms: dict[str, list[float]] = {p: [] for p in PRESETS}
    results: dict[str, bytes] = {}
    for _ in range(args.rounds):
        for preset in PRESETS:  # alternating: drift hits every preset alike
            seconds, data = encode(frames, preset)
            cpu_ms[preset].append(1000 * seconds / len(frames))
            results[preset] = data
    print(f"{args.video.name} at 1280x720, {len(frames)} frames, libx264 crf {X264['crf']} tune {X264['tune']}, "
          f"{args.rounds} rounds; CPU ms per frame of this process (all encoder threads)")
    print("| preset | CPU ms/frame median | p90 | MB per 10 s at 30 fps | size vs veryfast | PSNR dB |")
    print("|---|---:|---:|---:|---:|---:|")
    base = len(results["veryfast"])
    for preset in PRESETS:
        times = sorted(cpu_ms[preset])
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        mb = len(results[preset]) / 1e6 * (300 / len(frames))
        print(f"| {preset} | {statistics.median(times):.2f} | {p90:.2f} | {mb:.2f} | "
              f"{len(results[preset]) / base:.2f}x | {psnr(frames, results[preset]):.2f} |")


if __name__ == "__main__":
    main()
