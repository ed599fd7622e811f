"""`silhouette-cam virtualcam --source 0 --mode cutout --background blur`: the pipeline, headless,
into a virtual camera that any video call can pick (v4l2loopback on Linux, OBS's on Windows/macOS).

Runs until Ctrl-C (or the end of a file that does not loop), printing the FPS now and then. A
camera source is live (the newest frame wins); a file is paced at its own frame rate, so it plays
at real speed. No virtual camera: one line naming what to install, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable

from silhouette_cam.cli import options

REPORT_EVERY_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="0", help="camera index or device path, a video file, an image "
                        "folder or 'demo' (default: 0)")
    parser.add_argument("--loop", action="store_true",
                        help="play a video file or image folder in a loop (default: off)")
    parser.add_argument("--output-device", default=None, metavar="DEVICE", help="the virtual camera: "
                        "/dev/videoN (Linux) or 'OBS Virtual Camera' (default: the first one found)")
    parser.add_argument("--backend", default=None, help="pyvirtualcam backend: v4l2loopback | obs | "
                        "unitycapture (default: every one of this platform)")
    parser.add_argument("--size", default=None, metavar="WxH", help="camera size, e.g. 1280x720: the frame "
                        "is letterboxed into it, never stretched (default: the source's size)")
    parser.add_argument("--matte", default="green", metavar="COLOR", help="color a transparent cutout is "
                        "sent on: a camera has no alpha (default green, #00b140)")
    parser.add_argument("--quiet", action="store_true", help="no FPS lines (default: off)")
    options.add_max_frames(parser)
    options.add_setting_arguments(parser)
    options.add_model_arguments(parser)


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); ValueError naming the option otherwise."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()) or int(width) < 2 or int(height) < 2:
        raise ValueError(f"--size {text!r} is not WIDTHxHEIGHT of at least 2x2 (e.g. 1280x720)")
    return int(width), int(height)


def send_frames(frames: Iterable, camera, *, pacer=None, report: Callable[[], None] | None = None,
                report_every_s: float = REPORT_EVERY_S, clock: Callable[[], float] = time.perf_counter) -> None:
    """Write each ProcessedFrame to `camera` (its RGBA when the camera takes alpha), held back by
    `pacer` (a SourcePacer) until it is due; `report()` every `report_every_s` of `clock`."""
    from silhouette_cam.frame_sinks import frame_pixels  # OpenCV: only when frames are sent

    next_report = clock() + report_every_s
    for out in frames:
        if pacer is not None:
            pacer.wait(out.timestamp_s)
        camera.write(frame_pixels(out, camera.alpha, pad=False), out.timestamp_s)  # RGBA only where it has alpha
        if report is not None and clock() >= next_report:
            report()
            next_report = clock() + report_every_s


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from silhouette_cam.device import make_pipeline  # FramePipeline on the CPU, DevicePipeline on CUDA
    from silhouette_cam.pacing import SourcePacer
    from silhouette_cam.pipeline_runner import PipelineRunner
    from silhouette_cam.segmenter import PersonSegmenter
    from silhouette_cam.sources import CameraSource, open_source
    from silhouette_cam.virtualcam import VirtualCamera

    options.check_max_frames(args)
    settings = options.build_settings(args)
    size = parse_size(args.size) if args.size else None
    with ExitStack() as stack:
        source = stack.enter_context(open_source(args.source, loop=args.loop))
        camera = stack.enter_context(VirtualCamera(size=size or source.size, fps=source.fps, matte_color=args.matte,
                                                   device=args.output_device, backend=args.backend))
        segmenter = PersonSegmenter(model=args.model, device=args.device, weights=args.weights, threads=1)
        pipeline = make_pipeline(segmenter, settings)
        stack.callback(pipeline.close)
        live = isinstance(source, CameraSource)
        runner = stack.enter_context(PipelineRunner(pipeline, source, live=live, max_frames=args.max_frames))
        width, height = camera.size
        print(f"{source.name} -> {camera.device} ({width}x{height} {camera.pixel_format} at {source.fps:g} FPS, "
              f"{segmenter.device_label}); Ctrl-C to stop", flush=True)

        def report() -> None:
            dropped = f", {runner.frames_dropped} camera frames dropped" if live else ""
            print(f"{camera.fps_sent:.1f} FPS sent, {camera.frames_sent} frames{dropped}", flush=True)

        try:
            send_frames(runner, camera, pacer=None if live else SourcePacer(),
                        report=None if args.quiet else report)
        except KeyboardInterrupt:
            print("", file=sys.stderr)  # end the line after the terminal's ^C
    print(f"sent {camera.frames_sent} frames to {camera.device}")
    return 0
