"""`silhouette-cam gui` (the default): open the live window.

Takes the same rendering and refinement options as `process` (cli/options.py, from the settings
schema); given ones apply over the settings the window remembers. For automation:
`--quit-after-frames N` processes N frames and exits 0, after saving `--screenshot` and finishing
`--record`; e.g.
    silhouette-cam --source clip.mp4 --mode cutout --record out.mp4 --screenshot win.png \
        --quit-after-frames 60
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from silhouette_cam.cli import options

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
                        help="process N frames, finish --record and --screenshot, exit 0 (default: run until closed)")
    parser.add_argument("--settings", metavar="PATH",
                        help="read and write settings in this INI file (default: the user's settings)")
    options.add_setting_arguments(parser, defaults_note=LAST_USED, presets=False)
    options.add_model_arguments(parser, model_default=None, defaults_note=LAST_USED)


def _check_writable_parent(path: str, what: str) -> None:
    parent = Path(path).expanduser().resolve().parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"{what} folder is not a directory: {parent}")


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
    if args.record:
        _check_writable_parent(args.record, "--record")
    if args.screenshot:
        if Path(args.screenshot).suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp"):
            raise ValueError(f"--screenshot must end in .png, .jpg or .bmp, got {args.screenshot!r}")
        _check_writable_parent(args.screenshot, "--screenshot")
    if args.device != "auto":
        options.check_device(args.device)
    changes = options.settings_changes(args)
    from silhouette_cam.pipeline import PipelineSettings

    PipelineSettings().replace(**changes)  # a bad value: one line now, not a window that cannot start
    _check_display()

    from silhouette_cam.gui.app import run_window  # Qt and torch load only when the window opens
    from silhouette_cam.gui.launch import LaunchOptions

    mode = changes.pop("mode", None)
    launch = LaunchOptions(
        source=args.source, mode=mode, fullscreen=args.fullscreen, model=args.model, device=args.device,
        weights=args.weights, record_path=args.record, screenshot_path=args.screenshot,
        quit_after_frames=args.quit_after_frames, settings=changes,
    )
    return run_window(launch, settings_path=args.settings)
