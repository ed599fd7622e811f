"""`silhouette-cam process INPUT -o OUTPUT`: render a video or image folder to a video or PNG sequence.

OUTPUT ending in .mp4/.mkv/.mov/.webm is a video (H.264 where available; cutout with a transparent
background goes to a codec with alpha: .webm VP9, .mov ProRes 4444, .mkv FFV1); anything else is a
folder of PNGs, 000000.png ... one per input frame (RGBA for a transparent cutout).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from silhouette_cam.cli import options
from silhouette_cam.cli.options import add_max_frames, add_model_arguments, add_setting_arguments, check_max_frames
from silhouette_cam.frame_sinks import ImageSink, transparent_output
from silhouette_cam.sinks import ALPHA_CODECS, OPAQUE_CODECS, PngSequenceWriter, VideoRecorder

VIDEO_SUFFIXES = tuple(sorted(set(OPAQUE_CODECS) | set(ALPHA_CODECS)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="video file, image folder, camera index or 'demo'")
    parser.add_argument("-o", "--output", required=True,
                        help=f"video file ({', '.join(VIDEO_SUFFIXES)}) or a folder for a PNG sequence")
    add_max_frames(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar (default: off)")
    add_setting_arguments(parser)
    add_model_arguments(parser)


def build_settings(args: argparse.Namespace):
    """The run's PipelineSettings (validated; errors name the flag)."""
    check_max_frames(args)
    return options.build_settings(args)


def open_sink(output: Path, *, fps: float, size: tuple[int, int], alpha: bool, time_base=None):
    if output.suffix.lower() in VIDEO_SUFFIXES:
        return VideoRecorder(output, fps=fps, size=size, alpha=alpha, time_base=time_base)
    if output.suffix:
        raise ValueError(f"output {str(output)!r}: expected a video ({', '.join(VIDEO_SUFFIXES)}) "
                         "or a folder (no suffix) for PNGs")
    return PngSequenceWriter(output)


def check_outputs(output: Path, source: str, background: str | None) -> None:
    """Refuse, before anything is written, an output that is the input, the background or the image folder read."""
    from silhouette_cam.overwrite_check import check_output_file, check_output_not_inside_input

    inputs = [p for p in (source, background) if p and Path(p).is_file()]
    check_output_file(output, inputs)
    check_output_not_inside_input(output, source)
    if background:
        from silhouette_cam.sources import check_background_file

        check_background_file(background)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from silhouette_cam.device import make_pipeline  # FramePipeline on the CPU, DevicePipeline on CUDA
    from silhouette_cam.pipeline_runner import PipelineRunner
    from silhouette_cam.segmenter import PersonSegmenter
    from silhouette_cam.sources import open_source

    settings = build_settings(args)
    output = Path(args.output)
    check_outputs(output, args.input, settings.render.background_path)
    source = open_source(args.input)
    alpha = transparent_output(settings)
    try:
        sink = open_sink(output, fps=source.fps, size=source.size, alpha=alpha, time_base=source.time_base)
    except BaseException:
        source.close()
        raise
    # One torch thread: the runner already keeps both cores busy (decode / segment / render+encode),
    # and torch's own thread pool fighting those threads was slower in bench/bench_pipeline.py.
    segmenter = PersonSegmenter(model=args.model, device=args.device, weights=args.weights, threads=1)
    pipeline = make_pipeline(segmenter, settings)
    total = getattr(source, "frame_count", None)
    start = time.perf_counter()
    written = 0
    try:
        # The runner owns the sink: written on its writer thread, closed (complete) however the run ends.
        with PipelineRunner(pipeline, source, max_frames=args.max_frames,
                            sinks=[ImageSink(sink, alpha=alpha)]) as runner, \
                tqdm(total=total, unit="frame", disable=args.quiet, file=sys.stderr) as bar:
            for _ in runner:
                written += 1
                bar.update(1)
    finally:
        sink.close()  # already closed by the runner unless it never started; safe twice
        source.close()
        pipeline.close()
    elapsed = time.perf_counter() - start
    if written == 0:
        raise ValueError(f"no frames could be read from {args.input}")
    stages = ", ".join(f"{k} {v:.1f}" for k, v in pipeline.stats.stage_ms.items())
    print(f"{written} frames -> {output} | {written / elapsed:.1f} FPS | {segmenter.device_label} | "
          f"codec {sink.codec} | median ms: {stages}")
    return 0
