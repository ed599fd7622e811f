"""The settings of one training run (filled by `silhouette-cam train`, or directly by scripts and tests)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

# --model choices -> (architecture, shipped variant to start from or None for from-scratch)
MODEL_CHOICES = {
    "selfie-general": ("selfie", "general"),
    "selfie-landscape": ("selfie", "landscape"),
    "snet": ("snet", None),
}
DEFAULT_SNET_SIZE = (256, 256)
# Fine-tuning moves converged weights: a smaller step than training from scratch.
DEFAULT_LR = {"selfie": 3e-4, "snet": 5e-3}
# The loss by architecture when not set: (class weights, U-Net border term, Dice weight). From
# scratch, the seed's weighted cross-entropy (rare classes and thin gaps need the weights). Fine-
# tuning the person network: measured on three seeded portrait splits (docs/training.md), class and
# border weights pushed a network that already misses more person than it adds toward background
# and lowered held-back scores, while plain cross-entropy + Dice raised boundary F by ~0.03 on each.
DEFAULT_LOSS = {"selfie": ("none", False, 1.0), "snet": ("median", True, 0.0)}


@dataclasses.dataclass
class TrainConfig:
    """One run. Paths are folders of images and PNG masks (see dataset.py); `out` the .safetensors to write.

    Units: `lr` per AdamW step, `time_limit_min` minutes of wall clock (checked between epochs),
    `size` (height, width) in pixels (S-Net only; fine-tuning uses the weights' own input size),
    `w0`/`sigma_px` the U-Net border term (weightmaps.py).
    """

    images: Path
    masks: Path
    out: Path
    model: str = "selfie-general"
    init_weights: Path | None = None  # start fine-tuning from this file instead of the shipped one
    classes: int | None = None
    epochs: int = 20
    batch_size: int = 8
    lr: float | None = None
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    seed: int = 0
    size: tuple[int, int] | None = None
    encoder: str = "mobilenet_v3_small"
    encoder_weights: Path | None = None
    freeze_encoder: bool = False  # train the decoder and head only
    class_weights: str | np.ndarray | None = None  # None: DEFAULT_LOSS for the architecture
    border_weights: bool | None = None  # None: DEFAULT_LOSS for the architecture
    w0: float = 10.0
    sigma_px: float = 5.0
    dice_weight: float | None = None  # None: DEFAULT_LOSS for the architecture
    temperature: float | None = None  # loss sees logits / T; None: calibrate the start (fine-tuning), else 1
    augment: bool = True
    flip: bool = True
    device: str = "auto"
    workers: int = 0
    threads: int | None = None  # torch CPU threads; 1 is fastest on a CPU shared with other jobs
    time_limit_min: float | None = None
    resume: bool = False
    best_by: str = "miou"  # which validation score picks the kept epoch: "miou" or "boundary_f"
    progress: bool = True

    def __post_init__(self) -> None:
        if self.model not in MODEL_CHOICES:
            raise ValueError(f"unknown --model {self.model!r}; expected one of {', '.join(MODEL_CHOICES)}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.best_by not in ("miou", "boundary_f"):
            raise ValueError(f"best_by must be 'miou' or 'boundary_f', got {self.best_by!r}")
        if self.temperature is not None and not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.time_limit_min is not None and self.time_limit_min <= 0:
            raise ValueError(f"time limit must be > 0 minutes, got {self.time_limit_min}")
        default_weights, default_border, default_dice = DEFAULT_LOSS[self.architecture]
        if self.class_weights is None:
            self.class_weights = default_weights
        if self.border_weights is None:
            self.border_weights = default_border
        if self.dice_weight is None:
            self.dice_weight = default_dice
        self.images, self.masks, self.out = Path(self.images), Path(self.masks), Path(self.out)
        if self.out.suffix != ".safetensors":
            raise ValueError(f"--out must end in .safetensors, got {self.out}")

    @property
    def architecture(self) -> str:
        return MODEL_CHOICES[self.model][0]

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.architecture]

    @property
    def state_path(self) -> Path:
        """Where the resumable training state lives: beside the weights, `NAME.train.pt`."""
        return self.out.with_suffix(".train.pt")


def parse_size(text: str) -> tuple[int, int]:
    """`"256"` or `"192x256"` (height x width) -> (h, w); both multiples of 32 for S-Net's five scales."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"--size must be N or HxW in pixels, got {text!r}") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or any(v < 32 or v % 32 for v in values):
        raise ValueError(f"--size must be N or HxW with multiples of 32 (>= 32), got {text!r}")
    return values[0], values[1]
