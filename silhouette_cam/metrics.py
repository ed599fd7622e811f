"""Segmentation quality metrics: confusion matrix / IoU, boundary F-measure, temporal flicker (dtSSD).

All functions take numpy arrays and return numpy values; none touch the network or the GPU.
"""

from __future__ import annotations

import cv2
import numpy as np


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Count (target, pred) pairs: returns [C, C] int64, rows = target class, columns = predicted class.

    pred, target: integer arrays of the same shape, values in 0..C-1; target pixels equal to
    `ignore_index` are skipped, as are pred values outside 0..C-1 (counted nowhere).
    """
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {pred.shape} != {target.shape}")
    if not (np.issubdtype(pred.dtype, np.integer) or pred.dtype == bool):
        raise TypeError(f"pred must be an integer array, got dtype {pred.dtype}")
    if not (np.issubdtype(target.dtype, np.integer) or target.dtype == bool):
        raise TypeError(f"target must be an integer array, got dtype {target.dtype}")
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    c = int(num_classes)
    p = pred.reshape(-1).astype(np.int64)
    t = target.reshape(-1).astype(np.int64)
    keep = (t != ignore_index) & (t >= 0) & (t < c) & (p >= 0) & (p < c)
    counts = np.bincount(t[keep] * c + p[keep], minlength=c * c)
    return counts.reshape(c, c).astype(np.int64)


def iou_per_class(confusion: np.ndarray) -> np.ndarray:
    """Intersection over union per class from a [C, C] confusion matrix -> [C] float64.

    A class absent from both prediction and target gets nan (so `mean_iou` skips it).
    """
    cm = np.asarray(confusion, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion must be a square [C, C] matrix, got shape {cm.shape}")
    intersection = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), np.nan)


def mean_iou(confusion: np.ndarray) -> float:
    """Mean of `iou_per_class` over the classes present (nan when no class is present)."""
    ious = iou_per_class(confusion)
    if np.all(np.isnan(ious)):
        return float("nan")
    return float(np.nanmean(ious))


def _boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide inner boundary of a binary mask: mask pixels with a 4-neighbour outside it."""
    m = mask.astype(np.uint8)
    # Pad with the edge value so the image border itself is not a boundary (DAVIS convention).
    padded = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    eroded = cv2.erode(padded, cross)[1:-1, 1:-1]
    return (m > 0) & (eroded == 0)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def boundary_f(pred_mask: np.ndarray, gt_mask: np.ndarray, tolerance_px: int = 3) -> float:
    """DAVIS-style boundary F-measure of two binary masks [H, W] (bool or 0/nonzero).

    Precision: share of predicted boundary pixels within `tolerance_px` (a disk) of a true boundary
    pixel; recall: the converse; F = 2PR / (P + R). Empty boundaries: both empty -> 1.0 (nothing to
    find, nothing invented); exactly one empty -> 0.0.
    """
    pred = np.asarray(pred_mask)
    gt = np.asarray(gt_mask)
    if pred.shape != gt.shape or pred.ndim != 2:
        raise ValueError(f"pred_mask and gt_mask must be [H, W] of the same shape, got {pred.shape} and {gt.shape}")
    if tolerance_px < 0:
        raise ValueError(f"tolerance_px must be >= 0, got {tolerance_px}")
    pred_b = _boundary_map(pred != 0)
    gt_b = _boundary_map(gt != 0)
    n_pred, n_gt = int(pred_b.sum()), int(gt_b.sum())
    if n_pred == 0 and n_gt == 0:
        return 1.0
    if n_pred == 0 or n_gt == 0:
        return 0.0
    disk = _disk(int(tolerance_px))
    gt_near = cv2.dilate(gt_b.astype(np.uint8), disk) > 0
    pred_near = cv2.dilate(pred_b.astype(np.uint8), disk) > 0
    precision = float((pred_b & gt_near).sum()) / n_pred
    recall = float((gt_b & pred_near).sum()) / n_gt
    if precision + recall == 0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def dtssd(prev_prob: np.ndarray, prob: np.ndarray, prev_gt: np.ndarray, gt: np.ndarray) -> float:
    """Temporal flicker of one frame pair: mean |(p_t - p_{t-1}) - (g_t - g_{t-1})|.

    All four inputs are [H, W] floats in 0..1 (ground truth 0/1). Zero when the prediction changes
    exactly as the truth does; a static scene with a flickering mask scores its flicker.
    (The mean absolute value is used rather than the root of the squared sum so it reads in mask units.)
    """
    arrays = [np.asarray(a, dtype=np.float32) for a in (prev_prob, prob, prev_gt, gt)]
    shape = arrays[0].shape
    for name, a in zip(("prev_prob", "prob", "prev_gt", "gt"), arrays, strict=True):
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {shape} like prev_prob")
    p0, p1, g0, g1 = arrays
    return float(np.mean(np.abs((p1 - p0) - (g1 - g0))))
