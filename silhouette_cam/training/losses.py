"""Losses over C-class logits: weighted pixel-wise cross-entropy (+ optional soft Dice).

Every model trains with ONE pixel-wise cross-entropy over C classes: binary person models' single
logit z becomes the class logits [0, z] (`silhouette_cam.model.to_class_logits`), since
softmax([0, z])[1] = sigmoid(z).

`temperature` T divides the logits before both terms (the loss sees z / T; the model is unchanged).
The shipped selfie networks output logits of |z| ~ 100-400 (1st-99th percentile on portraits), ~20x
more confident than their errors justify: at T = 1 the cross-entropy is 99 % from the 3-4 % of
misclassified pixels (mostly rough hand-made mask edges), each pulling with gradient +-1, and the
first thing training does is shrink every logit ~20x — which moved converged weights far and lost
~0.02 validation mIoU in the first epoch. `fit_temperature` picks the T that calibrates the
starting weights (minimum cross-entropy; ~20 for selfie-general on portraits), so fine-tuning starts
from a loss whose gradient comes from every pixel near the boundary, in proportion to its error.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def weighted_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    class_weights: torch.Tensor | None = None,
    border: torch.Tensor | None = None,
    ignore_index: int = 255,
) -> torch.Tensor:
    """Weighted mean of the pixel-wise cross-entropy:

        L = sum_x w(x) * -log softmax(logits(x))[t(x)]  /  sum_x w(x),   x over pixels with t(x) != ignore
        w(x) = class_weights[t(x)] + border(x)          (class_weights default 1, border default 0)

    logits `[B, C, H, W]` float, target `[B, H, W]` int64 ids, class_weights `[C]`, border `[B, H, W]`
    (the U-Net border term). Returns a scalar; 0 when every pixel is ignored or weighs 0.
    """
    if logits.ndim != 4 or target.shape != (logits.shape[0], *logits.shape[2:]):
        raise ValueError(
            f"logits [B, C, H, W] and target [B, H, W] disagree: {tuple(logits.shape)} vs {tuple(target.shape)}"
        )
    valid = target != ignore_index
    safe_target = torch.where(valid, target, torch.zeros_like(target))
    nll = F.cross_entropy(logits, safe_target, reduction="none")  # [B, H, W]
    weight = valid.to(logits.dtype)
    if class_weights is not None:
        weight = weight * class_weights.to(logits.dtype)[safe_target]
    if border is not None:
        weight = weight + border.to(logits.dtype) * valid
    total = weight.sum()
    if total <= 0:
        return logits.sum() * 0.0  # keeps the graph: a batch of only ignored pixels contributes nothing
    return (weight * nll).sum() / total


def soft_dice_loss(
    logits: torch.Tensor, target: torch.Tensor, *, ignore_index: int = 255, eps: float = 1.0
) -> torch.Tensor:
    """1 - mean over classes present in `target` of (2 sum p_c g_c + eps) / (sum p_c + sum g_c + eps),
    p = softmax(logits), g = one-hot target, sums over the batch's non-ignored pixels."""
    num_classes = logits.shape[1]
    valid = (target != ignore_index).unsqueeze(1).to(logits.dtype)  # [B, 1, H, W]
    prob = torch.softmax(logits, dim=1) * valid
    safe_target = torch.where(target == ignore_index, torch.zeros_like(target), target)
    onehot = F.one_hot(safe_target, num_classes).permute(0, 3, 1, 2).to(logits.dtype) * valid
    dims = (0, 2, 3)
    intersection = (prob * onehot).sum(dims)
    denominator = prob.sum(dims) + onehot.sum(dims)
    present = onehot.sum(dims) > 0
    if not present.any():
        return logits.sum() * 0.0
    dice = (2.0 * intersection + eps) / (denominator + eps)
    return 1.0 - dice[present].mean()


class SegmentationLoss(nn.Module):
    """`weighted_cross_entropy + dice_weight * soft_dice_loss` of `logits / temperature`; called as
    `loss(logits, target, border)`."""

    def __init__(
        self,
        class_weights: torch.Tensor | None = None,
        *,
        dice_weight: float = 0.0,
        ignore_index: int = 255,
        temperature: float = 1.0,
    ):
        super().__init__()
        if dice_weight < 0:
            raise ValueError(f"dice_weight must be >= 0, got {dice_weight}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)
        self.register_buffer("class_weights", class_weights if class_weights is not None else None)
        self.dice_weight = float(dice_weight)
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, target: torch.Tensor, border: torch.Tensor | None = None) -> torch.Tensor:
        if self.temperature != 1.0:
            logits = logits / self.temperature
        loss = weighted_cross_entropy(
            logits, target, class_weights=self.class_weights, border=border, ignore_index=self.ignore_index
        )
        if self.dice_weight > 0:
            loss = loss + self.dice_weight * soft_dice_loss(logits, target, ignore_index=self.ignore_index)
        return loss


@torch.no_grad()
def fit_temperature(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: int = 255,
    bounds: tuple[float, float] = (0.05, 1000.0),
    max_pixels: int = 2_000_000,
) -> float:
    """The temperature T in `bounds` minimizing the mean cross-entropy of `logits / T` (temperature
    scaling, Guo et al. 2017): golden-section search over log T (the loss is convex in 1/T).

    logits `[N, C, H, W]` (C >= 2), target `[N, H, W]` ids; ignored pixels skipped.
    """
    valid = target != ignore_index
    if not valid.any():
        raise ValueError("cannot fit a temperature: every target pixel is ignored")
    picked = logits.permute(0, 2, 3, 1)[valid]  # [P, C]
    truth = target[valid]
    if len(truth) > max_pixels:  # a seeded sample is as good and keeps the search fast
        keep = torch.randperm(len(truth), generator=torch.Generator().manual_seed(0))[:max_pixels]
        picked, truth = picked[keep], truth[keep]
    picked = picked.double()

    def loss(log_t: float) -> float:
        return float(F.cross_entropy(picked / math.exp(log_t), truth))

    low, high = math.log(bounds[0]), math.log(bounds[1])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(40):  # shrinks the bracket 0.618^40 ~ 4e-9 times
        if loss_a <= loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2.0)
