"""Loss formulas against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from silhouette_cam.training.losses import (
    SegmentationLoss,
    fit_temperature,
    soft_dice_loss,
    weighted_cross_entropy,
)


def three_pixels() -> tuple[torch.Tensor, torch.Tensor]:
    """logits [1, 2, 1, 3]: pixel a (0, ln 3) truth 1 -> p = 3/4; pixel b (0, 0) truth 0 -> p = 1/2;
    pixel c ignored."""
    logits = torch.tensor([[[[0.0, 0.0, 5.0]], [[math.log(3.0), 0.0, -5.0]]]])
    target = torch.tensor([[[1, 0, 255]]])
    return logits, target


def test_plain_cross_entropy_is_the_mean_over_valid_pixels():
    logits, target = three_pixels()
    expected = (math.log(4 / 3) + math.log(2)) / 2
    assert weighted_cross_entropy(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_class_weights_make_a_weighted_mean():
    logits, target = three_pixels()
    loss = weighted_cross_entropy(logits, target, class_weights=torch.tensor([2.0, 1.0]))
    # a (class 1) weighs 1, b (class 0) weighs 2
    assert loss.item() == pytest.approx((1 * math.log(4 / 3) + 2 * math.log(2)) / 3, rel=1e-6)


def test_border_term_adds_to_the_class_weight_and_skips_ignored_pixels():
    logits, target = three_pixels()
    border = torch.tensor([[[0.5, 0.0, 100.0]]])  # the ignored pixel's border term must not count
    loss = weighted_cross_entropy(logits, target, class_weights=torch.tensor([2.0, 1.0]), border=border)
    assert loss.item() == pytest.approx((1.5 * math.log(4 / 3) + 2 * math.log(2)) / 3.5, rel=1e-6)


def test_all_ignored_gives_zero_with_a_graph():
    logits = torch.zeros(1, 2, 2, 2, requires_grad=True)
    loss = weighted_cross_entropy(logits, torch.full((1, 2, 2), 255))
    loss.backward()
    assert loss.item() == 0.0 and logits.grad is not None


def test_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="disagree"):
        weighted_cross_entropy(torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 5, dtype=torch.long))


def test_soft_dice_matches_hand_computation():
    logits, target = three_pixels()
    # p(class 0) = (1/4, 1/2), p(class 1) = (3/4, 1/2) over the valid pixels a, b
    dice0 = 2 * 0.5 + 1.0, 0.25 + 0.5 + 1 + 1.0  # (2*I + eps, sum p + sum g + eps)
    dice1 = 2 * 0.75 + 1.0, 0.75 + 0.5 + 1 + 1.0
    expected = 1 - (dice0[0] / dice0[1] + dice1[0] / dice1[1]) / 2
    assert soft_dice_loss(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_dice_is_zero_for_a_perfect_confident_prediction():
    target = torch.tensor([[[0, 1], [1, 0]]])
    logits = torch.nn.functional.one_hot(target, 2).permute(0, 3, 1, 2).float() * 50
    assert soft_dice_loss(logits, target, eps=0.0).item() == pytest.approx(0.0, abs=1e-6)


def test_segmentation_loss_combines_terms():
    logits, target = three_pixels()
    criterion = SegmentationLoss(torch.tensor([2.0, 1.0]), dice_weight=0.5)
    expected = weighted_cross_entropy(logits, target, class_weights=torch.tensor([2.0, 1.0])) + 0.5 * soft_dice_loss(
        logits, target
    )
    assert criterion(logits, target).item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="dice_weight"):
        SegmentationLoss(dice_weight=-1)


def test_temperature_divides_the_logits_of_every_term():
    logits, target = three_pixels()
    loss = SegmentationLoss(dice_weight=0.5, temperature=4.0)(logits * 4.0, target)
    expected = weighted_cross_entropy(logits, target) + 0.5 * soft_dice_loss(logits, target)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        SegmentationLoss(temperature=0.0)


def test_fit_temperature_undoes_overconfident_logits():
    # calibrated logits z (labels drawn from sigmoid(z)), then made 20x overconfident like the shipped nets
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(4, 1, 64, 64, generator=generator) * 3.0
    target = (torch.rand(z.shape, generator=generator) < torch.sigmoid(z)).long()[:, 0]
    target[0, :8] = 255  # ignored pixels are skipped
    logits = torch.cat([torch.zeros_like(z), 20.0 * z], dim=1)
    assert fit_temperature(logits, target) == pytest.approx(20.0, rel=0.1)
    assert fit_temperature(logits, target, max_pixels=5000) == pytest.approx(20.0, rel=0.25)
    with pytest.raises(ValueError, match="every target pixel is ignored"):
        fit_temperature(logits, torch.full_like(target, 255))
