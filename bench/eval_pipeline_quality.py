"""Quality of the refined mask against ground truth: DAVIS dance-twirl (IoU, boundary F, dtSSD) and
the portraits (IoU, boundary F), raw network vs refinement settings. Prints a table.

dtSSD is also split by where the truth changes between the two frames ("moving": the mask must
change there too, and what it scores is the edge's accuracy) and where it does not ("still": the
mask's own flicker); the two add up to dtSSD.

    python bench/eval_pipeline_quality.py [--data ../shared/data] [--model auto] [--set edge_radius=6 ...]

Evaluation data only: it is read from the shared data folder, never copied.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

from silhouette_cam.metrics import boundary_f, confusion_matrix, dtssd, iou_per_class
from silhouette_cam.pipeline import refine_still
from silhouette_cam.refine import RAW_SETTINGS, MaskRefiner, RefineSettings
from silhouette_cam.segmenter import PersonSegmenter
from silhouette_cam.sources import VideoFileSource

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def person_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """IoU of the person class (DAVIS's J); 1.0 when both masks are empty."""
    iou = iou_per_class(confusion_matrix(pred.astype(np.uint8), gt.astype(np.uint8), 2))[1]
    return 1.0 if np.isnan(iou) else float(iou)


def score_video(segmenter, settings: RefineSettings, video: Path, mask_dir: Path) -> dict[str, float]:
    """Run the refiner over the video; frame i is scored against mask_dir/{i:05d}.png."""
    refiner = MaskRefiner()
    ious, bfs, flicker, moving = [], [], [], []
    prev = None
    with VideoFileSource(video) as source:
        for index, (frame, _) in enumerate(source):
            gt_path = mask_dir / f"{index:05d}.png"
            if not gt_path.is_file():
                break
            gt = (cv2.imread(str(gt_path), cv2.IMREAD_GRAYSCALE) > 127).astype(np.float32)
            prob = refiner.run(segmenter, frame, settings)
            pred = prob > 0.5
            ious.append(person_iou(pred, gt > 0))
            bfs.append(boundary_f(pred, gt > 0, 3))
            if prev is not None:
                flicker.append(dtssd(prev[0], prob, prev[1], gt))
                truth_changed = gt != prev[1]
                moving.append(dtssd(prev[0] * truth_changed, prob * truth_changed, prev[1], gt))
            prev = (prob, gt)
    return {"iou": float(np.mean(ious)), "bf": float(np.mean(bfs)), "dtssd": float(np.mean(flicker)) * 100,
            "dtssd_moving": float(np.mean(moving)) * 100, "frames": len(ious)}


def score_portraits(segmenter, settings: RefineSettings, folder: Path, limit: int | None) -> dict[str, float]:
    images = sorted((folder / "images").glob("*"))[:limit]
    ious, bfs = [], []
    for path in images:
        gt_path = folder / "masks" / f"{path.stem}.png"
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        gt = cv2.imread(str(gt_path), cv2.IMREAD_GRAYSCALE) > 127
        prob = refine_still(segmenter, frame, settings)  # what `segment` does
        pred = prob > 0.5
        ious.append(person_iou(pred, gt))
        bfs.append(boundary_f(pred, gt, 3))
    return {"iou": float(np.mean(ious)), "bf": float(np.mean(bfs)), "frames": len(ious)}


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    fields = {f.name: f for f in dataclasses.fields(RefineSettings)}
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in fields:
            raise SystemExit(f"unknown setting {name!r}; known: {', '.join(fields)}")
        kind = type(getattr(RefineSettings(), name))
        out[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--portraits", type=int, default=None, help="score only the first N portraits")
    parser.add_argument("--skip-portraits", action="store_true")
    parser.add_argument("--only-default", action="store_true", help="skip the raw and ablation rows")
    parser.add_argument("--set", nargs="*", default=[], help="override default settings, name=value")
    args = parser.parse_args(argv)
    segmenter = PersonSegmenter(model=args.model, device="cpu")
    default = dataclasses.replace(RefineSettings(), **parse_overrides(args.set)).validate()
    rows = [("default", default)]
    if not args.only_default:
        rows = [("raw", RAW_SETTINGS), *rows,
                ("no temporal", dataclasses.replace(default, temporal_strength=0.0)),
                ("no tracking", dataclasses.replace(default, track_people=False)),
                ("no edge refine", dataclasses.replace(default, edge_refine=False))]
    video = args.data / "davis" / "videos" / "dance-twirl.mp4"
    masks = args.data / "davis" / "masks" / "dance-twirl"
    print(f"model={args.model} settings: {default}")
    print(f"{'settings':16s} {'DAVIS IoU':>9s} {'BF@3':>6s} {'dtSSD%':>7s} {'moving':>7s} {'still':>7s} "
          f"{'portr IoU':>9s} {'BF@3':>6s}")
    for name, settings in rows:
        davis = score_video(segmenter, settings, video, masks)
        still = davis["dtssd"] - davis["dtssd_moving"]
        line = (f"{name:16s} {davis['iou']:9.4f} {davis['bf']:6.4f} {davis['dtssd']:7.3f} "
                f"{davis['dtssd_moving']:7.3f} {still:7.3f}")
        if not args.skip_portraits:
            portraits = score_portraits(segmenter, settings, args.data / "portraits", args.portraits)
            line += f" {portraits['iou']:9.4f} {portraits['bf']:6.4f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
