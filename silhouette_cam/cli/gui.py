"""`silhouette-cam gui` (the default): open the live window.

Takes the same rendering and refinement options as `process` (cli/options.py, from the settings
schema); given ones apply over the settings the window remembers. For automation:
`--quit-after-frames N` processes N frames and exits 0, after saving `--screenshot` and finishing
`--record`; e.g.
    silhouette-cam --source clip.mp4 --mode cutout --record out.mp4 --screenshot win.png \
        --quit-after-frames 60
Any error in such a run (a model or device that cannot be used, a named source that cannot be
opened, a recording or screenshot that fails) is one line on stderr and exit 2, like the other
subcommands; with no --source and no camera the demo clip stands in, as in the window.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from silhouette_cam.cli import options
from silhouette_cam.errors import error_line

LAST_USED = "the last one used, else"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="camera index or device path, a video file, an image folder, or "
                        "'demo' (default: the last one used, else camera 0, else the demo clip)")
    parser.add_argument("--fullscreen", action="store_true", help="start fullscreen; F11 toggles (default: off)")
    parser.add_argument("--record", metavar="PATH",
                        help="start recording the rendered output to PATH at once (default: not recording)")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="save a PNG of the window when the run ends (default: none)")
    parser.add_argument("--quit-after-frames", metavar="N", type=int,
                        help="process N frames, finish --record and --screenshot, exit 0 (2 with one line on stderr "
                        "when anything fails; default: run until closed)")
    parser.add_argument("--settings", metavar="PATH",
                        help="read and write settings in this INI file (default: the user's settings)")
    options.add_setting_arguments(parser, defaults_note=LAST_USED, presets=False)
    options.add_model_arguments(parser, model_default=None, defaults_note=LAST_USED)


def _check_writable_parent(path: str, what: str) -> None:
    parent = Path(path).expanduser().resolve().parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"{what} folder is not a directory: {parent}")
    existing = next((folder for folder in (parent, *parent.parents) if folder.exists()), None)
    if existing is not None and existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{what} {path}: folder {existing} is not writable")


def _check_record_path(path: str) -> None:
    from silhouette_cam.sinks import OPAQUE_CODECS  # the suffixes every recording takes (alpha or not)

    if Path(path).suffix.lower() not in OPAQUE_CODECS:
        raise ValueError(f"--record {path}: expected a file ending in {', '.join(OPAQUE_CODECS)}")
    _check_writable_parent(path, "--record")


def _check_source(spec: str) -> None:
    """A named file or folder must exist (a camera is found out only by opening it, in the window)."""
    from silhouette_cam.gui.source_picker import DEMO, is_camera_spec

    if spec != DEMO and not is_camera_spec(spec) and not Path(spec).exists():
        raise FileNotFoundError(f"--source {spec} does not exist (expected a camera index or device, a video "
                                "file, an image folder or 'demo')")


def _check_background(changes: dict) -> None:
    """A background file named on the command line must be readable (a remembered one that is not
    falls back to the default in the window instead)."""
    if "background_path" not in changes:
        return
    from silhouette_cam.live.background_check import background_problem
    from silhouette_cam.pipeline import PipelineSettings

    problem = background_problem(PipelineSettings().replace(**changes))
    if problem:
        raise ValueError(f"--background: {problem}")


def _check_display() -> None:
    """On Linux without a display Qt aborts the process with a page of text; say it in one line instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise OSError("no display found (DISPLAY and WAYLAND_DISPLAY are unset): run it on a desktop, under "
                      "`xvfb-run -a`, or with QT_QPA_PLATFORM=offscreen for automation")


def run(args: argparse.Namespace) -> int:
    if args.quit_after_frames is not None and args.quit_after_frames < 1:
        raise ValueError(f"--quit-after-frames must be >= 1, got {args.quit_after_frames}")
    if args.weights is not None and not Path(args.weights).is_file():
        raise FileNotFoundError(f"--weights file not found: {args.weights}")
    if args.source:
        _check_source(args.source)
    if args.record:
        _check_record_path(args.record)
    if args.screenshot:
        if Path(args.screenshot).suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp"):
            raise ValueError(f"--screenshot must end in .png, .jpg or .bmp, got {args.screenshot!r}")
        _check_writable_parent(args.screenshot, "--screenshot")
    if args.device != "auto":
        options.check_device(args.device)
    changes = options.settings_changes(args)
    from silhouette_cam.pipeline import PipelineSettings

    PipelineSettings().replace(**changes)  # a bad value: one line now, not a window that cannot start
    _check_background(changes)
    _check_display()

    from silhouette_cam.gui.app import run_window  # Qt and torch load only when the window opens
    from silhouette_cam.gui.launch import LaunchOptions

    mode = changes.pop("mode", None)
    launch = LaunchOptions(
        source=args.source, mode=mode, fullscreen=args.fullscreen, model=args.model, device=args.device,
        weights=args.weights, record_path=args.record, screenshot_path=args.screenshot,
        quit_after_frames=args.quit_after_frames, settings=changes,
    )
    code, failure = run_window(launch, settings_path=args.settings)
    if failure:  # an automation run that failed: one line, like every subcommand's errors
        print(error_line("gui", failure), file=sys.stderr)
    return code
