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
# Fine-tuning moves converged weights: a far smaller step than training from scratch. On three
# seeded portrait splits (docs/training.md, 2026-11-25), the last of 20 epochs gained held-back mean
# IoU +0.003 at 5e-5, +0.001 at 1e-4 and -0.001 at 3e-4 (boundary F +0.036 / +0.033 / +0.025).
DEFAULT_LR = {"selfie": 5e-5, "snet": 5e-3}
# The loss by architecture when not set: (class weights, U-Net border term, Dice weight). From
# scratch, the seed's weighted cross-entropy (rare classes and thin gaps need the weights). Fine-
# tuning the person network: measured on three seeded portrait splits (docs/training.md), class and
# border weights pushed a network that already misses more person than it adds toward background
# and lowered held-back scores, while plain cross-entropy + Dice raised boundary F by ~0.03 on each.
DEFAULT_LOSS = {"selfie": ("none", False, 1.0), "snet": ("median", True, 0.0)}
# Which epoch goes to --out when not set: "best" by validation score, or "last" (the end of the
# one-cycle schedule). Fine-tuning keeps the last: on three seeded portrait splits the 40-image
# validation split often picked epoch 0-3 of 20 (it cannot resolve the ±0.005 mIoU it would need to),
# while at lr <= 5e-5 the last epoch scored as well or better on held-back images on every split
# (docs/training.md, 2026-11-25). From scratch, the best.
DEFAULT_KEEP = {"selfie": "last", "snet": "best"}
KEEP_CHOICES = ("best", "last")
BEST_BY_CHOICES = ("miou", "boundary_f")  # the validation score that picks the epoch with keep="best"


@dataclasses.dataclass(frozen=True)
class AffineRanges:
    """Random affine augmentation: rotation within ±`degrees`, shift within ±`translate` of the size
    (fraction), zoom by a factor drawn from `scale` (low, high)."""

    degrees: float = 10.0
    translate: float = 0.05
    scale: tuple[float, float] = (0.85, 1.15)

    def __post_init__(self) -> None:
        if not 0 <= self.degrees <= 180:
            raise ValueError(f"affine degrees must be in [0, 180], got {self.degrees}")
        if not 0 <= self.translate <= 1:
            raise ValueError(f"affine translate must be in [0, 1], got {self.translate}")
        if len(self.scale) != 2 or not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(f"affine scale must be (low, high) with 0 < low <= high, got {self.scale}")


# Augmentation ranges by architecture when not set. Fine-tuning: wider than S-Net's (±20°, ±10 %,
# 0.6-1.4x zoom) raised held-back mean IoU by +0.001 more on average over three portrait splits
# (+0.0039 .. +0.0058 vs +0.0025 .. +0.0054, docs/training.md, 2026-11-25).
DEFAULT_AFFINE = {"selfie": AffineRanges(degrees=20.0, translate=0.1, scale=(0.6, 1.4)), "snet": AffineRanges()}


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
    affine: AffineRanges | None = None  # random affine ranges when augmenting; None: DEFAULT_AFFINE
    flip: bool = True
    device: str = "auto"
    workers: int = 0
    threads: int | None = None  # torch CPU threads; 1 is fastest on a CPU shared with other jobs
    time_limit_min: float | None = None
    resume: bool = False
    keep: str | None = None  # "best" (by `best_by`) or "last" epoch's weights; None: DEFAULT_KEEP
    best_by: str = "miou"  # which validation score picks the kept epoch: "miou" or "boundary_f"
    progress: bool = True
    export_onnx: bool = True  # write NAME.onnx beside the kept weights, so the CPU runs them in ONNX Runtime

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
        if self.best_by not in BEST_BY_CHOICES:
            raise ValueError(f"best_by must be 'miou' or 'boundary_f', got {self.best_by!r}")
        if self.keep is not None and self.keep not in KEEP_CHOICES:
            raise ValueError(f"keep must be 'best' or 'last', got {self.keep!r}")
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
        if self.keep is None:
            self.keep = DEFAULT_KEEP[self.architecture]
        if self.affine is None:
            self.affine = DEFAULT_AFFINE[self.architecture]
        self.images, self.masks, self.out = Path(self.images), Path(self.masks), Path(self.out)
        if self.out.suffix != ".safetensors":
            raise ValueError(f"--out must end in .safetensors, got {self.out}")
        if self.encoder_weights is not None:
            self.encoder_weights = Path(self.encoder_weights)
            if self.encoder_weights.suffix != ".safetensors":  # checked before any data is read
                raise ValueError(f"--encoder-weights {self.encoder_weights}: expected a .safetensors file (convert a "
                                 "torchvision .pth with `silhouette-cam convert-weights --from-torchvision FILE.pth "
                                 "-o FILE.safetensors`)")

    @property
    def architecture(self) -> str:
        return MODEL_CHOICES[self.model][0]

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.architecture]

    @property
    def state_path(self) -> Path:
        """Where the resumable training state lives: beside the weights, `NAME.train-state` (checkpoint.py)."""
        return self.out.with_suffix(".train-state")


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
