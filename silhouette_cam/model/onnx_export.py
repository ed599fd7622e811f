"""Export a loaded network to ONNX for the CPU fast path (ONNX Runtime), tied to its weights file.

The PyTorch module stays the source of truth: the `.onnx` beside a `.safetensors` file is a
compiled copy of it with a fixed input size, and carries the weights' tensor sha256 in its
metadata so a stale export is never used for newer weights. Exporting needs the `onnx` and
`onnxscript` packages (`pip install 'silhouette_cam[convert]'`); running it needs only onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

import torch

from silhouette_cam.atomic_file import write_bytes
from silhouette_cam.model.builder import build_model
from silhouette_cam.onnx_runner import WEIGHTS_SHA_KEY, onnx_path_for

__all__ = ["WEIGHTS_SHA_KEY", "export_onnx", "onnx_path_for"]


def export_onnx(weights: str | Path, output: str | Path | None = None) -> Path:
    """Export the network in `weights` at its trained input size -> path of the written .onnx file."""
    try:
        import onnx  # noqa: F401 - torch.onnx.export needs it (and onnxscript)
    except ImportError:
        raise ValueError("exporting to ONNX needs the 'onnx' and 'onnxscript' packages: "
                         "pip install 'silhouette_cam[convert]'") from None
    module, facts = build_model(weights=weights)
    output = Path(output) if output is not None else onnx_path_for(weights)
    example = torch.rand(1, 3, facts.input_height, facts.input_width)  # [1, 3, h, w] RGB 0..1
    program = torch.onnx.export(module, (example,), dynamo=True, input_names=["rgb"], output_names=["logits"])
    model = program.model_proto
    entry = model.metadata_props.add()
    entry.key, entry.value = WEIGHTS_SHA_KEY, facts.sha256
    # Atomic (temp + fsync + rename) and following the umask, like every file the project writes.
    return write_bytes(output, model.SerializeToString(), what="ONNX export")
