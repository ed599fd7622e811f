"""Segmentation networks, their weight files, and the one public builder.

    module, facts = build_model(weights="weights/selfie_general.safetensors")
    logits = module(rgb)          # [B, 3, H, W] RGB 0..1 -> [B, C_out, H, W] logits

Importing this package does not import torch: the names that need it (the builder, the modules,
loading and saving tensors) are loaded on first use, so the CPU path (ONNX Runtime) can ask for
`shipped_weights_path` and `WeightFacts` and never pay for torch.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from silhouette_cam.weight_facts import SHIPPED_VARIANTS, WeightFacts, default_weights_dir

# name -> the submodule that defines it (imported, with torch, on first access)
_TORCH_NAMES = {
    "ARCHITECTURES": "builder", "build_model": "builder", "to_class_logits": "builder",
    "SelfieSegmentationNet": "selfie",
    "load_weights": "facts", "save_weights": "facts", "tensors_sha256": "facts",
}

__all__ = ["SHIPPED_VARIANTS", "WeightFacts", "default_weights_dir", "shipped_weights_path", *_TORCH_NAMES]


def shipped_weights_path(variant: str) -> Path:
    """The weights file of a shipped variant ("general", "landscape")."""
    if variant not in SHIPPED_VARIANTS:
        raise ValueError(f"unknown model variant {variant!r}, expected one of {sorted(SHIPPED_VARIANTS)}")
    return default_weights_dir() / SHIPPED_VARIANTS[variant]


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_TORCH_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
