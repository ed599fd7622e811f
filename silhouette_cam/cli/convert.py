"""`silhouette-cam convert-weights`: MediaPipe .tflite -> safetensors, safetensors -> ONNX, and a torchvision
ImageNet checkpoint -> safetensors (for `train --encoder-weights`).

    silhouette-cam convert-weights MODEL.tflite -o weights/NAME.safetensors   # also writes NAME.onnx
    silhouette-cam convert-weights weights/NAME.safetensors                  # just the ONNX export
    silhouette-cam convert-weights --from-torchvision mobilenet_v3_small.pth -o encoder.safetensors

The ONNX export is the CPU fast path (ONNX Runtime); it needs `pip install 'silhouette_cam[convert]'`.
Every file is written whole or not at all (temp file + rename), with the mode the umask gives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from silhouette_cam.atomic_file import atomic_output
from silhouette_cam.overwrite_check import check_output_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path,
                        help="a MediaPipe selfie segmentation .tflite file, or a .safetensors file to export to ONNX "
                        "(or, with --from-torchvision, a torchvision .pth checkpoint)")
    parser.add_argument("-o", "--output", type=Path, metavar="NAME.safetensors",
                        help="the .safetensors file to write; required for a .tflite source and with "
                        "--from-torchvision (a .safetensors source needs none: NAME.onnx goes beside it)")
    parser.add_argument("--from-torchvision", action="store_true",
                        help="SOURCE is a torchvision ImageNet state dict (.pth): read it with torch.load("
                        "weights_only=True) and write its tensors as safetensors for `train --encoder-weights`")


def _output_path(args: argparse.Namespace) -> Path:
    if args.output is None:
        raise ValueError(f"converting {args.source} needs -o/--output NAME.safetensors")
    if args.output.suffix != ".safetensors":
        raise ValueError(f"output {args.output} has suffix {args.output.suffix!r}, expected '.safetensors'")
    check_output_file(args.output, [args.source])
    return args.output


def write_onnx(weights: Path) -> Path:
    """Export `weights` to NAME.onnx beside it, atomically."""
    from silhouette_cam.model.onnx_export import export_onnx, onnx_path_for

    target = onnx_path_for(weights)
    with atomic_output(target, what="ONNX file") as tmp:
        export_onnx(weights, tmp)
    return target


def convert_torchvision(source: Path, output: Path) -> int:
    """A torchvision state dict (.pth) -> safetensors of its tensors; returns the number of tensors.

    The one place that calls torch.load, and only with weights_only=True (no code in the file runs)."""
    import torch
    from safetensors.torch import save_file

    if not source.is_file():
        raise FileNotFoundError(f"torchvision checkpoint {source} does not exist")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file can fail anywhere in the unpickler (struct.error, EOFError, ...)
        reason = " ".join(str(exc).split())[:200]
        raise ValueError(f"torchvision checkpoint {source} cannot be read as a weights-only state dict ({reason})") \
            from None
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ValueError(f"torchvision checkpoint {source} is not a state dict of tensors "
                         "(expected e.g. mobilenet_v3_small-047dcff4.pth from torchvision)")
    tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
    with atomic_output(output, what="safetensors file") as tmp:
        save_file(tensors, str(tmp), metadata={"source": source.name, "format": "torchvision state dict"})
    return len(tensors)


def run(args: argparse.Namespace) -> int:
    if args.from_torchvision:
        output = _output_path(args)
        count = convert_torchvision(args.source, output)
        print(f"wrote {output}: {count} tensors from {args.source} (use it with train --encoder-weights)")
        return 0
    if args.source.suffix == ".safetensors":
        print(f"wrote {write_onnx(args.source)}")
        return 0
    from silhouette_cam.model.tflite_convert import convert_tflite_file

    output = _output_path(args)
    facts = convert_tflite_file(args.source, output)
    print(f"wrote {output}: {facts.architecture}/{facts.variant}, input {facts.input_height}x"
          f"{facts.input_width} {facts.channel_order} {facts.value_range}, classes {list(facts.classes)}")
    print(f"  source {facts.source} sha256 {facts.source_sha256}")
    print(f"  tensors sha256 {facts.sha256}")
    print(f"wrote {write_onnx(output)} (CPU fast path)")
    return 0
