"""`silhouette-cam convert-weights MODEL.tflite -o weights/NAME.safetensors`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tflite", type=Path, help="a MediaPipe selfie segmentation .tflite file")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .safetensors file to write")


def run(args: argparse.Namespace) -> int:
    from silhouette_cam.model.tflite_convert import convert_tflite_file

    if args.output.suffix != ".safetensors":
        raise ValueError(f"output {args.output} has suffix {args.output.suffix!r}, expected '.safetensors'")
    facts = convert_tflite_file(args.tflite, args.output)
    print(f"wrote {args.output}: {facts.architecture}/{facts.variant}, input {facts.input_height}x"
          f"{facts.input_width} {facts.channel_order} {facts.value_range}, classes {list(facts.classes)}")
    print(f"  source {facts.source} sha256 {facts.source_sha256}")
    print(f"  tensors sha256 {facts.sha256}")
    return 0
