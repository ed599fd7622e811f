"""Generated media for the bad-input tests: lying headers, cut files, size changes (nothing committed)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import av
import numpy as np


def png_with_header(path: Path, width: int, height: int) -> Path:
    """A valid-looking PNG whose header claims width x height but whose data is a few bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def write_video(path: Path, sizes: list[tuple[int, int]], *, rate: int = 24, codec: str = "mpeg4",
                container_format: str | None = None, options: dict | None = None, seed: int = 0) -> Path:
    """One random frame per entry of `sizes` ((width, height); the encoder is opened at the first)."""
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w", format=container_format, options=options or {}) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = sizes[0]
        stream.pix_fmt = "yuv420p"
        for index, (width, height) in enumerate(sizes):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
                                               format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def video_with_size_change(path: Path, first: tuple[int, int], second: tuple[int, int], frames: int = 6) -> Path:
    """An MPEG-TS file whose frame size changes after `frames` frames (two streams' bytes concatenated,
    as a broadcast recording or a concatenated download would be)."""
    part_a = write_video(path.with_suffix(".a.ts"), [first] * frames, container_format="mpegts")
    part_b = write_video(path.with_suffix(".b.ts"), [second] * frames, container_format="mpegts", seed=1)
    path.write_bytes(part_a.read_bytes() + part_b.read_bytes())
    part_a.unlink()
    part_b.unlink()
    return path


def audio_only(path: Path) -> Path:
    """An .m4a with one AAC stream and no video."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for index in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def truncated_copy(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target
