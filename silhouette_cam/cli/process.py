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

from silhouette_cam.render import MODES, parse_color
from silhouette_cam.sinks import ALPHA_CODECS, OPAQUE_CODECS, PngSequenceWriter, VideoRecorder

VIDEO_SUFFIXES = tuple(sorted(set(OPAQUE_CODECS) | set(ALPHA_CODECS)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="video file, image folder, camera index or 'demo'")
    parser.add_argument("-o", "--output", required=True,
                        help=f"video file ({', '.join(VIDEO_SUFFIXES)}) or a folder for a PNG sequence")
    parser.add_argument("--mode", default="overlay", help=f"{' | '.join(MODES)} (default overlay)")
    parser.add_argument("--background", default="transparent",
                        help="cutout background: transparent | COLOR (#rrggbb, r,g,b, name) | IMAGE | VIDEO | blur")
    parser.add_argument("--color", default=None, help="overlay tint or silhouette person color")
    parser.add_argument("--opacity", type=float, default=0.5, help="overlay opacity 0..1 (default 0.5)")
    parser.add_argument("--model", default="auto", help="auto | general | landscape (default auto)")
    parser.add_argument("--weights", default=None, help="custom weights file (from `silhouette-cam train`)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    parser.add_argument("--raw", action="store_true", help="no refinement: the bare network output")
    parser.add_argument("--no-temporal", action="store_true", help="no temporal smoothing")
    parser.add_argument("--no-tracking", action="store_true", help="no zoomed-in crop around the people")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def background_settings(value: str) -> dict[str, object]:
    """--background value -> RenderSettings fields; raises ValueError naming a bad value."""
    if value in ("transparent", "blur"):
        return {"background": value}
    path = Path(value)
    if path.suffix:
        if not path.is_file():
            raise FileNotFoundError(f"background file {value} does not exist")
        kind = "image" if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp") else "video"
        return {"background": kind, "background_path": str(path)}
    try:
        return {"background": "color", "background_color": parse_color(value, name="background")}
    except ValueError:
        raise ValueError(f"background {value!r} is not transparent, blur, a color (#rrggbb, r,g,b or a name) "
                         "or an image/video file") from None


def build_settings(args: argparse.Namespace):
    from silhouette_cam.pipeline import PipelineSettings
    from silhouette_cam.refine import RAW_SETTINGS

    if args.mode not in MODES:
        raise ValueError(f"mode {args.mode!r} is not one of {', '.join(MODES)}")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    changes: dict[str, object] = {"mode": args.mode, "overlay_opacity": args.opacity,
                                  **background_settings(args.background)}
    if args.color is not None:
        color = parse_color(args.color, name="--color")
        changes["overlay_color" if args.mode == "overlay" else "person_color"] = color
    if args.raw:
        changes["refine"] = RAW_SETTINGS
    if args.no_temporal:
        changes["temporal"] = False
    if args.no_tracking:
        changes["track_people"] = False
    return PipelineSettings().replace(**changes)


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

    from silhouette_cam.pipeline import FramePipeline
    from silhouette_cam.pipeline_runner import PipelineRunner
    from silhouette_cam.segmenter import PersonSegmenter
    from silhouette_cam.sources import open_source

    settings = build_settings(args)
    output = Path(args.output)
    check_outputs(output, args.input, settings.render.background_path)
    source = open_source(args.input)
    alpha = settings.render.mode == "cutout" and settings.render.background == "transparent"
    try:
        sink = open_sink(output, fps=source.fps, size=source.size, alpha=alpha, time_base=source.time_base)
    except BaseException:
        source.close()
        raise
    # One torch thread: the runner already keeps both cores busy (decode / segment / render+encode),
    # and torch's own thread pool fighting those threads was slower in bench/bench_pipeline.py.
    segmenter = PersonSegmenter(model=args.model, device=args.device, weights=args.weights, threads=1)
    pipeline = FramePipeline(segmenter, settings)
    total = getattr(source, "frame_count", None)
    start = time.perf_counter()
    written = 0
    try:
        with PipelineRunner(pipeline, source, max_frames=args.max_frames) as runner, \
                tqdm(total=total, unit="frame", disable=args.quiet, file=sys.stderr) as bar:
            for out in runner:
                write_start = time.perf_counter()
                image = out.rgba if alpha and out.rgba is not None else out.image
                sink.write(image, out.timestamp_s)
                pipeline.timer.add("write", (time.perf_counter() - write_start) * 1000)
                written += 1
                bar.update(1)
    finally:
        sink.close()
        source.close()
        pipeline.close()
    elapsed = time.perf_counter() - start
    if written == 0:
        raise ValueError(f"no frames could be read from {args.input}")
    stages = ", ".join(f"{k} {v:.1f}" for k, v in pipeline.stats.stage_ms.items())
    print(f"{written} frames -> {output} | {written / elapsed:.1f} FPS | {segmenter.device_label} | "
          f"codec {sink.codec} | median ms: {stages}")
    return 0
