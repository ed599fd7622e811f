"""`silhouette-cam eval (--images DIR --masks DIR | --video FILE --masks DIR) [--weights PATH] [--json OUT]`.

Runs the app's segmenter on every frame and scores it against the masks at their own resolution:
IoU per class, mean IoU, boundary F (3 px) and, for a video, flicker (dtSSD). Prints a table; --json
also writes the numbers (see training/scoring.py for the definitions).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from silhouette_cam.atomic_file import write_text
from silhouette_cam.segmenter import DEVICE_CHOICES, MODEL_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, metavar="DIR", help="folder of images (pairs with --masks by stem)")
    source.add_argument("--video", type=Path, metavar="FILE", help="video file; --masks holds one PNG per frame")
    parser.add_argument(
        "--masks",
        type=Path,
        required=True,
        metavar="DIR",
        help="ground-truth PNG masks: 0/255, or class ids with a classes.json beside them",
    )
    parser.add_argument("--weights", type=Path, help="weights file to score (default: the shipped models)")
    parser.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default="auto",
        help="shipped variant when no --weights; auto picks landscape for frames wider than 3:2",
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="where the network runs: auto uses a CUDA GPU when there is one, else the CPU "
                        "(default auto)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the scores as JSON here")


def run(args: argparse.Namespace) -> int:
    from silhouette_cam.segmenter import PersonSegmenter
    from silhouette_cam.training.scoring import score_folder, score_video

    segmenter = PersonSegmenter(model=args.model, device=args.device, weights=args.weights)
    if args.video is not None:
        scores = score_video(segmenter, args.video, args.masks)
    else:
        scores = score_folder(segmenter, args.images, args.masks)
    model_name = str(args.weights) if args.weights is not None else f"shipped ({args.model})"
    print(f"model: {model_name}   device: {segmenter.device_label}")
    print(scores.table())
    if args.json is not None:
        report = {
            "model": model_name,
            "source": str(args.video or args.images),
            "masks": str(args.masks),
            **scores.to_json(),
        }
        write_text(args.json, json.dumps(report, indent=2) + "\n", what="--json scores")
    return 0
