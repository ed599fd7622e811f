"""Where a training run starts: the device, and the model (fresh S-Net or shipped selfie weights)."""

from __future__ import annotations

import torch

from silhouette_cam.model import WeightFacts, build_model, shipped_weights_path
from silhouette_cam.model.snet import build_snet
from silhouette_cam.training.config import DEFAULT_SNET_SIZE, MODEL_CHOICES, TrainConfig


def build_for_training(
    config: TrainConfig, num_classes: int
) -> tuple[torch.nn.Module, WeightFacts | None, tuple[int, int]]:
    """-> (module, facts of the starting weights or None, training size (h, w))."""
    model, facts, size = _build(config, num_classes)
    if config.freeze_encoder:
        model.encoder.requires_grad_(False)  # both architectures name their encoder `encoder`
    return model, facts, size


def _build(config: TrainConfig, num_classes: int) -> tuple[torch.nn.Module, WeightFacts | None, tuple[int, int]]:
    architecture, variant = MODEL_CHOICES[config.model]
    if architecture == "snet":
        model = build_snet(num_classes=num_classes, encoder=config.encoder, encoder_weights=config.encoder_weights)
        return model, None, config.size or DEFAULT_SNET_SIZE
    if num_classes != 2:
        raise ValueError(
            f"--model {config.model} is a person-vs-background model (2 classes), "
            f"but the masks have {num_classes} classes; use --model snet"
        )
    path = config.init_weights or shipped_weights_path(variant)
    model, facts = build_model(weights=path)
    if config.size is not None and config.size != (facts.input_height, facts.input_width):
        raise ValueError(
            f"--size {config.size} differs from the model's input size "
            f"{(facts.input_height, facts.input_width)}; fine-tuning keeps the model's size"
        )
    return model, facts, (facts.input_height, facts.input_width)
