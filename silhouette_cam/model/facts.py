"""Weight files: safetensors tensors plus the facts a caller needs to use them, checked on load.

Loading never unpickles: safetensors holds raw tensors, and the facts are plain strings in its
metadata. A file is rejected, with one line naming the file and the field, when it is missing,
truncated, foreign (no facts), or when its tensors do not hash to the recorded checksum.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

FORMAT = "silhouette_cam.weights/1"


@dataclasses.dataclass(frozen=True)
class WeightFacts:
    """What a weights file promises about the model it holds."""

    architecture: str                  # key in silhouette_cam.model.ARCHITECTURES
    variant: str                       # e.g. "general", "landscape", or a user's model name
    input_height: int                  # the resolution the model was trained at
    input_width: int
    classes: tuple[str, ...] = ("background", "person")
    channel_order: str = "RGB"
    value_range: str = "0..1"          # input values; normalization (if any) is inside the model
    output: str = "logits"             # 1 channel: sigmoid -> person; C channels: softmax over classes
    source: str = ""                   # where the weights came from (file name, training run)
    source_sha256: str = ""
    license: str = ""
    sha256: str = ""                   # of the tensors (see tensors_sha256); filled in by save_weights
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_metadata(self) -> dict[str, str]:
        fields = dataclasses.asdict(self)
        fields["classes"] = json.dumps(list(self.classes))
        fields["extra"] = json.dumps(self.extra, sort_keys=True)
        return {"format": FORMAT, **{k: str(v) for k, v in fields.items()}}

    @classmethod
    def from_metadata(cls, metadata: dict[str, str] | None, *, path: Path) -> WeightFacts:
        metadata = metadata or {}
        if metadata.get("format") != FORMAT:
            raise ValueError(f"weights file {path}: metadata field 'format' is "
                             f"{metadata.get('format')!r}, expected {FORMAT!r} (not a silhouette_cam weights file)")
        values: dict = {}
        for field in dataclasses.fields(cls):
            if field.name not in metadata:
                raise ValueError(f"weights file {path}: metadata field {field.name!r} is missing")
            values[field.name] = metadata[field.name]
        try:
            values["input_height"] = int(values["input_height"])
            values["input_width"] = int(values["input_width"])
            values["classes"] = tuple(json.loads(values["classes"]))
            values["extra"] = json.loads(values["extra"])
        except ValueError as exc:
            raise ValueError(f"weights file {path}: malformed metadata ({exc})") from None
        if len(values["classes"]) < 2:
            raise ValueError(f"weights file {path}: metadata field 'classes' has "
                             f"{len(values['classes'])} names, expected at least 2")
        return cls(**values)


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=facts.to_metadata())
    return facts


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], WeightFacts]:
    """Read and verify a weights file -> (state_dict on CPU, facts)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as reader:
            metadata = reader.metadata()
            tensors = {name: reader.get_tensor(name) for name in reader.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"weights file {path} is not a readable safetensors file ({exc})") from None
    facts = WeightFacts.from_metadata(metadata, path=path)
    actual = tensors_sha256(tensors)
    if facts.sha256 and actual != facts.sha256:
        raise ValueError(f"weights file {path}: tensors hash to {actual[:12]}…, "
                         f"expected sha256 {facts.sha256[:12]}… recorded in its metadata (file corrupted?)")
    return tensors, facts
