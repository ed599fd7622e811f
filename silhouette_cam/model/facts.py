"""Weight files: safetensors tensors plus the facts a caller needs to use them, checked on load.

Loading never unpickles: safetensors holds raw tensors, and the facts are plain strings in its
metadata. A file is rejected, with one line naming the file and the field, when it is missing,
truncated, foreign (no facts), or when its tensors do not hash to the recorded checksum.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import torch
from safetensors.torch import save_file

from silhouette_cam.atomic_file import atomic_output
from silhouette_cam.weight_facts import FORMAT, WeightFacts, open_weights_file

__all__ = ["FORMAT", "WeightFacts", "load_weights", "save_weights", "tensors_sha256"]

def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """A checksum of names, dtypes, shapes and values that does not depend on file layout."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_weights(path: str | Path, state_dict: dict[str, torch.Tensor], facts: WeightFacts) -> WeightFacts:
    """Write tensors + facts to `path` (safetensors); returns the facts with `sha256` filled in."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
    facts = dataclasses.replace(facts, sha256=tensors_sha256(tensors))
    with atomic_output(path, what="weights file") as tmp:  # whole or not at all; mode follows the umask
        save_file(tensors, str(tmp), metadata=facts.to_metadata())
    return facts


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], WeightFacts]:
    """Read and verify a weights file -> (state_dict on CPU, facts)."""
    path = Path(path)
    with open_weights_file(path, "pt") as reader:
        metadata = reader.metadata()
        tensors = {name: reader.get_tensor(name) for name in reader.keys()}
    facts = WeightFacts.from_metadata(metadata, path=path)
    actual = tensors_sha256(tensors)
    if facts.sha256 and actual != facts.sha256:
        raise ValueError(f"weights file {path}: tensors hash to {actual[:12]}…, "
                         f"expected sha256 {facts.sha256[:12]}… recorded in its metadata (file corrupted?)")
    return tensors, facts
