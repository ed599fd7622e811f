"""Resumable training state (`NAME.train-state`) and the facts written with the trained weights.

The state is one safetensors file: every tensor (model, optimizer moments, step counters) as a
tensor, everything else (epoch, scores, history, scheduler numbers, the run key) as JSON in its
metadata, with each tensor's place in the structure recorded there. Loading never unpickles, and
always lands on the CPU: a state saved on a GPU machine resumes on a CPU one and vice versa (the
optimizer moves its moments to the parameters' device when it loads them).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from silhouette_cam.atomic_file import atomic_output
from silhouette_cam.model import WeightFacts

# What must match between a saved state and the run that resumes it.
RESUME_KEYS = ("model", "num_classes", "size", "epochs", "batch_size", "seed", "val_fraction")
STATE_KEY = "silhouette_cam.train_state"  # metadata entry holding the JSON structure
STATE_FORMAT = 1


def _encode(value, tensors: dict[str, torch.Tensor]):
    """Nested state -> JSON-able structure; tensors move to `tensors` and leave {"__tensor__": name}."""
    if isinstance(value, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = value.detach().cpu().clone().contiguous()
        return {"__tensor__": name}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, tensors) for k, v in value.items()}
        return {"__items__": [[_encode(k, tensors), _encode(v, tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    raise TypeError(f"training state holds a {type(value).__name__}, which cannot be saved without pickling")


def _decode(value, tensors: dict[str, torch.Tensor]):
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__items__" in value:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["__items__"]}
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__float__" in value:
        return float(value["__float__"])
    return {k: _decode(v, tensors) for k, v in value.items()}


def save_state(path: Path, state: dict) -> None:
    """Write the state atomically (temp file + fsync + rename): an interrupted save leaves the old one."""
    tensors: dict[str, torch.Tensor] = {}
    structure = _encode(state, tensors)
    metadata = {STATE_KEY: json.dumps({"format": STATE_FORMAT, "state": structure})}
    with atomic_output(path, what="training state") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_state(path: Path) -> dict:
    """Read a state written by `save_state` (tensors on the CPU); ValueError naming the file when it is not one."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as reader:
            metadata = reader.metadata() or {}
            tensors = {name: reader.get_tensor(name) for name in reader.keys()}
        document = json.loads(metadata[STATE_KEY])
        if document.get("format") != STATE_FORMAT:
            raise ValueError(f"format {document.get('format')!r}, expected {STATE_FORMAT}")
        return _decode(document["state"], tensors)
    except (SafetensorError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = "no training state in its metadata" if isinstance(exc, KeyError) else " ".join(str(exc).split())
        raise ValueError(f"training state {path} is not a silhouette-cam training state ({reason})") from None


def load_state(path: Path, run_key: dict) -> dict:
    """Read a state written by `save_state`; ValueError when it belongs to a different run setup."""
    path = Path(path)
    if not path.is_file():
        old = path.with_suffix(".train.pt")
        if old.is_file():
            raise FileNotFoundError(f"nothing to resume: {old} is an older torch-pickle state, which is no longer "
                                    f"read (expected {path.name}); start again without --resume")
        raise FileNotFoundError(f"nothing to resume: training state {path} does not exist")
    state = read_state(path)
    saved_key = state.get("run_key", {}) if isinstance(state, dict) else {}
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
