"""Generate a synthetic segmentation dataset: filled shapes on textured backgrounds.

    python tests/make_shapes_dataset.py OUT_DIR [--count 300] [--size 128] [--classes 3] [--seed 0]

Writes OUT_DIR/images/NNNN.png (RGB), OUT_DIR/masks/NNNN.png (class ids: 0 background, 1 disc,
2 square (rotated), with --classes 3) and OUT_DIR/masks/classes.json. Backgrounds are random stripe
and noise textures in random colours; discs are one noisy random colour, squares a 3-px checkerboard of
two; 1-4 shapes per image, possibly overlapping (later shapes on top). Colour never gives the class
away; shape and fill texture do (a from-scratch network learns that within minutes on a CPU).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from silhouette_cam.model import WeightFacts

CLASS_NAMES = ("background", "disc", "square")
# Facts of a 3-class S-Net for this dataset at 64x64 (tests that save one use them).
SHAPES_SNET_FACTS = WeightFacts(architecture="snet", variant="shapes", input_height=64, input_width=64,
                                classes=CLASS_NAMES, extra={"encoder": "mobilenet_v3_small"})
CHECKER_PX = 3


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """`[size, size, 3]` uint8: two colours mixed by oriented stripes, plus pixel noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(6, 30)
    stripes = 0.5 + 0.5 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    image = a * stripes[..., None] + b * (1 - stripes[..., None])
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_sample(rng: np.random.Generator, size: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """-> (image `[size, size, 3]` uint8 RGB, mask `[size, size]` uint8 class ids 0..num_classes-1)."""
    image = _texture(rng, size)
    mask = np.zeros((size, size), np.uint8)
    for _ in range(rng.integers(1, 5)):
        kind = int(rng.integers(1, num_classes))
        shape = np.zeros((size, size), np.uint8)
        center = rng.uniform(0.15 * size, 0.85 * size, 2)
        radius = rng.uniform(0.1 * size, 0.22 * size)
        if kind == 1:
            cv2.circle(shape, tuple(int(c) for c in center), int(radius), 1, -1)
        else:
            box = cv2.boxPoints(((float(center[0]), float(center[1])), (2 * radius, 2 * radius), rng.uniform(0, 90)))
            cv2.fillPoly(shape, [box.astype(np.int32)], 1)
        fill = rng.uniform(0, 255, 3) + rng.normal(0, 12, (size, size, 3))
        if kind == 2:  # squares: a fine checkerboard of two colours, so texture as well as shape tells
            yy, xx = np.mgrid[0:size, 0:size]
            checker = ((yy // CHECKER_PX + xx // CHECKER_PX) % 2).astype(bool)
            fill[checker] = rng.uniform(0, 255, 3) + rng.normal(0, 12, (int(checker.sum()), 3))
        fill = np.clip(fill, 0, 255).astype(np.uint8)
        inside = shape > 0
        image[inside] = fill[inside]
        mask[inside] = kind
    return image, mask


def make_shapes_dataset(
    out_dir: str | Path, *, count: int = 300, size: int = 128, num_classes: int = 3, seed: int = 0
) -> Path:
    """Write the dataset (see the module docstring) and return out_dir."""
    if num_classes not in (2, 3):
        raise ValueError(f"num_classes must be 2 or 3, got {num_classes}")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        image, mask = make_sample(rng, size, num_classes)
        cv2.imwrite(str(out_dir / "images" / f"{index:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(out_dir / "masks" / f"{index:04d}.png"), mask)
    classes = {"classes": list(CLASS_NAMES[:num_classes]), "ignore_index": 255}
    (out_dir / "masks" / "classes.json").write_text(json.dumps(classes, indent=2) + "\n")
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    make_shapes_dataset(args.out_dir, count=args.count, size=args.size, num_classes=args.classes, seed=args.seed)
    print(f"wrote {args.count} pairs to {args.out_dir}")


if __name__ == "__main__":
    main()
