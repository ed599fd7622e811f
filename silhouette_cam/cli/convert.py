"""`silhouette-cam convert-weights`: MediaPipe .tflite -> safetensors, and safetensors -> ONNX.

    silhouette-cam convert-weights MODEL.tflite -o weights/NAME.safetensors   # also writes NAME.onnx
    silhouette-cam convert-weights weights/NAME.safetensors                  # just the ONNX export

The ONNX export is the CPU fast path (ONNX Runtime); it needs `pip install 'silhouette_cam[convert]'`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path,
                        help="a MediaPipe selfie segmentation .tflite file, or a .safetensors file to export to ONNX")
    parser.add_argument("-o", "--output", type=Path, help="the .safetensors file to write (for a .tflite source)")


def run(args: argparse.Namespace) -> int:
    from silhouette_cam.model.onnx_export import export_onnx
    from silhouette_cam.model.tflite_convert import convert_tflite_file

    if args.source.suffix == ".safetensors":
        print(f"wrote {export_onnx(args.source)}")
        return 0
    if args.output is None:
        raise ValueError(f"converting {args.source} needs -o/--output NAME.safetensors")
    if args.output.suffix != ".safetensors":
        raise ValueError(f"output {args.output} has suffix {args.output.suffix!r}, expected '.safetensors'")
    facts = convert_tflite_file(args.source, args.output)
    print(f"wrote {args.output}: {facts.architecture}/{facts.variant}, input {facts.input_height}x"
          f"{facts.input_width} {facts.channel_order} {facts.value_range}, classes {list(facts.classes)}")
    print(f"  source {facts.source} sha256 {facts.source_sha256}")
    print(f"  tensors sha256 {facts.sha256}")
    print(f"wrote {export_onnx(args.output)} (CPU fast path)")
    return 0
