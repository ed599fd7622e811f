"""Command line: `silhouette-cam [SUBCOMMAND] ...`; with no subcommand it opens the window.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`;
modules are imported only when their subcommand runs, so `--help` and the GUI start fast.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys

from silhouette_cam.errors import DeviceError, configure_logging, error_line
from silhouette_cam.opencv_log import quiet_opencv_log
from silhouette_cam.threads import apply_thread_policy

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "gui": ("silhouette_cam.cli.gui", "open the live window (the default)"),
    "process": ("silhouette_cam.cli.process", "render a video or image folder to a video or PNG sequence"),
    "virtualcam": ("silhouette_cam.cli.virtualcam", "send the rendering to a virtual camera for video calls"),
    "segment": ("silhouette_cam.cli.segment", "write person masks for images"),
    "eval": ("silhouette_cam.cli.evaluate", "score a model against ground-truth masks"),
    "train": ("silhouette_cam.cli.train", "train or fine-tune a model on image/mask folders"),
    "convert-weights": ("silhouette_cam.cli.convert", "convert a MediaPipe selfie .tflite to safetensors"),
}

# Errors that mean "the user gave us something we cannot use": one line, exit 2, no traceback.
USER_ERRORS = (ValueError, TypeError, OSError, DeviceError)


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, str]:
    """Return the parser for the subcommand named in argv (default: gui) and that name."""
    from silhouette_cam.cli.options import OneLineParser

    name = argv[0] if argv and argv[0] in SUBCOMMANDS else "gui"
    module = importlib.import_module(SUBCOMMANDS[name][0])
    parser = OneLineParser(prog=f"silhouette-cam {name}", description=SUBCOMMANDS[name][1])
    module.add_arguments(parser)
    return parser, name


def top_level_help() -> str:
    """`silhouette-cam --help`: the subcommands, then the window's own options (the default command)."""
    parser, _ = build_parser([])
    parser.prog = "silhouette-cam"
    parser.usage = "silhouette-cam [SUBCOMMAND] [options]"
    lines = ["Live person segmentation. With no subcommand it opens the window, which takes the options",
             "below; `silhouette-cam SUBCOMMAND --help` shows a subcommand's options.", "", "subcommands:"]
    lines += [f"  {name:16s} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    parser.description = "\n".join(lines)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser.format_help()


def unknown_subcommand(word: str) -> str:
    """The one-line error for a first word that is neither a subcommand nor an option."""
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(SUBCOMMANDS)}"
    return f"silhouette-cam: error: unknown subcommand {word!r}: {hint}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].lower() in SUBCOMMANDS:
        argv[0] = argv[0].lower()  # `Process` is `process`, as choices ignore case
    if argv and argv[0] in ("-h", "--help"):
        print(top_level_help(), end="")
        return 0
    if argv and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS:
        # The window takes no positional arguments: a bare first word is a mistyped subcommand.
        print(unknown_subcommand(argv[0]), file=sys.stderr)
        return 2
    parser, name = build_parser(argv)
    args = parser.parse_args(argv[1:] if argv and argv[0] == name else argv)
    module = importlib.import_module(SUBCOMMANDS[name][0])
    quiet_opencv_log()  # before any thread starts (the level is process-wide)
    apply_thread_policy()  # one thread inside each OpenCV call: the pipeline overlaps its stages itself
    configure_logging()  # warnings (a truncated file, a fitted frame) as one stderr line each
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 must print, not crash the run
        if hasattr(stream, "reconfigure") and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("silhouette-cam: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if os.environ.get("SILHOUETTE_CAM_DEBUG"):
            raise
        print(error_line(name, exc), file=sys.stderr)
        return 2
