"""What a weights file says about its model (its facts), readable without torch.

The facts are plain strings in the safetensors header, so the GUI can list and describe weights
files on its own thread without importing torch (about a second); silhouette_cam.model.facts
reads and checks the tensors too.

    facts = read_facts("weights/my_model.safetensors")   # header only; ValueError naming the field
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open

# The converted MediaPipe models in weights/ (see weights/README.md): variant -> file name.
SHIPPED_VARIANTS = {"general": "selfie_general.safetensors", "landscape": "selfie_landscape.safetensors"}
MODEL_CHOICES = ("auto", *SHIPPED_VARIANTS)  # PersonSegmenter(model=...): auto picks by frame shape
WEIGHTS_ENV = "SILHOUETTE_CAM_WEIGHTS"

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


def default_weights_dir() -> Path:
    """`$SILHOUETTE_CAM_WEIGHTS`, else the repository's weights/ folder."""
    return Path(os.environ.get(WEIGHTS_ENV, Path(__file__).resolve().parents[1] / "weights"))


@contextmanager
def open_weights_file(path: Path, framework: str) -> Iterator[Any]:
    """safetensors' reader of `path`, with one-line errors naming the file (missing, unreadable)."""
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        with safe_open(str(path), framework=framework) as reader:
            yield reader
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"weights file {path} is not a readable safetensors file ({exc})") from None


def read_facts(path: str | Path) -> WeightFacts:
    """The facts of a weights file from its header alone (no tensors read, nothing verified beyond
    the facts themselves: load_weights checks the tensors' checksum)."""
    path = Path(path)
    with open_weights_file(path, "numpy") as reader:
        metadata = reader.metadata()
    return WeightFacts.from_metadata(metadata, path=path)
