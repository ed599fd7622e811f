"""The one public builder: a weights file -> the module it describes, loaded and checked (torch).

    module, facts = build_model(weights="weights/selfie_general.safetensors")
    logits = module(rgb)          # [B, 3, H, W] RGB 0..1 -> [B, C_out, H, W] logits
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from silhouette_cam.model.facts import WeightFacts, load_weights, save_weights, tensors_sha256
from silhouette_cam.model.selfie import SelfieSegmentationNet

__all__ = ["ARCHITECTURES", "SelfieSegmentationNet", "build_model", "load_weights", "save_weights",
           "tensors_sha256", "to_class_logits"]

def _build_selfie(facts: WeightFacts) -> nn.Module:
    if facts.input_height % 16 or facts.input_width % 16:
        raise ValueError(f"selfie model input {facts.input_height}x{facts.input_width}: "
                         "expected both sides divisible by 16")
    if facts.num_classes != 2:
        raise ValueError(f"selfie model has {facts.num_classes} classes, expected 2 (one person logit)")
    return SelfieSegmentationNet()


# architecture name -> builder(facts) -> nn.Module, or "module:function" imported on first use.
ARCHITECTURES: dict[str, Callable[[WeightFacts], nn.Module] | str] = {
    "selfie": _build_selfie,
    "snet": "silhouette_cam.model.snet:build_from_facts",
}


def _builder(architecture: str) -> Callable[[WeightFacts], nn.Module]:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}, expected one of {sorted(ARCHITECTURES)}")
    entry = ARCHITECTURES[architecture]
    if isinstance(entry, str):
        module_name, function_name = entry.split(":")
        entry = getattr(importlib.import_module(module_name), function_name)
    return entry


def _check_tensors(path: Path, module: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ValueError(f"weights file {path}: tensors do not match the architecture "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for name, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise ValueError(f"weights file {path}: tensor {name!r} has shape {tuple(tensor.shape)}, "
                             f"expected {tuple(expected[name].shape)}")


def build_model(*, weights: str | Path) -> tuple[nn.Module, WeightFacts]:
    """Build the module a weights file describes and load it -> (module in eval mode on CPU, facts)."""
    path = Path(weights)
    tensors, facts = load_weights(path)
    module = _builder(facts.architecture)(facts)
    _check_tensors(path, module, tensors)
    module.load_state_dict({name: t.float() for name, t in tensors.items()})
    return module.eval(), facts


def to_class_logits(logits: torch.Tensor) -> torch.Tensor:
    """`[B, 1, H, W]` person logit z -> `[B, 2, H, W]` logits (0, z); `[B, C>=2, H, W]` unchanged.

    softmax((0, z)) = (1 - sigmoid(z), sigmoid(z)), so one pixel-wise cross-entropy over C classes
    trains binary and multi-class models alike.
    """
    if logits.ndim != 4:
        raise ValueError(f"logits have shape {tuple(logits.shape)}, expected [B, C, H, W]")
    if logits.shape[1] == 1:
        return torch.cat([torch.zeros_like(logits), logits], dim=1)
    return logits
