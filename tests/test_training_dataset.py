"""Dataset pairing, mask encodings and their errors, split, samples; paired transforms."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from silhouette_cam.inference import CpuRunner
from silhouette_cam.model import build_model, shipped_weights_path
from silhouette_cam.training.config import DEFAULT_AFFINE, AffineRanges, TrainConfig
from silhouette_cam.training.dataset import (
    LabelSpec,
    SegmentationFolder,
    class_pixel_counts,
    find_pairs,
    read_label_spec,
    read_mask,
    split_pairs,
    stretch_pair,
)
from silhouette_cam.training.transforms import eval_transform, train_transform

BINARY = LabelSpec(("background", "person"), "binary")


def write_pair(root: Path, stem: str, image: np.ndarray, mask: np.ndarray) -> None:
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "images" / f"{stem}.jpg"), image)
    cv2.imwrite(str(root / "masks" / f"{stem}.png"), mask)


def disc_pair(size=(40, 48)) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros(size, np.uint8)
    cv2.circle(mask, (20, 20), 10, 255, -1)
    image = np.dstack([mask // 2 + 40] * 3)
    return image, mask


def test_pairs_match_by_stem_and_report_the_unpaired(tmp_path):
    image, mask = disc_pair()
    for stem in ("b", "a"):
        write_pair(tmp_path, stem, image, mask)
    pairs = find_pairs(tmp_path / "images", tmp_path / "masks")
    assert [p[0].stem for p in pairs] == ["a", "b"] and pairs[0][1].name == "a.png"
    cv2.imwrite(str(tmp_path / "images" / "lonely.jpg"), image)
    with pytest.raises(ValueError, match=r"1 image\(s\) without a mask .*lonely"):
        find_pairs(tmp_path / "images", tmp_path / "masks")
    with pytest.raises(NotADirectoryError, match="masks folder not found"):
        find_pairs(tmp_path / "images", tmp_path / "nope")


def test_label_spec_sources(tmp_path):
    assert read_label_spec(tmp_path) == BINARY
    spec = read_label_spec(tmp_path, 4)
    assert spec.encoding == "ids" and spec.class_names[:2] == ("background", "class_1") and spec.num_classes == 4
    (tmp_path / "classes.json").write_text(json.dumps({"classes": ["bg", "cat", "dog"], "ignore_index": 200}))
    spec = read_label_spec(tmp_path)
    assert spec == LabelSpec(("bg", "cat", "dog"), "ids", 200)
    with pytest.raises(ValueError, match="--classes 5 disagrees"):
        read_label_spec(tmp_path, 5)
    (tmp_path / "classes.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="list of >= 2 class names"):
        read_label_spec(tmp_path)


def test_binary_masks_threshold_and_ids_are_range_checked(tmp_path):
    path = tmp_path / "m.png"
    cv2.imwrite(str(path), np.array([[0, 127, 128, 255]], np.uint8))
    np.testing.assert_array_equal(read_mask(path, BINARY), [[0, 0, 1, 1]])
    spec = LabelSpec(("bg", "a", "b"), "ids")
    cv2.imwrite(str(path), np.array([[0, 2, 255, 7]], np.uint8))
    with pytest.raises(ValueError, match=r"class ids \[7\] out of range: expected 0..2 or ignore 255"):
        read_mask(path, spec)


def test_size_mismatch_is_reported(tmp_path):
    image, mask = disc_pair()
    write_pair(tmp_path, "a", image, mask[:30])
    dataset = SegmentationFolder(find_pairs(tmp_path / "images", tmp_path / "masks"), BINARY, eval_transform((32, 32)))
    with pytest.raises(ValueError, match=r"size mismatch: image .*a.jpg is \(40, 48\) but mask .*a.png is \(30, 48\)"):
        dataset[0]


def test_split_is_seeded_disjoint_and_zero_means_train_on_all():
    pairs = list(range(10))
    train, val = split_pairs(pairs, 0.2, seed=3)
    assert len(val) == 2 and set(train) | set(val) == set(pairs) and not set(train) & set(val)
    assert split_pairs(pairs, 0.2, seed=3) == (train, val)
    assert split_pairs(pairs, 0.0, seed=3) == (pairs, pairs)
    with pytest.raises(ValueError, match="val_fraction"):
        split_pairs(pairs, 1.0, seed=0)


def test_pixel_counts_per_class(tmp_path):
    image, mask = disc_pair()
    write_pair(tmp_path, "a", image, mask)
    write_pair(tmp_path, "b", image, np.zeros_like(mask))
    counts, image_pixels = class_pixel_counts(find_pairs(tmp_path / "images", tmp_path / "masks"), BINARY)
    fg = int((mask > 0).sum())
    assert counts.tolist() == [2 * mask.size - fg, fg]
    assert image_pixels.tolist() == [2 * mask.size, mask.size]


def test_samples_are_stretched_typed_and_carry_the_border_term(tmp_path):
    image, mask = disc_pair()
    write_pair(tmp_path, "a", image, mask)
    pairs = find_pairs(tmp_path / "images", tmp_path / "masks")
    dataset = SegmentationFolder(
        pairs, BINARY, eval_transform((32, 32)), lambda m: np.full(m.shape, 2, np.float32), size=(32, 32)
    )
    sample = dataset[0]
    assert sample["image"].shape == (3, 32, 32) and sample["image"].dtype == torch.float32
    assert 0.0 <= sample["image"].min() and sample["image"].max() <= 1.0
    assert sample["mask"].dtype == torch.int64 and set(sample["mask"].unique().tolist()) == {0, 1}
    assert (sample["border"] == 2).all()


def test_training_images_are_the_pixels_the_app_feeds_the_network(rng):
    # 240 wide -> 256: the last column reads past the frame, where the app samples zeros
    frame_bgr = rng.integers(0, 256, (320, 240, 3), dtype=np.uint8)
    runner = CpuRunner(*build_model(weights=shipped_weights_path("general")))
    app_rgb = cv2.cvtColor(runner._stretch(frame_bgr), cv2.COLOR_BGR2RGB)
    image, mask = stretch_pair(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), np.ones((320, 240), np.uint8), (256, 256))
    np.testing.assert_array_equal(image, app_rgb)
    assert mask.shape == (256, 256) and (mask == 1).all()  # nearest never reads outside the frame


def erode(region: torch.Tensor) -> torch.Tensor:
    """Pixels whose whole 5x5 neighbourhood is in `region` (bool [H, W])."""
    outside = (~region).float()[None, None]
    return torch.nn.functional.max_pool2d(outside, 5, stride=1, padding=2)[0, 0] == 0


@pytest.mark.parametrize("affine", [None, DEFAULT_AFFINE["selfie"]], ids=["default", "fine-tuning"])
def test_train_transform_moves_image_and_mask_together(rng, affine):
    torch.manual_seed(0)
    mask = np.zeros((64, 64), np.uint8)
    mask[10:40, 8:30] = 1
    image = torch.from_numpy(np.stack([mask * 180 + 40] * 3))
    transform = train_transform((48, 48), ignore_index=255, affine=affine)
    for _ in range(10):
        out_image, out_mask = transform(tv_tensors.Image(image), tv_tensors.Mask(torch.from_numpy(mask)))
        grey = out_image.mean(0)
        fg, bg = erode(out_mask == 1), erode(out_mask == 0)  # away from edges, which interpolation blends
        assert out_image.dtype == torch.float32 and out_mask.shape == (48, 48)
        assert set(out_mask.unique().tolist()) <= {0, 1, 255}  # nearest: no blended labels
        assert grey[fg].min() > grey[bg].max()  # labels stay on their pixels
        assert grey[fg].mean() > grey[bg].mean() + 0.2


def test_affine_ranges_bound_the_zoom_and_uncovered_pixels_are_ignored():
    torch.manual_seed(0)
    image = torch.full((3, 64, 64), 200, dtype=torch.uint8)
    mask = tv_tensors.Mask(torch.ones(64, 64, dtype=torch.uint8))
    for zoom in (0.5, 0.75):
        still = AffineRanges(degrees=0, translate=0, scale=(zoom, zoom))
        transform = train_transform((64, 64), ignore_index=255, flip=False, affine=still)
        out_image, out_mask = transform(tv_tensors.Image(image), mask)
        covered = out_mask != 255  # the shrunken frame; the rest was outside the image
        assert set(out_mask.unique().tolist()) == {1, 255}
        assert abs(int(covered.sum()) - (64 * zoom) ** 2) <= 4 * 64 * zoom  # one-pixel rim of rounding
        assert out_image[:, ~covered].max() < 0.05  # filled with black (colour jitter may lift it a hair)


def test_fine_tuning_augments_wider_than_snet_and_ranges_are_checked(tmp_path):
    options = {"images": tmp_path, "masks": tmp_path, "out": tmp_path / "x.safetensors"}
    assert TrainConfig(**options, model="snet").affine == AffineRanges()  # S-Net: unchanged
    wide = TrainConfig(**options, model="selfie-general").affine
    assert (wide.degrees, wide.translate, wide.scale) == (20.0, 0.1, (0.6, 1.4))
    assert TrainConfig(**options, affine=AffineRanges(degrees=5)).affine.degrees == 5
    with pytest.raises(ValueError, match=r"affine scale must be \(low, high\) with 0 < low <= high, got \(1.2, 0.8\)"):
        AffineRanges(scale=(1.2, 0.8))
    with pytest.raises(ValueError, match="affine translate must be in \\[0, 1\\], got 2"):
        AffineRanges(translate=2)


def test_eval_transform_only_resizes():
    image = torch.full((3, 20, 30), 255, dtype=torch.uint8)
    out_image, out_mask = eval_transform((10, 15))(tv_tensors.Image(image), tv_tensors.Mask(torch.ones(20, 30)))
    assert out_image.shape == (3, 10, 15) and torch.allclose(out_image, torch.ones(3, 10, 15))
    with pytest.raises(ValueError, match="size must be"):
        eval_transform((4, 4))
