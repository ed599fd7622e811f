"""Class weights and the U-Net border term against hand computations (formula pinned in weightmaps.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from silhouette_cam.training.weightmaps import (
    class_weights,
    parse_class_weights,
    unet_border_term,
    unet_weight_map,
)


def two_bars(width: int = 20) -> np.ndarray:
    """9 x width mask: object A in columns 0..4, object B in columns 10..14 (a 5-px gap, cols 5..9)."""
    mask = np.zeros((9, width), np.uint8)
    mask[:, 0:5] = 1
    mask[:, 10:15] = 1
    return mask


def test_median_frequency_balancing_matches_hand_computation():
    # class 1 covers 100 px of the 200 px of the images that contain it; class 0 300 of 400
    weights = class_weights(np.array([300, 100]), np.array([400, 200]), "median")
    # f = (0.75, 0.5), median 0.625 -> w = (0.625/0.75, 0.625/0.5)
    np.testing.assert_allclose(weights, [0.625 / 0.75, 1.25], rtol=1e-6)


def test_inverse_frequency_weights_have_pixel_weighted_mean_one():
    counts = np.array([300, 100, 0])
    weights = class_weights(counts, None, "inverse")
    np.testing.assert_allclose(weights, [1 / (2 * 0.75), 1 / (2 * 0.25), 0.0], rtol=1e-6)
    assert (weights * counts).sum() / counts.sum() == pytest.approx(1.0)


def test_absent_class_weighs_zero_and_none_is_ones():
    assert class_weights(np.array([10, 0, 30]), np.array([40, 0, 40]), "median")[1] == 0.0
    np.testing.assert_array_equal(class_weights(np.array([1, 2]), None, "none"), [1, 1])


def test_class_weight_errors_are_clear():
    with pytest.raises(ValueError, match="unknown class weight method"):
        class_weights(np.array([1, 2]), None, "sqrt")
    with pytest.raises(ValueError, match="no labelled pixels"):
        class_weights(np.array([0, 0]), np.array([0, 0]), "median")


def test_parse_class_weights():
    assert parse_class_weights("median", 3) == "median"
    np.testing.assert_allclose(parse_class_weights("1,2.5,0", 3), [1, 2.5, 0])
    with pytest.raises(ValueError, match="needs 3 non-negative numbers, got 2"):
        parse_class_weights("1,2", 3)
    with pytest.raises(ValueError, match="comma-separated"):
        parse_class_weights("heavy", 3)


def test_border_term_in_a_gap_between_two_objects():
    term = unet_border_term(two_bars())
    # any gap pixel: d1 + d2 = 6 (e.g. col 7: 3 px to A's col 4, 3 px to B's col 10)
    expected_gap = 10.0 * math.exp(-(6.0**2) / (2 * 5.0**2))
    np.testing.assert_allclose(term[:, 5:10], expected_gap, rtol=1e-5)
    # right of B, col 15: d1 = 1 (B), d2 = 11 (A)
    np.testing.assert_allclose(term[:, 15], 10.0 * math.exp(-(12.0**2) / 50.0), rtol=1e-5)
    # object pixels carry no border term
    assert (term[:, 0:5] == 0).all() and (term[:, 10:15] == 0).all()


def test_border_term_uses_the_two_nearest_of_three_objects():
    mask = two_bars(30)
    mask[:, 25:30] = 2  # a third object (another class counts as an object too)
    term = unet_border_term(mask)
    # col 7 sits between A and B (3 + 3); C (15 px away) is not among the two nearest
    assert term[4, 7] == pytest.approx(10.0 * math.exp(-36.0 / 50.0), rel=1e-5)


def test_border_term_is_zero_for_one_or_no_object():
    one = np.zeros((16, 16), np.uint8)
    one[4:8, 4:8] = 1
    assert not unet_border_term(one).any()
    assert not unet_border_term(np.zeros((8, 8), np.uint8)).any()


def test_border_term_ignores_ignored_pixels():
    mask = two_bars()
    mask[:, 7] = 255  # ignored column: neither object nor background
    term = unet_border_term(mask)
    assert (term[:, 7] == 0).all() and term[0, 6] > 0


def test_border_term_w0_and_sigma_are_parameters():
    term = unet_border_term(two_bars(), w0=2.0, sigma=3.0)
    assert term[0, 7] == pytest.approx(2.0 * math.exp(-36.0 / 18.0), rel=1e-5)
    with pytest.raises(ValueError, match="sigma > 0"):
        unet_border_term(two_bars(), sigma=0)


def test_full_weight_map_adds_class_weight_and_zeroes_ignored():
    mask = two_bars()
    mask[0, 19] = 255
    weights = unet_weight_map(mask, np.array([0.5, 2.0], np.float32))
    assert weights[3, 2] == pytest.approx(2.0)  # object: w_c only
    assert weights[3, 7] == pytest.approx(0.5 + 10.0 * math.exp(-36.0 / 50.0), rel=1e-5)
    assert weights[0, 19] == 0.0
