"""What sending a frame to the virtual camera costs: `VirtualCamera.write()` per frame.

    python bench/bench_virtualcam.py [--runs 300]

The device is a pyvirtualcam backend that drops the frame (registered with `register_backend`), so
the table shows our side: checks, the RGBA cutout on its matte, letterboxing, pixel-format
conversion, and pyvirtualcam's own `send()`. A real device adds its copy / conversion in C
(v4l2loopback: RGB -> I420 with libyuv; OBS: -> NV12 or UYVY). Prints median and p90 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pyvirtualcam

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import NullDevice, machine_description, print_table, test_frames  # noqa: E402

from silhouette_cam.virtualcam import VirtualCamera  # noqa: E402


def cutout_rgba(frame_bgr: np.ndarray) -> np.ndarray:
    """[H, W, 4] RGBA: the frame with a soft-edged ellipse of alpha, like a transparent cutout."""
    h, w = frame_bgr.shape[:2]
    alpha = np.zeros((h, w), np.uint8)
    cv2.ellipse(alpha, (w // 2, h // 2), (w // 5, h // 2 - h // 10), 0, 0, 360, 255, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 3)
    return np.dstack([cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), alpha])


def time_writes(camera: VirtualCamera, images: list[np.ndarray], runs: int) -> list[float]:
    for image in images * 3:  # warm-up: buffers made for this input size
        camera.write(image)
    times = []
    for run in range(runs):
        image = images[run % len(images)]
        start = time.perf_counter()
        camera.write(image)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    pyvirtualcam.register_backend("null", NullDevice)
    frames = {size: test_frames(*size) for size in ((1280, 720), (640, 480), (1920, 1080))}
    rgb = {size: [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in images] for size, images in frames.items()}
    cases = [
        ("720p RGB -> 1280x720 RGB (as rendered)", (1280, 720), "RGB", rgb[(1280, 720)]),
        ("720p RGBA cutout -> 1280x720 RGB (on the matte)", (1280, 720), "RGB",
         [cutout_rgba(f) for f in frames[(1280, 720)]]),
        ("640x480 RGB -> 1280x720 RGB (letterboxed)", (1280, 720), "RGB", rgb[(640, 480)]),
        ("1080p RGB -> 1280x720 RGB (scaled down)", (1280, 720), "RGB", rgb[(1920, 1080)]),
        ("720p RGB -> 1280x720 I420", (1280, 720), "I420", rgb[(1280, 720)]),
    ]
    rows = []
    for label, size, pixel_format, images in cases:
        with VirtualCamera(size=size, fps=30, pixel_format=pixel_format, backend="null") as camera:
            rows.append((label, time_writes(camera, images, args.runs)))
    print(machine_description())
    print_table(f"VirtualCamera.write() per frame, {args.runs} runs (device: a backend that drops frames)", rows)


if __name__ == "__main__":
    main()
