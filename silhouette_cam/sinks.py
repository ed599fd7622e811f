"""Outputs: a crash-safe video recorder (PyAV), an RGBA PNG sequence (png_sequence.py), snapshots.

VideoRecorder writes what is rendered with the source's timestamps (so slow or uneven processing
never speeds a video up), in a container that survives `kill -9`: fragmented MP4 (a fragment per
keyframe, one keyframe per second) or Matroska/WebM (clusters written as they fill).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from silhouette_cam.atomic_file import make_parent_folder
from silhouette_cam.errors import describe
from silhouette_cam.png_sequence import PngSequenceWriter  # noqa: F401 - re-exported: the PNG sequence sink
from silhouette_cam.threads import encoder_threads

# Milliseconds when the source has no time base of its own (cameras, image folders). A file source's
# own time base is kept (time_base=...): 1 ms steps made a 24 fps source come out at 24.002 fps.
TIME_BASE = Fraction(1, 1000)
MPEG4_MAX_TIME_BASE_DENOMINATOR = 65535  # the MPEG-4 Part 2 encoder refuses finer time bases
# zerolatency: no lookahead / frame-thread queue, so frames reach the file (and survive a crash) at
# once; costs a little compression, and buys threads that split each frame (sliced threads).
# superfast by measurement (bench/bench_encoder.py, 720p, README): a third less encoder CPU than
# veryfast at a higher PSNR, for files ~1.2x the size; ultrafast doubles the size.
X264 = {"preset": "superfast", "crf": "21", "tune": "zerolatency", "threads": str(encoder_threads())}
# The same for VP9: lag-in-frames 0, or libvpx holds 25 frames (1 s) back for its lookahead.
VP9 = {"deadline": "realtime", "cpu-used": "8", "b": "0", "lag-in-frames": "0"}
# suffix -> [(codec, pix_fmt, options)] in order of preference; the first the PyAV build has wins.
OPAQUE_CODECS = {
    ".mp4": [("libx264", "yuv420p", X264), ("mpeg4", "yuv420p", {"qscale": "3"})],
    ".mkv": [("libx264", "yuv420p", X264), ("mpeg4", "yuv420p", {"qscale": "3"})],
    ".mov": [("libx264", "yuv420p", X264), ("mpeg4", "yuv420p", {"qscale": "3"})],
    ".webm": [("libvpx-vp9", "yuv420p", {**VP9, "crf": "32"})],
}
ALPHA_CODECS = {
    ".webm": [("libvpx-vp9", "yuva420p", {**VP9, "crf": "30"})],
    ".mov": [("prores_ks", "yuva444p10le", {"profile": "4444"}), ("qtrle", "argb", {})],
    ".mkv": [("ffv1", "yuva420p", {}), ("png", "rgba", {})],
}
# Every container: flush_packets hands what the muxer writes to the OS at once. Otherwise
# libavformat holds up to 32 KiB in its write buffer: for a low-bitrate recording (a silhouette is
# two flat colors) that was the whole first 10 s, all of it lost on a crash.
FLUSHED = {"flush_packets": "1"}
CONTAINER_OPTIONS = {
    # Fragmented MP4: the moov atom up front, then self-contained fragments; readable after a crash.
    ".mp4": {"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    ".mov": {"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    # Matroska / WebM: a cluster is written when it closes; at most 1 s each (the default let 2 s wait).
    ".mkv": {"cluster_time_limit": "1000"},
    ".webm": {"cluster_time_limit": "1000"},
}


MUXERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


def _open_for_writing(path: Path, options: dict[str, str]):
    """-> (container, file object or None). FFmpeg takes C strings: a name that is not valid UTF-8 is
    written through an unbuffered Python file (so flush_packets still reaches the OS at once)."""
    name = os.fsdecode(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        stream = open(path, "wb", buffering=0)  # noqa: SIM115 - closed in VideoRecorder.close
        try:
            return av.open(stream, "w", format=MUXERS[path.suffix.lower()], options=options), stream
        except BaseException:
            stream.close()
            raise
    return av.open(name, "w", options=options), None


def _codec_available(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
        return True
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False


class VideoRecorder:
    """Records RGB (or RGBA with alpha=True) frames to `path`; the suffix picks the container.

    path: .mp4 / .mkv / .mov / .webm (alpha: .webm VP9, .mov ProRes 4444, .mkv FFV1);
    fps: the nominal rate (keyframe spacing); size: (width, height). `codec` names the encoder used.
    time_base: the source's time base (e.g. a video stream's 1/12288), so its timestamps are kept exactly;
    None: milliseconds. Matroska/WebM store milliseconds whatever is given.
    write(image, timestamp_s): image [H, W, 3] RGB (or [H, W, 4] RGBA) uint8; timestamps in seconds,
    from the source. Raises OSError naming the file when writing fails (e.g. a full disk); the frames
    written before stay playable. A frame of another size is a ValueError naming the file and the frame.
    """

    def __init__(self, path: str | os.PathLike, *, fps: float, size: tuple[int, int], alpha: bool = False,
                 keyframe_s: float = 1.0, time_base: Fraction | None = None) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        table = ALPHA_CODECS if alpha else OPAQUE_CODECS
        if suffix not in table:
            kind = "with alpha" if alpha else "video"
            raise ValueError(f"cannot record {kind} to {self.path.name!r}: expected one of {', '.join(table)}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        width, height = int(size[0]), int(size[1])
        if width < 2 or height < 2:
            raise ValueError(f"size must be at least 2x2, got {size}")
        choice = next(((c, f, o) for c, f, o in table[suffix] if _codec_available(c)), None)
        if choice is None:
            raise ValueError(f"no encoder for {self.path.name!r} in this PyAV build "
                             f"(tried {', '.join(c for c, _, _ in table[suffix])})")
        codec, pix_fmt, options = choice
        time_base = Fraction(time_base) if time_base else TIME_BASE
        if time_base <= 0 or (codec == "mpeg4" and time_base.denominator > MPEG4_MAX_TIME_BASE_DENOMINATOR):
            time_base = TIME_BASE
        self.time_base = time_base
        if pix_fmt.startswith("yuv") and not pix_fmt.startswith("yuv444") and (width % 2 or height % 2):
            width, height = width - width % 2, height - height % 2  # 4:2:0 needs even sizes
        self.size, self.alpha, self.codec, self.fps = (width, height), alpha, codec, float(fps)
        self.frames_written = 0
        self._last_pts = -1
        try:
            make_parent_folder(self.path)
            self._container, self._file = _open_for_writing(
                self.path, {**CONTAINER_OPTIONS.get(suffix, {}), **FLUSHED})
        except (av.FFmpegError, OSError) as exc:
            raise OSError(f"cannot open {self.path} for recording: {describe(exc, name_file=False)}") from None
        rate = Fraction(round(self.fps * 1000), 1000)
        self._stream = self._container.add_stream(codec, rate=rate, options=dict(options))
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, pix_fmt
        self._stream.time_base = time_base
        self._stream.codec_context.time_base = time_base
        self._stream.codec_context.gop_size = max(1, round(self.fps * keyframe_s))
        self._input_format = "rgba" if alpha else "rgb24"
        # 4:2:0 from RGB through OpenCV (BT.601 video range, as swscale's default; within 2 levels of it):
        # ~0.9 ms at 720p where PyAV's reformat took ~5 ms measured alone, on the encoder's thread.
        self._to_i420 = pix_fmt == "yuv420p" and not alpha

    def write(self, image: np.ndarray, timestamp_s: float) -> None:
        channels = 4 if self.alpha else 3
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != channels:
            raise ValueError(f"recorded image must be [H, W, {channels}] uint8, got {image.shape} {image.dtype}")
        if (image.shape[1], image.shape[0]) != self.size:
            if abs(image.shape[1] - self.size[0]) > 1 or abs(image.shape[0] - self.size[1]) > 1:
                raise ValueError(f"recording {self.path}: frame {self.frames_written} is {image.shape[1]}x"
                                 f"{image.shape[0]}, the recording is {self.size[0]}x{self.size[1]}")
            image = image[: self.size[1], : self.size[0]]
        if self._to_i420:
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        else:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=self._input_format)
        # Source time, made strictly increasing (a muxer rejects equal timestamps).
        pts = max(int(round(float(timestamp_s) / self.time_base)), self._last_pts + 1)
        frame.pts, frame.time_base = pts, self.time_base
        self._last_pts = pts
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as exc:
            raise OSError(f"recording to {self.path} failed after {self.frames_written} frames: "
                          f"{describe(exc, name_file=False)}") from None
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (safe to call twice)."""
        container, self._container = getattr(self, "_container", None), None
        if container is None:
            return
        try:
            for packet in self._stream.encode():
                container.mux(packet)
        except (av.FFmpegError, OSError):
            pass  # a full disk at the end: the fragments already written remain playable
        finally:
            try:
                container.close()
            except (av.FFmpegError, OSError):
                pass
            if self._file is not None:
                self._file.close()

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _to_bgr(image: np.ndarray) -> np.ndarray:
    """RGB(A) uint8 -> BGR(A) for OpenCV's writers; validates the shape."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image must be [H, W, 3|4] uint8 RGB(A), got {image.shape} {image.dtype}")
    return cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)


def save_snapshot(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write image [H, W, 3] RGB or [H, W, 4] RGBA uint8 as a PNG (RGBA keeps its alpha). Returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"snapshot path must end in .png, got {path.name!r}")
    make_parent_folder(path)
    from silhouette_cam.image_files import write_image  # any file name, and a full disk leaves no partial file

    return write_image(path, _to_bgr(image), what="snapshot")
