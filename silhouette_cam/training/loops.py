"""One training epoch and one evaluation pass, as small functions (torchvision references style)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from silhouette_cam import metrics
from silhouette_cam.model.builder import to_class_logits


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[dict[str, torch.Tensor]],
    criterion: Callable[..., torch.Tensor],
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    on_step: Callable[[float], None] | None = None,
) -> float:
    """Train over `loader` once (scheduler stepped per batch); returns the mean batch loss.

    Batches are dicts of image `[B, 3, H, W]` float 0..1, mask `[B, H, W]` int64, border `[B, H, W]`.
    `on_step(loss)` is called after every batch (progress bars).
    """
    model.train()
    losses = []
    for batch in loader:
        image = batch["image"].to(device, non_blocking=True)
        target = batch["mask"].to(device, non_blocking=True)
        border = batch["border"].to(device, non_blocking=True)
        loss = criterion(to_class_logits(model(image)), target, border)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        value = float(loss.detach())
        if not np.isfinite(value):
            raise FloatingPointError(f"training loss became {value}; lower --lr")
        losses.append(value)
        if on_step is not None:
            on_step(value)
    if not losses:
        raise ValueError("the training loader yielded no batches (fewer images than --batch-size with drop_last?)")
    return float(np.mean(losses))


@dataclass
class EvalResult:
    """Confusion matrix `[C, C]` int64 (rows truth) and the mean boundary F of the foreground silhouettes."""

    confusion: np.ndarray
    boundary_f: float

    @property
    def mean_iou(self) -> float:
        return metrics.mean_iou(self.confusion)

    @property
    def iou_per_class(self) -> np.ndarray:
        return metrics.iou_per_class(self.confusion)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[dict[str, torch.Tensor]],
    num_classes: int,
    device: torch.device,
    *,
    ignore_index: int = 255,
    tolerance_px: int = 3,
) -> EvalResult:
    """Argmax predictions over `loader` at the loader's resolution -> confusion matrix + boundary F."""
    model.eval()
    confusion = np.zeros((num_classes, num_classes), np.int64)
    scores = []
    for batch in loader:
        pred = to_class_logits(model(batch["image"].to(device))).argmax(dim=1).cpu().numpy()  # [B, H, W]
        target = batch["mask"].numpy()
        confusion += metrics.confusion_matrix(pred, target, num_classes, ignore_index)
        for p, t in zip(pred, target, strict=True):
            valid = t != ignore_index
            # Silhouette boundary: foreground = any non-background class; ignored pixels as background.
            scores.append(metrics.boundary_f((p != 0) & valid, (t != 0) & valid, tolerance_px))
    return EvalResult(confusion, float(np.mean(scores)) if scores else float("nan"))


@torch.no_grad()
def collect_logits(
    model: nn.Module, loader: Iterable[dict[str, torch.Tensor]], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Class logits `[N, C, H, W]` float32 (on the CPU) and masks `[N, H, W]` int64 over `loader`."""
    model.eval()
    logits, masks = [], []
    for batch in loader:
        logits.append(to_class_logits(model(batch["image"].to(device))).float().cpu())
        masks.append(batch["mask"])
    return torch.cat(logits), torch.cat(masks)
