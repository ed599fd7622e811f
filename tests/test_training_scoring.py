"""Scoring a segmenter on frames: IoU / boundary F / dtSSD plumbing with exact expectations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from silhouette_cam.training.dataset import LabelSpec
from silhouette_cam.training.scoring import score_frames

BINARY = LabelSpec(("background", "person"), "binary")


class ShiftedOracle:
    """Answers the truth, shifted right by `shift` px (the truth rides in the frame's blue channel)."""

    class_names = ("background", "person")

    def __init__(self, shift: int = 0):
        self.shift = shift

    def segment_classes(self, frame_bgr):
        class_map = np.roll(frame_bgr[..., 0] > 0, self.shift, axis=1).astype(np.uint8)
        return class_map.astype(np.float32), class_map


def frames(count: int = 3):
    for i in range(count):
        truth = np.zeros((32, 40), np.uint8)
        truth[8:24, 5 + i : 20 + i] = 1
        yield np.dstack([truth * 255] * 3), truth


def test_a_perfect_segmenter_scores_one_and_no_flicker():
    scores = score_frames(ShiftedOracle(), frames(), BINARY, video=True)
    assert scores.mean_iou == 1.0 and scores.boundary_f == 1.0 and scores.dtssd == 0.0
    assert scores.frames == 3 and scores.confusion.sum() == 3 * 32 * 40


def test_a_shifted_mask_loses_iou_exactly():
    scores = score_frames(ShiftedOracle(shift=3), frames(1), BINARY)
    # 16 x 15 box shifted 3 px: person IoU 12/18; background (1280 - 288) / (1280 - 192)... as counted:
    person = (16 * 12) / (16 * 18)
    background = (32 * 40 - 16 * 18) / (32 * 40 - 16 * 12)
    np.testing.assert_allclose(scores.iou_per_class, [background, person])
    assert scores.boundary_f == 1.0  # 3 px is within the tolerance
    assert scores.dtssd is None


def test_ignored_pixels_count_nowhere():
    spec = LabelSpec(("background", "a", "b"), "ids")
    truth = np.full((8, 8), 255, np.uint8)
    truth[:4] = 0

    class WrongWhereIgnored:
        class_names = spec.class_names

        def segment_classes(self, frame):
            class_map = np.zeros((8, 8), np.uint8)
            class_map[4:] = 2  # wrong class, but only on the ignored rows
            return class_map.astype(np.float32), class_map

    scores = score_frames(WrongWhereIgnored(), [(np.zeros((8, 8, 3), np.uint8), truth)], spec)
    assert scores.mean_iou == 1.0
    table = scores.table()
    assert "absent" in table and "mean IoU" in table
    report = scores.to_json()
    assert report["iou_per_class"] == {"background": 1.0, "a": None, "b": None}
    json.dumps(report)  # nan-free


def test_size_mismatch_and_empty_input_are_errors():
    with pytest.raises(ValueError, match=r"frame 0 is \(4, 4\) but its mask is \(5, 5\)"):
        score_frames(ShiftedOracle(), [(np.zeros((4, 4, 3), np.uint8), np.zeros((5, 5), np.uint8))], BINARY)
    with pytest.raises(ValueError, match="no frames"):
        score_frames(ShiftedOracle(), [], BINARY)
