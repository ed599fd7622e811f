"""Image/mask folder datasets: pairing by stem, label encodings, validation, train/val split.

A dataset is a folder of images (jpg/png/bmp/webp) and a folder of PNG masks with the same stems.
Two mask encodings, chosen by `read_label_spec`:
  binary  person-vs-background: 0 = background, 255 = person (thresholded at 128, so resampled masks
          work); classes ("background", "person")
  ids     class ids 0..C-1 per pixel, 0 = background; the ignore value (default 255) marks pixels that
          count nowhere (unlabelled, padding). Used when a `classes.json` lies in the masks folder or
          its parent ({"classes": [...names...], "ignore_index": 255} or a bare list of names), or
          when `num_classes` > 2 is given (names then "background", "class_1", ...).
Samples are dicts: image float32 `[3, H, W]` RGB 0..1, mask int64 `[H, W]` ids, border float32
`[H, W]` (the U-Net border term, zeros when disabled) — after the paired transform.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors

from silhouette_cam.frames import stretch_matrix
from silhouette_cam.image_files import read_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
CLASS_FILE = "classes.json"
BINARY_THRESHOLD = 128


@dataclass(frozen=True)
class LabelSpec:
    """How masks encode classes: `encoding` is "binary" (0/255) or "ids" (0..C-1, `ignore_index` skipped)."""

    class_names: tuple[str, ...]
    encoding: str
    ignore_index: int = 255

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def read_label_spec(masks_dir: str | Path, num_classes: int | None = None) -> LabelSpec:
    """The label spec for a masks folder: its classes.json, else binary (C = 2) or ids (C = num_classes)."""
    masks_dir = Path(masks_dir)
    if num_classes is not None and num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (background + one class), got {num_classes}")
    for candidate in (masks_dir / CLASS_FILE, masks_dir.parent / CLASS_FILE):
        if candidate.is_file():
            spec = _parse_class_file(candidate)
            if num_classes is not None and num_classes != spec.num_classes:
                raise ValueError(f"--classes {num_classes} disagrees with {candidate}: {spec.num_classes} classes")
            return spec
    if num_classes is None or num_classes == 2:
        return LabelSpec(("background", "person"), "binary")
    names = ("background",) + tuple(f"class_{i}" for i in range(1, num_classes))
    return LabelSpec(names, "ids")


def _parse_class_file(path: Path) -> LabelSpec:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, list):
        data = {"classes": data}
    names = data.get("classes") if isinstance(data, dict) else None
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path}: expected a list of >= 2 class names under 'classes', got {names!r}")
    ignore = data.get("ignore_index", 255)
    if not isinstance(ignore, int) or not len(names) <= ignore <= 255:
        raise ValueError(f"{path}: ignore_index must be an int in {len(names)}..255, got {ignore!r}")
    return LabelSpec(tuple(names), "ids", ignore)


def find_pairs(images_dir: str | Path, masks_dir: str | Path) -> list[tuple[Path, Path]]:
    """Sorted (image, mask) paths matched by stem; ValueError naming stems that lack a partner."""
    images_dir, masks_dir = Path(images_dir), Path(masks_dir)
    for name, folder in (("images", images_dir), ("masks", masks_dir)):
        if not folder.is_dir():
            raise NotADirectoryError(f"{name} folder not found: {folder}")
    images = {p.stem: p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    masks = {p.stem: p for p in masks_dir.iterdir() if p.suffix.lower() == ".png"}
    no_mask = sorted(set(images) - set(masks))
    no_image = sorted(set(masks) - set(images))
    if no_mask or no_image:
        parts = []
        if no_mask:
            parts.append(f"{len(no_mask)} image(s) without a mask in {masks_dir} (e.g. {', '.join(no_mask[:3])})")
        if no_image:
            parts.append(f"{len(no_image)} mask(s) without an image in {images_dir} (e.g. {', '.join(no_image[:3])})")
        raise ValueError("unpaired files: " + "; ".join(parts))
    if not images:
        raise ValueError(f"no images ({'/'.join(IMAGE_SUFFIXES)}) found in {images_dir}")
    return [(images[stem], masks[stem]) for stem in sorted(images)]


def split_pairs(pairs: Sequence, val_fraction: float, seed: int) -> tuple[list, list]:
    """Seeded random split into (train, val); val_fraction 0 -> val is the training set (overfit check)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if val_fraction == 0.0:
        return list(pairs), list(pairs)
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = max(1, round(len(pairs) * val_fraction))
    if n_val >= len(pairs):
        raise ValueError(f"{len(pairs)} pairs are too few to hold back {val_fraction:.0%} for validation")
    val = [pairs[i] for i in sorted(order[:n_val])]
    train = [pairs[i] for i in sorted(order[n_val:])]
    return train, val


def read_image_rgb(path: Path) -> np.ndarray:
    """`[H, W, 3]` uint8 RGB (through image_files: any file name, the pixel limit, damage named)."""
    return cv2.cvtColor(read_image(path), cv2.COLOR_BGR2RGB)


def read_mask(path: Path, spec: LabelSpec) -> np.ndarray:
    """`[H, W]` uint8 class ids (0..C-1, or spec.ignore_index); ValueError for ids out of range."""
    # Bytes read by Python, decoded by OpenCV: class ids unchanged, and any file name works.
    raw = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED) if Path(path).is_file() else None
    if raw is None:
        raise OSError(f"cannot read mask {path}")
    if raw.ndim == 3:
        if (
            raw.shape[2] in (3, 4)
            and np.array_equal(raw[..., 0], raw[..., 1])
            and np.array_equal(raw[..., 0], raw[..., 2])
        ):
            raw = raw[..., 0]
        else:
            raise ValueError(f"mask {path} has {raw.shape[2]} different channels, expected one (grey) channel")
    if raw.dtype != np.uint8:
        raise ValueError(f"mask {path} has dtype {raw.dtype}, expected 8-bit PNG")
    if spec.encoding == "binary":
        return (raw >= BINARY_THRESHOLD).astype(np.uint8)
    bad = (raw >= spec.num_classes) & (raw != spec.ignore_index)
    if bad.any():
        values = np.unique(raw[bad])[:5].tolist()
        raise ValueError(
            f"mask {path} has class ids {values} out of range: expected 0..{spec.num_classes - 1} "
            f"or ignore {spec.ignore_index} (binary 0/255 masks need no --classes)"
        )
    return raw


def read_pair(image_path: Path, mask_path: Path, spec: LabelSpec) -> tuple[np.ndarray, np.ndarray]:
    image, mask = read_image_rgb(image_path), read_mask(mask_path, spec)
    if image.shape[:2] != mask.shape:
        raise ValueError(f"size mismatch: image {image_path} is {image.shape[:2]} but mask {mask_path} is {mask.shape}")
    return image, mask


def stretch_pair(image: np.ndarray, mask: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Stretch image `[H, W, 3]` and mask `[H, W]` to `size` (h, w) the way the segmenter feeds frames.

    The image gets exactly the segmenter's pixels: bilinear, zeros outside the frame (BORDER_CONSTANT;
    when enlarging, the last column/row blends with them). Replicating the border instead fed
    different pixels than the app does and moved the shipped network's logits by up to ~50 (sign
    flips in ~10 pixels per portrait). The mask goes nearest, which never reads outside the frame.
    """
    height, width = size
    matrix = stretch_matrix(image.shape[1], image.shape[0], width, height)
    image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpAffine(mask, matrix, (width, height), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    return image, mask


def class_pixel_counts(pairs: Sequence[tuple[Path, Path]], spec: LabelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Scan every mask (validating it): pixels per class `[C]` int64 and, per class, the total pixels of
    the images that contain it `[C]` int64 (for median-frequency balancing)."""
    counts = np.zeros(spec.num_classes, np.int64)
    image_pixels = np.zeros(spec.num_classes, np.int64)
    for _image_path, mask_path in pairs:
        mask = read_mask(mask_path, spec)
        per_class = np.bincount(mask.ravel(), minlength=256)[: spec.num_classes]
        counts += per_class
        image_pixels += np.where(per_class > 0, int((mask != spec.ignore_index).sum()), 0)
    return counts, image_pixels


class SegmentationFolder(Dataset):
    """Paired samples from (image, mask) paths, decoded once and kept in memory (uint8).

    size: (h, w) to stretch every pair to once, at load time, with the same corner-to-corner map the
    segmenter uses at inference (`frames.stretch_matrix`; image bilinear, mask nearest), so training
    sees frames exactly as the app feeds them; None keeps the native size.
    transform: a torchvision v2 transform called as `transform(Image, Mask) -> (Image, Mask)` that
    ends with the image as float 0..1 (see transforms.py). border_map: `mask [H, W] uint8 ->
    float32 [H, W]` (weightmaps.unet_border_term), or None for zeros.
    """

    def __init__(
        self,
        pairs: Sequence[tuple[Path, Path]],
        spec: LabelSpec,
        transform: Callable,
        border_map: Callable[[np.ndarray], np.ndarray] | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.pairs = list(pairs)
        self.size = size
        self.spec = spec
        self.transform = transform
        self.border_map = border_map
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if index not in self._cache:
            image, mask = read_pair(*self.pairs[index], self.spec)
            if self.size is not None:
                image, mask = stretch_pair(image, mask, self.size)
            self._cache[index] = (torch.from_numpy(image).permute(2, 0, 1).contiguous(), torch.from_numpy(mask))
        return self._cache[index]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        image, mask = self._load(index)
        image, mask = self.transform(tv_tensors.Image(image), tv_tensors.Mask(mask))
        mask_np = mask.as_subclass(torch.Tensor).numpy().astype(np.uint8)
        if self.border_map is not None:
            border = torch.from_numpy(self.border_map(mask_np))
        else:
            border = torch.zeros(mask_np.shape, dtype=torch.float32)
        return {
            "image": image.as_subclass(torch.Tensor),  # [3, H, W] float32 0..1
            "mask": torch.from_numpy(mask_np).long(),  # [H, W] int64 ids / ignore
            "border": border,  # [H, W] float32
        }
