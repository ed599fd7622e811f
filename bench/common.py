"""Helpers for benchmark scripts: statistics tables and test frames."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
GOLDEN_INPUTS = REPO_ROOT / "tests" / "fixtures" / "golden" / "inputs"


def machine_description() -> str:
    import torch  # here, not at import: the window's startup runs import this module and must not load it

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    threads = torch.get_num_threads()
    return f"{cpu}, {os.cpu_count()} logical cores{gpu}, torch {torch.__version__}, {threads} torch threads"


def test_frames(width: int = 1280, height: int = 720) -> list[np.ndarray]:
    """Real photos of people (the redistributable goldens) stretched to width x height, BGR uint8."""
    return [cv2.resize(cv2.imread(str(p)), (width, height), interpolation=cv2.INTER_LINEAR)
            for p in sorted(GOLDEN_INPUTS.glob("*.jpg"))]


def demo_frames(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """The bundled demo clip, looped to `count` frames of `size` (width, height), BGR uint8 (OpenCV
    decoding: a MediaPipe side process or the GPU machine may lack PyAV)."""
    frames: list[np.ndarray] = []
    clip = Path(__file__).resolve().parents[1] / "silhouette_cam" / "assets" / "demo_person.mp4"
    while len(frames) < count:
        capture = cv2.VideoCapture(str(clip))
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR))
        capture.release()
    return frames


class MemorySource:
    """Frames held in memory, with FrameSource's read() / close() contract."""

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0) -> None:
        self.frames, self.i, self.fps, self.name = frames, 0, fps, "memory"
        self.size = (frames[0].shape[1], frames[0].shape[0])

    def read(self):
        if self.i >= len(self.frames):
            return None
        self.i += 1
        return self.frames[self.i - 1], (self.i - 1) / self.fps

    def close(self) -> None:
        pass


def summarize(times_ms: list[float]) -> tuple[float, float]:
    return float(np.median(times_ms)), float(np.percentile(times_ms, 90))


def print_table(title: str, rows: list[tuple[str, list[float]]]) -> None:
    """rows: (label, per-run milliseconds) -> a median / p90 / runs table."""
    print(f"\n{title}")
    width = max(len(label) for label, _ in rows)
    print(f"| {'what':<{width}} | median ms | p90 ms | runs |")
    print(f"|{'-' * (width + 2)}|----------:|-------:|-----:|")
    for label, times in rows:
        median, p90 = summarize(times)
        print(f"| {label:<{width}} | {median:9.2f} | {p90:6.2f} | {len(times):4d} |")


class NullDevice:
    """A pyvirtualcam backend that accepts every frame and drops it (the device's own cost is not ours)."""

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw) -> None:
        self._device = device or "null"

    def send(self, frame: np.ndarray) -> None:
        pass

    def close(self) -> None:
        pass

    def device(self) -> str:
        return self._device

    def native_fourcc(self) -> None:
        return None
