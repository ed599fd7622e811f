"""Frame sources: camera, video file (optionally looping), image folder, bundled demo clip.

Every source is a context manager with one interface (the pipeline never asks which it got):
    read() -> (frame_bgr [H, W, 3] uint8, timestamp_s float) | None   (None = end of stream)
    fps (float), size ((width, height)), name (str), close()
Timestamps come from the source (container PTS, capture clock or index / fps), never from processing
speed, so recordings keep real time.
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import cv2
import numpy as np

from silhouette_cam.errors import describe, warn
from silhouette_cam.image_files import IMAGE_SUFFIXES, MIN_SIDE, check_image_size, read_image


def fit_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Letterbox `frame` [h, w, 3] into `size` (width, height): scaled to fit, aspect kept, black bars.

    A source whose frames change size mid-stream keeps its first size, so a recording or PNG folder
    never gets mixed sizes.
    """
    width, height = size
    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (new_w, new_h), interpolation=interpolation)
    out = np.zeros((height, width, frame.shape[2]), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    out[top:top + new_h, left:left + new_w] = resized
    return out


class _SizeKeeper:
    """Fits frames of another size to the first one, warning once per new size (naming source and frame)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.size: tuple[int, int] | None = None
        self._warned: set[tuple[int, int]] = set()

    def keep(self, frame: np.ndarray, index: int) -> np.ndarray:
        size = (frame.shape[1], frame.shape[0])
        if self.size is None:
            self.size = size
        if size == self.size:
            return frame
        if size not in self._warned:
            self._warned.add(size)
            warn(f"{self.what}: frame {index} is {size[0]}x{size[1]}, the first was {self.size[0]}x{self.size[1]}; "
                 "frames of this size are fitted (letterboxed) to the first size")
        return fit_frame(frame, self.size)


def demo_clip_path() -> Path:
    """The bundled demo clip (a person facing the camera; CC BY 4.0, see assets/ATTRIBUTION.txt)."""
    return Path(str(resources.files("silhouette_cam") / "assets" / "demo_person.mp4"))


class FrameSource:
    """Base class: subclasses set fps, size, name and implement read() / close()."""

    fps: float = 30.0
    size: tuple[int, int] = (0, 0)
    name: str = ""
    frame_count: int | None = None  # frames to expect, when known (progress bars)
    time_base: Fraction | None = None  # the unit its timestamps are multiples of, when it has one (files)

    def read(self) -> tuple[np.ndarray, float] | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self):
        while (item := self.read()) is not None:
            yield item


def open_container(path: Path):
    """-> (container, file object or None): av.open for reading any file name. A name that is not valid
    UTF-8 goes through a Python file object (FFmpeg takes C strings); others by name (FFmpeg's I/O)."""
    name = os.fsdecode(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        stream = open(path, "rb")  # noqa: SIM115 - closed with the source
        try:
            return av.open(stream), stream
        except BaseException:
            stream.close()
            raise
    return av.open(name), None


class VideoFileSource(FrameSource):
    """Decodes a video file with PyAV; `loop=True` restarts at the end with timestamps that keep rising."""

    def __init__(self, path: str | os.PathLike, *, loop: bool = False) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"video file not found: {self.path}")
        self.loop = loop
        self.name = self.path.name
        self._sizes = _SizeKeeper(f"video {self.path}")
        self._decoded = 0  # frames decoded in the first pass (compared with the header's count at the end)
        self._ended = False
        self._open()
        try:
            first = self._next_frame()
        except BaseException:
            self.close()
            raise
        if first is None:
            self.close()
            raise ValueError(f"video {self.path} has no decodable frames")
        self._pending: tuple[np.ndarray, float] | None = first
        # Frames in one pass (from the container header; None when unknown or looping forever).
        self.frame_count = (self._stream.frames or None) if not loop else None
        h, w = first[0].shape[:2]
        self.size = (w, h)
        # Output time = decoded time - origin + offset; a loop restart re-bases it after the last frame.
        self._origin, self._offset = 0.0, 0.0
        self._last_ts = first[1]

    def _open(self) -> None:
        try:
            self._container, self._file = open_container(self.path)
        except (av.FFmpegError, OSError, UnicodeError) as exc:
            raise ValueError(f"cannot read video {self.path}: {describe(exc, name_file=False)}") from None
        if not self._container.streams.video:
            self.close()
            raise ValueError(f"{self.path} has no video stream (expected a video file, e.g. .mp4, .mkv, .webm)")
        self._stream = self._container.streams.video[0]
        width, height = self._stream.codec_context.width, self._stream.codec_context.height
        if width and height:  # from the header, before decoding: a lying header cannot exhaust memory
            try:
                check_image_size(f"video {self.path} (frame size)", width, height)
            except ValueError:
                self.close()
                raise
        self.time_base = self._stream.time_base  # recorders keep it: timestamps stay exact
        # Frame and slice threads. Slices alone (one frame at a time) cost less CPU decoding on its own,
        # but in `process` on 2 cores they ran 0.6-0.7 s slower over 600 720p frames (docs/pipeline.md).
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 30.0
        self._frames = self._container.decode(self._stream)
        self._index = 0

    def _next_frame(self) -> tuple[np.ndarray, float] | None:
        if self._ended:
            return None
        try:
            frame = next(self._frames)
        except StopIteration:
            self._end_of_pass()
            return None
        except (av.FFmpegError, OSError, ValueError) as exc:
            if self._index == 0:
                raise ValueError(f"cannot decode video {self.path}: {describe(exc, name_file=False)}") from None
            # Damaged data after good frames: keep what was decoded, say so, and end the stream.
            reason = describe(exc, name_file=False)
            warn(f"video {self.path}: decoding stopped after frame {self._index - 1} ({reason}); "
                 f"kept the {self._index} frames before it")
            self._end_of_pass(warned=True)
            return None
        ts = float(frame.time) if frame.time is not None else self._index / self.fps
        image = frame.to_ndarray(format="bgr24")
        if self._index == 0 and (image.shape[0] < 16 or image.shape[1] < 16):
            check_image_size(f"video {self.path} (frame size)", image.shape[1], image.shape[0])
        image = self._sizes.keep(image, self._index)
        self._index += 1
        return image, ts

    def _end_of_pass(self, *, warned: bool = False) -> None:
        """At the end of the first pass: warn when the file held fewer frames than its header lists."""
        if self._decoded == 0:
            self._decoded = self._index
            expected = self._stream.frames or 0
            # Headers round a little (edit lists, a dropped last frame): only a clear shortfall is a warning.
            if not warned and expected and self._index < expected - max(2, expected // 100):
                warn(f"video {self.path} ended after {self._index} of the {expected} frames its header lists "
                     "(file truncated?); kept those")
        self._ended = not self.loop

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._pending is not None:
            item, self._pending = self._pending, None
        else:
            item = self._next_frame()
            if item is None and self.loop:
                # Restart one frame interval after the last frame so time never runs backwards.
                self.close()
                self._open()
                self._ended = False
                item = self._next_frame()
                if item is not None:
                    self._origin, self._offset = item[1], self._last_ts + 1.0 / self.fps
            if item is None:
                return None
        frame, ts = item
        ts = ts - self._origin + self._offset
        self._last_ts = ts
        return frame, ts

    def close(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()
            self._file = None


class ImageFolderSource(FrameSource):
    """Images of a folder in name order; timestamps are index / fps. Images of another size than the
    first are fitted (letterboxed) to it, with a warning naming the folder and the frame."""

    def __init__(self, folder: str | os.PathLike, *, fps: float = 30.0, loop: bool = False) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise NotADirectoryError(f"image folder not found: {self.folder}")
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.paths:
            raise ValueError(f"image folder has no images ({', '.join(IMAGE_SUFFIXES)}): {self.folder}")
        self.fps, self.loop, self.name = float(fps), loop, self.folder.name
        self._index = 0
        self.frame_count = None if loop else len(self.paths)
        self._sizes = _SizeKeeper(f"image folder {self.folder}")
        first = self._sizes.keep(read_image(self.paths[0]), 0)
        self.size = (first.shape[1], first.shape[0])

    def read(self) -> tuple[np.ndarray, float] | None:
        """The next image as a frame; raises ValueError/OSError naming a file that cannot be read."""
        if self._index >= len(self.paths) and not self.loop:
            return None
        index = self._index % len(self.paths)
        ts = self._index / self.fps
        self._index += 1
        return self._sizes.keep(read_image(self.paths[index]), index), ts


class CameraSource(FrameSource):
    """An OpenCV camera by index or device path; timestamps from a monotonic clock at grab time."""

    def __init__(self, device: int | str, *, width: int | None = None, height: int | None = None,
                 fps: float | None = None) -> None:
        self.device = device
        self._cap = cv2.VideoCapture(device)  # OpenCV's own warnings: see opencv_log.py
        if not self._cap.isOpened():
            self._cap.release()
            raise OSError(f"cannot open camera {device!r}")
        if width and height:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self._cap.set(cv2.CAP_PROP_FPS, fps)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # latest frame, not a queue of stale ones
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            raise OSError(f"camera {device!r} opened but delivers no frames")
        self._t0 = time.monotonic()
        self._pending: np.ndarray | None = frame
        self.size = (frame.shape[1], frame.shape[0])
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0) or 30.0
        self.name = f"camera {device}"

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame, 0.0
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        return frame, time.monotonic() - self._t0

    def close(self) -> None:
        self._cap.release()


@dataclass(frozen=True)
class CameraInfo:
    """A camera found by `list_cameras`: pass `device` to `open_source` / `CameraSource`."""

    device: int | str
    label: str  # e.g. "/dev/video0 (1280x720 @ 30 fps)"


def camera_label(device: int | str, width: int, height: int, fps: float) -> str:
    """What the source picker shows for a camera: its device with resolution and frame rate."""
    rate = f" @ {fps:g} fps" if fps > 0 else ""  # some drivers report 0 until streaming starts
    return f"{device} ({width}x{height}{rate})"


def list_cameras(max_index: int = 4) -> list[CameraInfo]:
    """Cameras that open: /dev/video* on Linux, else indices 0..max_index-1. Empty list when none."""
    candidates: list[int | str] = sorted(glob.glob("/dev/video*")) or list(range(max_index))
    found = []
    for device in candidates:
        cap = cv2.VideoCapture(device)
        try:
            if cap.isOpened():
                w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
                found.append(CameraInfo(device, camera_label(device, w, h, round(cap.get(cv2.CAP_PROP_FPS), 2))))
        finally:
            cap.release()
    return found


def open_source(spec: str | int, *, loop: bool = False) -> FrameSource:
    """Open a camera index / device path, a video file, an image folder or "demo" (always loops)."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    if not isinstance(spec, str | os.PathLike):
        raise TypeError(f"source spec must be a str or int, got {type(spec).__name__}")
    spec = str(spec)
    if spec == "demo":
        return VideoFileSource(demo_clip_path(), loop=True)
    if spec.startswith("/dev/video"):
        return CameraSource(spec)
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, loop=loop)
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise ValueError(f"source {spec!r} is a single image; give its folder, or use `segment` for stills")
        return VideoFileSource(path, loop=loop)
    raise FileNotFoundError(f"source not found: {spec!r} (expected a camera index, /dev/videoN, "
                            "a video file, an image folder or 'demo')")


def open_camera_or_demo(spec: str | int = 0) -> tuple[FrameSource, str | None]:
    """Open the camera `spec`; if it cannot be opened, the demo clip. Returns (source, message or None)."""
    try:
        return open_source(spec), None
    except (OSError, ValueError) as exc:
        return open_source("demo"), f"{exc}; showing the demo clip instead"


def read_background_sample(path: str | os.PathLike, kind: str, *, min_side: int = MIN_SIDE) -> None:
    """Read what the renderer will read from a background file: the image (`kind` "image"), or the
    first frame of the video. Raises the reader's ValueError / OSError; ValueError for a video
    without frames."""
    if kind == "image":
        read_image(path, min_side=min_side)
        return
    video = VideoFileSource(path, loop=True)
    try:
        if video.read() is None:
            raise ValueError("it holds no frames")
    finally:
        video.close()


def check_background_file(path: str | os.PathLike) -> str:
    """Read a background file once -> "image" or "video"; ValueError/OSError naming it as the background."""
    path = Path(path)
    kind = "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"
    try:
        read_background_sample(path, kind)
    except (ValueError, OSError) as exc:
        raise type(exc)(f"background {kind} cannot be used: {describe(exc)}") from None
    return kind
