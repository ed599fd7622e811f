"""PNG export speed: per-frame encoders (time vs size) on real 1280x720 cutout RGBA frames, then the whole
`silhouette-cam process IN -o OUT --mode cutout --background transparent` job to PNGs vs .webm.

    python bench/bench_png_export.py [--input clip.mp4] [--frames 8] [--repeats 2] [--skip-job]

The clip: --input, else DAVIS dance-twirl from $SILHOUETTE_CAM_DATA or ../shared/data (90 frames, the
issue's job), else the bundled demo clip; either is scaled to 1280x720 into a temporary H.264 file.
Encoders are timed round-robin (one frame each in turn), so a loaded machine slows all alike. Sizes
are compared with OpenCV's default (level 1, adaptive filters) and zlib's default level 6.
The job table runs `process` in this process, alternating: PNGs with this project's writer, PNGs the
old way (cv2.imwrite level 1 on the render thread), and .webm VP9 with alpha; FPS as `process` prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import machine_description  # noqa: E402
from silhouette_cam import png_encoder  # noqa: E402
from silhouette_cam.cli import process  # noqa: E402
from silhouette_cam.png_sequence import PngSequenceWriter  # noqa: E402

SIZE = (1280, 720)
SHARED = Path(os.environ.get("SILHOUETTE_CAM_DATA", REPO.parent / "shared" / "data"))


def make_clip(source: Path, target: Path) -> int:
    """`source` scaled to 1280x720 into an H.264 file at `target` (crf 18). Returns the frame count."""
    count = 0
    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        rate = src.streams.video[0].average_rate or 24
        stream = out.add_stream("libx264", rate=rate, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        for frame in src.decode(video=0):
            image = cv2.resize(frame.to_ndarray(format="rgb24"), SIZE, interpolation=cv2.INTER_LINEAR)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            count += 1
        out.mux(stream.encode())
    return count


def cutout_frames(clip: Path, count: int) -> list[np.ndarray]:
    """`count` RGBA cutouts [720, 1280, 4] uint8 spread over the clip, rendered by the real pipeline."""
    from silhouette_cam.pipeline import FramePipeline, PipelineSettings
    from silhouette_cam.segmenter import PersonSegmenter
    from silhouette_cam.sources import open_source

    settings = PipelineSettings().replace(mode="cutout", background="transparent")
    pipeline = FramePipeline(PersonSegmenter(device="cpu", threads=1), settings)
    source = open_source(str(clip))
    frames = []
    try:
        total = getattr(source, "frame_count", None) or count
        step = max(1, total // count)
        index = 0
        while len(frames) < count and (item := source.read()) is not None:
            out = pipeline.process(item[0], timestamp_s=item[1])
            if index % step == 0:
                frames.append(out.rgba.copy())
            index += 1
    finally:
        source.close()
        pipeline.close()
    return frames


def opencv(*params: int) -> Callable[[np.ndarray], bytes]:
    def encode(rgba: np.ndarray) -> bytes:
        ok, data = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), list(params))
        return data.tobytes()
    return encode


def pillow(**options: object) -> Callable[[np.ndarray], bytes]:
    def encode(rgba: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(rgba).save(buffer, "PNG", **options)
        return buffer.getvalue()
    return encode


def chosen(level: int, use_zlib: bool = False) -> Callable[[np.ndarray], bytes]:
    """png_encoder at a deflate level; use_zlib: its fallback when `isal` is missing."""
    def encode(rgba: np.ndarray) -> bytes:
        saved = png_encoder._deflate
        if use_zlib:
            png_encoder._deflate = png_encoder.zlib
        try:
            return png_encoder.encode_png(rgba, level=level)
        finally:
            png_encoder._deflate = saved
    return encode


def encoders(slow: bool) -> dict[str, Callable[[np.ndarray], bytes]]:
    c, s, f = cv2.IMWRITE_PNG_COMPRESSION, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_FILTER
    table = {f"cv2 level {level}": opencv(c, level) for level in (range(10) if slow else (0, 1, 2, 3, 6))}
    for name in ("RLE", "FILTERED", "HUFFMAN_ONLY", "FIXED"):
        table[f"cv2 level 1 {name}"] = opencv(c, 1, s, getattr(cv2, f"IMWRITE_PNG_STRATEGY_{name}"))
    for name in ("NONE", "SUB", "UP", "PAETH"):
        table[f"cv2 level 1 filter {name}"] = opencv(c, 1, f, getattr(cv2, f"IMWRITE_PNG_FILTER_{name}"))
    table["cv2 level 1 filter UP RLE"] = opencv(c, 1, f, cv2.IMWRITE_PNG_FILTER_UP, s, cv2.IMWRITE_PNG_STRATEGY_RLE)
    table["Pillow compress_level 1"] = pillow(compress_level=1)
    table["Pillow compress_level 6"] = pillow(compress_level=6)
    table["Up filter + zlib level 1 (fallback)"] = chosen(1, use_zlib=True)
    backend = png_encoder.deflate_backend()
    for level in (0, 1, 2, 3) if backend == "isal" else (1,):
        mark = "chosen: " if level == png_encoder.DEFLATE_LEVEL else ""
        table[f"{mark}Up filter + {backend} level {level}"] = chosen(level)
    return table


def encoder_table(frames: list[np.ndarray], repeats: int, slow: bool) -> None:
    table = encoders(slow)
    times: dict[str, list[float]] = {name: [] for name in table}
    sizes: dict[str, list[int]] = {name: [] for name in table}
    for _ in range(repeats):
        for rgba in frames:
            for name, encode in table.items():  # round-robin: load spikes hit every row alike
                start = time.perf_counter()
                data = encode(rgba)
                times[name].append((time.perf_counter() - start) * 1000)
                sizes[name].append(len(data))
    default_mb = np.mean(sizes["cv2 level 1"]) / 1e6
    zlib6_mb = np.mean(sizes["cv2 level 6"]) / 1e6
    width = max(map(len, table))
    print(f"\nPNG encoders, 1280x720 RGBA cutouts, {len(frames)} frames x {repeats}, one thread")
    print(f"| {'encoder':<{width}} | median ms | p90 ms | MB/frame | vs cv2 level 1 | vs level 6 |")
    print(f"|{'-' * (width + 2)}|----------:|-------:|---------:|---------------:|-----------:|")
    for name in table:
        mb = np.mean(sizes[name]) / 1e6
        print(f"| {name:<{width}} | {np.median(times[name]):9.1f} | {np.percentile(times[name], 90):6.1f} | "
              f"{mb:8.3f} | {mb / default_mb:13.2f}x | {mb / zlib6_mb:9.2f}x |")


class ImwriteOnRenderThread:
    """The writer before #17, for comparison: cv2.imwrite at level 1 on the calling (render) thread."""

    codec = "png (cv2.imwrite, render thread)"

    def __init__(self, folder: Path) -> None:
        self.folder, self.frames_written = folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, image: np.ndarray, timestamp_s: float | None = None) -> None:
        path = self.folder / f"{self.frames_written:06d}.png"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        self.frames_written += 1

    def close(self) -> None:
        pass


def run_job(clip: Path, output: Path, old_png: bool) -> tuple[float, float]:
    """One `process` run -> (FPS as printed, output MB)."""
    parser = argparse.ArgumentParser()
    process.add_arguments(parser)
    args = parser.parse_args([str(clip), "-o", str(output), "--mode", "cutout", "--background", "transparent",
                              "--quiet", "--device", "cpu"])
    saved = process.PngSequenceWriter
    process.PngSequenceWriter = ImwriteOnRenderThread if old_png else PngSequenceWriter
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            process.run(args)
    finally:
        process.PngSequenceWriter = saved
    fps = float(re.search(r"\| ([\d.]+) FPS \|", printed.getvalue()).group(1))
    files = output.iterdir() if output.is_dir() else [output]
    return fps, sum(f.stat().st_size for f in files) / 1e6


def job_table(clip: Path, frame_count: int, repeats: int, workdir: Path) -> None:
    jobs = {"PNG folder, png_sequence writer": ("frames", False),
            "PNG folder, cv2.imwrite on render thread (before)": ("frames", True),
            ".webm VP9 with alpha": ("out.webm", False)}
    fps: dict[str, list[float]] = {name: [] for name in jobs}
    mb: dict[str, float] = {}
    for repeat in range(repeats):
        for name, (output, old_png) in jobs.items():  # alternating, so load changes hit all jobs
            target = workdir / f"{repeat}-{len(fps[name])}-{output}"
            rate, size = run_job(clip, target, old_png)
            fps[name].append(rate)
            mb[name] = size
    width = max(map(len, jobs))
    print(f"\n`process` {frame_count} frames 1280x720 --mode cutout --background transparent, {repeats} runs each")
    print(f"| {'output':<{width}} | median FPS | min FPS | MB/frame |")
    print(f"|{'-' * (width + 2)}|-----------:|--------:|---------:|")
    for name in jobs:
        print(f"| {name:<{width}} | {np.median(fps[name]):10.1f} | {min(fps[name]):7.1f} | "
              f"{mb[name] / frame_count:8.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=None, help="a video to scale to 1280x720 (default: see above)")
    parser.add_argument("--frames", type=int, default=8, help="cutout frames for the encoder table (default 8)")
    parser.add_argument("--repeats", type=int, default=2, help="rounds per encoder and runs per job (default 2)")
    parser.add_argument("--all-levels", action="store_true", help="OpenCV levels 0..9 (7..9 take ~1 s a frame)")
    parser.add_argument("--skip-job", action="store_true", help="only the encoder table")
    args = parser.parse_args()
    dance = SHARED / "davis" / "videos" / "dance-twirl.mp4"
    source = args.input or (dance if dance.is_file() else REPO / "silhouette_cam" / "assets" / "demo_person.mp4")
    print(f"machine: {machine_description()}  (shared with other jobs while measured)")
    print(f"clip: {source} scaled to 1280x720; deflate backend: {png_encoder.deflate_backend()}")
    with tempfile.TemporaryDirectory(prefix="bench_png_") as tmp:
        clip = Path(tmp) / "clip720.mp4"
        frame_count = make_clip(source, clip)
        encoder_table(cutout_frames(clip, args.frames), args.repeats, args.all_levels)
        if not args.skip_job:
            job_table(clip, frame_count, args.repeats, Path(tmp))


if __name__ == "__main__":
    main()
