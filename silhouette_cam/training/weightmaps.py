"""Per-class and per-pixel loss weights: frequency balancing and the U-Net border term.

The pixel weight used by the loss (losses.py) is the U-Net weight map

    w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))^2 / (2 * sigma^2))      w0 = 10, sigma = 5 px

pinned here as follows (public code disagrees, so this is the project's definition):
- w_c(x) is the class weight of x's true class (`class_weights`, below).
- objects are the 8-connected components of the foreground: pixels whose class is neither the
  background (0) nor the ignore index. Touching objects of different classes form one object.
- d1(x) <= d2(x) are the Euclidean distances (px) from x to the nearest pixel of the nearest and of
  the second-nearest object.
- the border term is applied to background pixels only (the separating gaps, as in the U-Net paper's
  figure); object and ignored pixels get w_c(x) alone.
- fewer than two objects: there is no gap to separate, so the border term is 0 everywhere
  (d2 = +inf), and w(x) = w_c(x).
"""

from __future__ import annotations

import cv2
import numpy as np

UNET_W0 = 10.0
UNET_SIGMA_PX = 5.0
CLASS_WEIGHT_METHODS = ("median", "inverse", "none")


def class_weights(counts: np.ndarray, image_pixels: np.ndarray | None = None, method: str = "median") -> np.ndarray:
    """Class weights `[C]` float32 from training-set pixel counts `[C]`.

    median   median-frequency balancing (Eigen & Fergus): f_c = counts_c / image_pixels_c (pixels of
             the images that contain class c), w_c = median(f over present classes) / f_c.
    inverse  w_c = 1 / (K * p_c), p_c = counts_c / sum(counts), K = number of present classes; so the
             pixel-weighted mean weight is 1.
    none     all ones.
    Classes with no pixels get weight 0 (they have no pixels to weigh).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any():
        raise ValueError(f"counts must be a [C] array of non-negative pixel counts, got shape {counts.shape}")
    if method not in CLASS_WEIGHT_METHODS:
        raise ValueError(f"unknown class weight method {method!r}; expected one of {CLASS_WEIGHT_METHODS}")
    if method == "none":
        return np.ones(len(counts), np.float32)
    present = counts > 0
    if not present.any():
        raise ValueError("no labelled pixels in the training masks: cannot balance class weights")
    weights = np.zeros(len(counts), np.float64)
    if method == "median":
        if image_pixels is None:
            raise ValueError("median-frequency balancing needs image_pixels (pixels of images containing each class)")
        freq = counts[present] / np.asarray(image_pixels, dtype=np.float64)[present]
        weights[present] = np.median(freq) / freq
    else:
        share = counts[present] / counts.sum()
        weights[present] = 1.0 / (present.sum() * share)
    return weights.astype(np.float32)


def parse_class_weights(text: str, num_classes: int) -> np.ndarray | str:
    """`--class-weights` value: a method name, or C comma-separated numbers (`1,2.5,1`) -> `[C]` float32."""
    if text in CLASS_WEIGHT_METHODS:
        return text
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(
            f"--class-weights must be one of {CLASS_WEIGHT_METHODS} or {num_classes} "
            f"comma-separated numbers, got {text!r}"
        ) from None
    if len(values) != num_classes or any(v < 0 for v in values):
        raise ValueError(f"--class-weights needs {num_classes} non-negative numbers, got {len(values)}: {text!r}")
    return np.asarray(values, np.float32)


def unet_border_term(
    mask: np.ndarray,
    *,
    w0: float = UNET_W0,
    sigma: float = UNET_SIGMA_PX,
    background: int = 0,
    ignore_index: int = 255,
) -> np.ndarray:
    """The border term `w0 * exp(-(d1 + d2)^2 / (2 sigma^2))` of the module docstring for a class-id
    mask `[H, W]` (uint8) -> `[H, W]` float32; zero off the background and when < 2 objects."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be [H, W], got shape {mask.shape}")
    if sigma <= 0 or w0 < 0:
        raise ValueError(f"need sigma > 0 and w0 >= 0, got sigma={sigma}, w0={w0}")
    term = np.zeros(mask.shape, np.float32)
    foreground = ((mask != background) & (mask != ignore_index)).astype(np.uint8)
    n_labels, labels = cv2.connectedComponents(foreground, connectivity=8)
    n_objects = n_labels - 1  # label 0 is the rest
    if n_objects < 2 or w0 == 0:
        return term
    d1 = np.full(mask.shape, np.inf, np.float32)
    d2 = np.full(mask.shape, np.inf, np.float32)
    for label in range(1, n_labels):
        # distanceTransform measures to the nearest zero pixel: zero exactly on this object.
        dist = cv2.distanceTransform((labels != label).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        d2 = np.minimum(d2, np.maximum(d1, dist))
        d1 = np.minimum(d1, dist)
    on_background = mask == background
    term[on_background] = w0 * np.exp(-((d1 + d2)[on_background] ** 2) / (2.0 * sigma**2))
    return term


def unet_weight_map(mask: np.ndarray, weights_per_class: np.ndarray, **border_options) -> np.ndarray:
    """The full U-Net weight map w(x) = w_c(x) + border term -> `[H, W]` float32; ignored pixels get 0."""
    weights_per_class = np.asarray(weights_per_class, np.float32)
    ignore_index = border_options.get("ignore_index", 255)
    valid = mask != ignore_index
    w_c = np.zeros(mask.shape, np.float32)
    w_c[valid] = weights_per_class[mask[valid]]
    return np.where(valid, w_c + unet_border_term(mask, **border_options), 0.0).astype(np.float32)
