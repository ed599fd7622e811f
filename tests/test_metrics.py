"""Tests for silhouette_cam.metrics: hand-computed confusion/IoU, boundary F cases, dtSSD."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from silhouette_cam.metrics import boundary_f, confusion_matrix, dtssd, iou_per_class, mean_iou


def test_confusion_matrix_counts_rows_target_cols_pred():
    target = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [1, 0, 2]])
    cm = confusion_matrix(pred, target, num_classes=3)
    expected = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)


def test_iou_per_class_and_mean():
    cm = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    ious = iou_per_class(cm)
    # class 0: 1 / (2 + 2 - 1); class 1: 2 / (3 + 2 - 2); class 2: 0 / (1 + 0 - 0)
    np.testing.assert_allclose(ious, [1 / 3, 2 / 3, 0.0])
    assert mean_iou(cm) == pytest.approx(1 / 3)


def test_absent_class_is_nan_and_skipped_by_mean():
    target = np.array([0, 0, 1, 1])
    cm = confusion_matrix(target, target, num_classes=3)
    ious = iou_per_class(cm)
    assert ious[0] == 1.0 and ious[1] == 1.0 and math.isnan(ious[2])
    assert mean_iou(cm) == 1.0


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="shapes differ"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 2)
    with pytest.raises(TypeError, match="integer"):
        confusion_matrix(np.zeros((2, 2), np.float32), np.zeros((2, 2), int), 2)


def _circle(shape, center, radius):
    m = np.zeros(shape, np.uint8)
    cv2.circle(m, center, radius, 1, -1)
    return m


def test_boundary_f_identical_is_one_and_shift_within_tolerance_is_one():
    a = _circle((100, 100), (50, 50), 30)
    assert boundary_f(a, a) == 1.0
    shifted = _circle((100, 100), (52, 50), 30)
    assert boundary_f(shifted, a, tolerance_px=3) == pytest.approx(1.0)
    assert boundary_f(shifted, a, tolerance_px=0) < 0.6


def test_boundary_f_far_apart_is_zero_and_empty_cases():
    a = _circle((100, 200), (40, 50), 20)
    b = _circle((100, 200), (160, 50), 20)
    assert boundary_f(a, b) == 0.0
    empty = np.zeros((100, 200), np.uint8)
    assert boundary_f(empty, empty) == 1.0
    assert boundary_f(a, empty) == 0.0
    assert boundary_f(empty, a) == 0.0
    # A full-frame mask has no boundary (the image border does not count).
    assert boundary_f(np.ones_like(empty), empty) == 1.0


def test_dtssd_zero_when_prediction_moves_like_truth_and_counts_flicker():
    rng = np.random.default_rng(0)
    g0 = (rng.random((20, 30)) > 0.5).astype(np.float32)
    g1 = (rng.random((20, 30)) > 0.5).astype(np.float32)
    assert dtssd(g0 * 0.8, g1 * 0.8 + (g0 * 0.8 - g0 * 0.8), g0, g1) == pytest.approx(
        float(np.mean(np.abs(0.8 * (g1 - g0) - (g1 - g0))))
    )
    assert dtssd(g0, g1, g0, g1) == 0.0
    static = np.zeros((20, 30), np.float32)
    flicker = np.full((20, 30), 0.25, np.float32)
    assert dtssd(static, flicker, static, static) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="shape"):
        dtssd(static, flicker[:10], static, static)
