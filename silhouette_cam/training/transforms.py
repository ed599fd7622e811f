"""Paired image/mask transforms (torchvision transforms v2 with `tv_tensors.Mask`).

Every spatial step moves the image and the mask together; masks are resampled with nearest neighbour
(v2 does this for `Mask` by itself) and areas uncovered by rotation/translation are filled with the
ignore index, so they count nowhere. Colour jitter touches the image only.
Called as `transform(Image uint8 [3, H, W], Mask uint8 [H, W]) -> (float32 [3, h, w] 0..1, Mask [h, w])`.

Note: horizontal flips swap left and right; for label sets with left/right classes (e.g. body parts)
train with `flip=False`.
"""

from __future__ import annotations

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from silhouette_cam.training.config import AffineRanges


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    if len(size) != 2 or not all(isinstance(s, int) and s >= 8 for s in size):
        raise ValueError(f"size must be (height, width) ints >= 8, got {size!r}")
    return size


def train_transform(
    size: tuple[int, int],
    *,
    ignore_index: int = 255,
    flip: bool = True,
    augment: bool = True,
    affine: AffineRanges | None = None,
) -> v2.Compose:
    """Resize to `size` (h, w), then (when `augment`) random affine within `affine` (default
    `AffineRanges()`: ±10°, ±5 %, 0.85-1.15x), flip and colour jitter."""
    steps: list = [v2.Resize(_check_size(size), antialias=True)]
    if augment:
        affine = affine or AffineRanges()
        steps.append(
            v2.RandomAffine(
                degrees=affine.degrees,
                translate=(affine.translate, affine.translate),
                scale=affine.scale,
                # bilinear for the image (v2's default is nearest: jagged edges the app never shows);
                # masks always go nearest in v2
                interpolation=v2.InterpolationMode.BILINEAR,
                fill={tv_tensors.Image: 0, tv_tensors.Mask: ignore_index},
            )
        )
        if flip:
            steps.append(v2.RandomHorizontalFlip())
        steps.append(v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03))
    steps.append(v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True))
    return v2.Compose(steps)


def eval_transform(size: tuple[int, int]) -> v2.Compose:
    """Resize to `size` (h, w) only — the network's input size; masks nearest."""
    return v2.Compose(
        [
            v2.Resize(_check_size(size), antialias=True),
            v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
        ]
    )
