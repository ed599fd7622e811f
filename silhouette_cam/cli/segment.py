"""`silhouette-cam segment INPUT... -o OUTDIR`: person masks for image files and folders.

Writes `OUTDIR/<stem>.png`, 8-bit grayscale = round(255 * probability), at each image's own size.
A bad image is reported on one line and skipped; the rest are still done (exit status 2 then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from silhouette_cam.frames import IMAGE_SUFFIXES, read_image
from silhouette_cam.segmenter import DEVICE_CHOICES, MODEL_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders of images")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="folder for the masks")
    parser.add_argument("--model", choices=MODEL_CHOICES, default="auto",
                        help="network variant; auto picks landscape for frames wider than 3:2")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--weights", type=Path, help="a custom weights file (from `silhouette-cam train`)")
    parser.add_argument("--raw", action="store_true",
                        help="write the network's probability with no refinement (to compare with other runtimes)")


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given, folders as their images (sorted); a missing path is kept so it gets reported."""
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(item)
    return paths


def probability_to_png(prob: np.ndarray) -> np.ndarray:
    """`[H, W]` float 0..1 -> `[H, W]` uint8 = round(255 * p)."""
    return np.rint(np.clip(prob, 0.0, 1.0) * 255.0).astype(np.uint8)


def run(args: argparse.Namespace) -> int:
    from silhouette_cam.segmenter import PersonSegmenter

    paths = expand_inputs(args.inputs)
    if not paths:
        raise ValueError(f"no images found in {', '.join(map(str, args.inputs))} "
                         f"(expected files ending in {', '.join(IMAGE_SUFFIXES)})")
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"output folder {args.output} cannot be created ({exc.strerror})") from None
    segmenter = PersonSegmenter(model=args.model, device=args.device, weights=args.weights)
    if not args.raw:
        from silhouette_cam.pipeline import refine_still
    failures = 0
    written: dict[str, Path] = {}
    for path in tqdm(paths, desc="segment", unit="img", disable=len(paths) < 2):
        target = args.output / f"{path.stem}.png"
        try:
            if target.name in written:
                raise ValueError(f"{target} was already written for {written[target.name]} (same file stem)")
            frame = read_image(path)
            prob = segmenter.segment(frame) if args.raw else refine_still(segmenter, frame)
            if not cv2.imwrite(str(target), probability_to_png(prob)):
                raise OSError(f"mask {target} could not be written")
            written[target.name] = path
        except (ValueError, OSError) as exc:
            failures += 1
            tqdm.write(f"silhouette-cam segment: error: {exc}", file=sys.stderr)
    print(f"wrote {len(written)} mask(s) to {args.output} ({segmenter.device_label}, model {segmenter.variant}"
          f"{', raw' if args.raw else ''}); {failures} failed")
    return 2 if failures else 0
