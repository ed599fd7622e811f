"""Resumable training state (`NAME.train.pt`) and the facts written with the trained weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from silhouette_cam.model import WeightFacts

# What must match between a saved state and the run that resumes it.
RESUME_KEYS = ("model", "num_classes", "size", "epochs", "batch_size", "seed", "val_fraction")


def save_state(path: Path, state: dict) -> None:
    """Write the state atomically (temp file + rename) so an interrupted save leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_state(path: Path, run_key: dict) -> dict:
    """Read a state written by `save_state`; ValueError when it belongs to a different run setup."""
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume: training state {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved_key = state.get("run_key", {})
    for key in RESUME_KEYS:
        if saved_key.get(key) != run_key.get(key):
            raise ValueError(
                f"cannot resume from {path}: {key} was {saved_key.get(key)!r}, this run has {run_key.get(key)!r}"
            )
    return state


def trained_facts(
    base: WeightFacts | None,
    *,
    name: str,
    architecture: str,
    size: tuple[int, int],
    classes: tuple[str, ...],
    source: str,
    training: dict,
    encoder: str | None = None,
) -> WeightFacts:
    """Facts for weights produced by training: derived from the starting weights' facts when fine-tuning
    (`base`), new ones for a from-scratch S-Net. `training` (JSON-able) is kept under extra["training"]."""
    if base is not None:
        extra = {**base.extra, "training": training}
        return dataclasses.replace(base, variant=name, source=source, source_sha256=base.sha256, sha256="", extra=extra)
    extra = {"training": training}
    if encoder is not None:
        extra["encoder"] = encoder
    return WeightFacts(
        architecture=architecture,
        variant=name,
        input_height=size[0],
        input_width=size[1],
        classes=tuple(classes),
        source=source,
        extra=extra,
    )
