"""Score a segmenter against ground-truth masks at the masks' own resolution (what `silhouette-cam eval` runs).

The segmenter is anything with `class_names` and `segment_classes(frame_bgr) -> (person probability
[H, W] float32, class map [H, W] uint8)` — the app's `PersonSegmenter`, so scores describe exactly
what the app shows. Metrics come from `silhouette_cam.metrics`:
  IoU per class and mean IoU  from one confusion matrix summed over all frames (pixels pooled)
  boundary F (3 px)           mean over frames of the silhouette (not-background) boundary F
  flicker (videos only)       mean over consecutive frame pairs of dtSSD(person probability, truth)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from silhouette_cam import metrics
from silhouette_cam.image_files import read_image
from silhouette_cam.training.dataset import LabelSpec, find_pairs, read_label_spec, read_mask


class ClassSegmenter(Protocol):
    class_names: tuple[str, ...]

    def segment_classes(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclasses.dataclass
class Scores:
    class_names: tuple[str, ...]
    confusion: np.ndarray  # [C, C] int64, rows = truth
    boundary_f: float
    frames: int
    dtssd: float | None = None  # videos only

    @property
    def iou_per_class(self) -> np.ndarray:
        return metrics.iou_per_class(self.confusion)

    @property
    def mean_iou(self) -> float:
        return metrics.mean_iou(self.confusion)

    def to_json(self) -> dict:
        def number(value: float) -> float | None:
            return None if np.isnan(value) else round(float(value), 6)

        result = {
            "frames": self.frames,
            "classes": list(self.class_names),
            "iou_per_class": {n: number(v) for n, v in zip(self.class_names, self.iou_per_class, strict=True)},
            "mean_iou": number(self.mean_iou),
            "boundary_f": number(self.boundary_f),
            "boundary_tolerance_px": 3,
        }
        if self.dtssd is not None:
            result["dtssd"] = number(self.dtssd)
        return result

    def table(self) -> str:
        """Human-readable table: one row per class, then the summary metrics."""
        lines = [f"{'class':24s} {'IoU':>8s}", "-" * 33]
        for name, value in zip(self.class_names, self.iou_per_class, strict=True):
            lines.append(f"{name:24s} {'absent' if np.isnan(value) else f'{value:.4f}':>8s}")
        lines += [
            "-" * 33,
            f"{'mean IoU':24s} {self.mean_iou:8.4f}",
            f"{'boundary F (3 px)':24s} {self.boundary_f:8.4f}",
        ]
        if self.dtssd is not None:
            lines.append(f"{'flicker (dtSSD)':24s} {self.dtssd:8.4f}")
        lines.append(f"{'frames':24s} {self.frames:8d}")
        return "\n".join(lines)


def _label_spec(masks_dir: Path, segmenter: ClassSegmenter) -> LabelSpec:
    spec = read_label_spec(masks_dir, len(segmenter.class_names))
    if spec.num_classes != len(segmenter.class_names):
        raise ValueError(
            f"masks in {masks_dir} have {spec.num_classes} classes, the model has {len(segmenter.class_names)}"
        )
    return spec


def score_frames(
    segmenter: ClassSegmenter,
    frames_and_masks: Iterable[tuple[np.ndarray, np.ndarray]],
    spec: LabelSpec,
    *,
    video: bool = False,
) -> Scores:
    """Score (frame BGR `[H, W, 3]` uint8, truth ids `[H, W]` uint8) pairs; dtSSD when `video`."""
    num_classes = spec.num_classes
    confusion = np.zeros((num_classes, num_classes), np.int64)
    boundary, flicker = [], []
    previous = None
    for frame, truth in frames_and_masks:
        if frame.shape[:2] != truth.shape:
            raise ValueError(f"frame {len(boundary)} is {frame.shape[:2]} but its mask is {truth.shape}")
        prob, class_map = segmenter.segment_classes(frame)
        confusion += metrics.confusion_matrix(class_map, truth, num_classes, spec.ignore_index)
        valid = truth != spec.ignore_index
        person_truth = (truth != 0) & valid
        boundary.append(metrics.boundary_f((class_map != 0) & valid, person_truth, 3))
        if video:
            truth_float = person_truth.astype(np.float32)
            if previous is not None:
                flicker.append(metrics.dtssd(previous[0], prob, previous[1], truth_float))
            previous = (prob, truth_float)
    if not boundary:
        raise ValueError("nothing to score: no frames")
    return Scores(
        tuple(segmenter.class_names),
        confusion,
        float(np.mean(boundary)),
        len(boundary),
        float(np.mean(flicker)) if video and flicker else (float("nan") if video else None),
    )


def score_folder(segmenter: ClassSegmenter, images_dir: str | Path, masks_dir: str | Path) -> Scores:
    """Score every image/mask pair of two folders (pairing and mask rules of dataset.py)."""
    masks_dir = Path(masks_dir)
    spec = _label_spec(masks_dir, segmenter)
    pairs = find_pairs(images_dir, masks_dir)

    def frames() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for image_path, mask_path in pairs:
            yield read_image(image_path), read_mask(mask_path, spec)

    return score_frames(segmenter, frames(), spec)


def score_video(segmenter: ClassSegmenter, video_path: str | Path, masks_dir: str | Path) -> Scores:
    """Score a video against a folder of per-frame masks (sorted by name: mask i is decoded frame i)."""
    from silhouette_cam.sources import VideoFileSource

    masks_dir = Path(masks_dir)
    if not masks_dir.is_dir():
        raise NotADirectoryError(f"masks folder not found: {masks_dir}")
    spec = _label_spec(masks_dir, segmenter)
    mask_paths = sorted(p for p in masks_dir.iterdir() if p.suffix.lower() == ".png")
    if not mask_paths:
        raise ValueError(f"no PNG masks in {masks_dir}")

    def frames() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with VideoFileSource(video_path) as source:
            decoded = 0
            while (item := source.read()) is not None:
                if decoded == len(mask_paths):
                    raise ValueError(
                        f"{video_path} has more frames than the {len(mask_paths)} masks in "
                        f"{masks_dir}; expected one mask per frame"
                    )
                yield item[0], read_mask(mask_paths[decoded], spec)
                decoded += 1
        if decoded != len(mask_paths):
            raise ValueError(
                f"{video_path} has {decoded} frames but {masks_dir} has {len(mask_paths)} masks; "
                "expected one mask per frame"
            )

    return score_frames(segmenter, frames(), spec, video=True)
