"""`silhouette-cam segment INPUT... -o OUTDIR`: person masks for image files and folders.

Writes `OUTDIR/<stem>.png`, 8-bit grayscale = round(255 * probability), at each image's own size.
A bad image is reported on one line and skipped; the rest are still done (exit status 2 then).
An output folder that would replace an input is refused before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from silhouette_cam.cli import options
from silhouette_cam.errors import describe, error_line
from silhouette_cam.image_files import IMAGE_SUFFIXES, MAX_PIXELS_ENV, read_image, write_image
from silhouette_cam.overwrite_check import check_output_folder
from silhouette_cam.segmenter import DEVICE_CHOICES, MODEL_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = f"Images over 12.5 MP are refused unless {MAX_PIXELS_ENV} allows more pixels."
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders of images")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR",
                        help="folder for the masks (created; OUTDIR/<stem>.png per image)")
    parser.add_argument("--model", choices=MODEL_CHOICES, default="auto",
                        help="network variant; auto picks landscape for frames wider than 3:2 (default: auto)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="where the network runs: auto uses a CUDA GPU when there is one, else the CPU "
                        "(default: auto)")
    parser.add_argument("--weights", type=Path,
                        help="a custom weights file (from `silhouette-cam train`; default: the shipped model)")
    parser.add_argument("--raw", action="store_true",
                        help="write the network's probability with no refinement (to compare with other runtimes; "
                        "default: off)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (default: off)")
    # The window's and `process`'s refinement options, same names and ranges; not --smoothing: a still
    # image has no previous frame to smooth against.
    options.add_setting_arguments(parser, presets=False, refine_only=True, exclude=("temporal_strength",))


def refine_settings(args: argparse.Namespace):
    """The RefineSettings the options give (validated, errors name the flag); ValueError when --raw is
    combined with refinement options, which it would ignore."""
    changes = {name: value for name, value in options.settings_changes(args).items() if name != "refine"}
    if args.raw and changes:  # ("refine" is --raw's own preset)
        flags = ", ".join(sorted(options.flag_of(name) for name in changes))
        raise ValueError(f"--raw writes the bare network output: it takes no refinement options (got {flags})")
    return options.build_settings(args).refine


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given, folders as their images (sorted); a missing path is kept so it gets reported."""
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            paths.append(item)
    return paths


def probability_to_png(prob: np.ndarray) -> np.ndarray:
    """`[H, W]` float 0..1 -> `[H, W]` uint8 = round(255 * p)."""
    return np.rint(np.clip(prob, 0.0, 1.0) * 255.0).astype(np.uint8)


def mask_name(path: Path) -> str:
    return f"{path.stem}.png"


def run(args: argparse.Namespace) -> int:
    from silhouette_cam.segmenter import PersonSegmenter

    settings = refine_settings(args)
    paths = expand_inputs(args.inputs)
    if not paths:
        raise ValueError(f"no images found in {', '.join(map(str, args.inputs))} "
                         f"(expected files ending in {', '.join(IMAGE_SUFFIXES)})")
    check_output_folder(args.output, {mask_name(p) for p in paths}, paths)
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"output folder {args.output} cannot be created ({describe(exc, name_file=False)})") from None
    segmenter = PersonSegmenter(model=args.model, device=args.device, weights=args.weights)
    if not args.raw:
        from silhouette_cam.pipeline import refine_still
    failures = 0
    written: dict[str, Path] = {}
    quiet = args.quiet or len(paths) < 2
    for path in tqdm(paths, desc="segment", unit="img", disable=quiet, file=sys.stderr):
        target = args.output / mask_name(path)
        try:
            if target.name in written:
                raise ValueError(f"{target} was already written for {written[target.name]} (same file stem)")
            frame = read_image(path)
            prob = segmenter.segment(frame) if args.raw else refine_still(segmenter, frame, settings)
            write_image(target, probability_to_png(prob), what="mask")
            written[target.name] = path
        except (ValueError, OSError) as exc:
            failures += 1
            tqdm.write(error_line("segment", exc), file=sys.stderr)
    print(f"wrote {len(written)} mask(s) to {args.output} ({segmenter.device_label}, model {segmenter.variant}"
          f"{', raw' if args.raw else ''}); {failures} failed")
    return 2 if failures else 0
