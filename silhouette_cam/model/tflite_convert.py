"""Convert MediaPipe Selfie Segmentation `.tflite` files into `SelfieSegmentationNet` weights.

Mapping is by structure: the flatbuffer's weight-bearing ops, in graph order, are paired with the
module's convolutions in the order its forward pass runs them, and every pair must agree on kind
(conv / depthwise / transposed), stride and shape. Anything unmatched, missing or mis-shaped fails
with the op index and both shapes. Layouts: TFLite conv kernels are OHWI (-> OIHW), depthwise
kernels 1HWC (-> C1HW), and MediaPipe's custom `Convolution2DTransposeBias` kernel is OHWI
(-> ConvTranspose2d's IOHW, taps not flipped: a flipped kernel moves mask edges by a pixel and
differs from MediaPipe by up to 0.86 in probability, the unflipped one by < 1e-5; tests/test_segmenter.py
holds the port to MediaPipe's own outputs).
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from silhouette_cam.model.facts import WeightFacts, save_weights
from silhouette_cam.model.selfie import SelfieSegmentationNet

LICENSE = "Apache-2.0 (MediaPipe Selfie Segmentation, Google LLC)"
# Ops that may appear in a selfie segmentation graph; anything else means another model.
EXPECTED_OPS = {"DEQUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D", "HARD_SWISH", "RELU", "AVERAGE_POOL_2D",
                "MEAN", "LOGISTIC", "MUL", "ADD", "RESIZE_BILINEAR", "CUSTOM:Convolution2DTransposeBias"}
TENSOR_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32}  # tflite.TensorType values we read


class WeightOp(NamedTuple):
    index: int          # op index in the graph, for error messages
    kind: str           # "conv" | "depthwise" | "transpose"
    stride: int
    kernel: np.ndarray  # already in PyTorch layout
    bias: np.ndarray


def _import_tflite():
    try:
        import tflite
    except ImportError:
        raise ValueError("converting .tflite files needs the 'tflite' package: "
                         "pip install 'silhouette_cam[convert]'") from None
    return tflite


class _Graph:
    """Read-only view of a TFLite flatbuffer's first subgraph."""

    def __init__(self, path: Path) -> None:
        tflite = _import_tflite()
        self.tflite = tflite
        data = path.read_bytes()
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise ValueError(f"{path} is not a TFLite flatbuffer (expected identifier 'TFL3' at byte 4)")
        try:
            self.model = tflite.Model.GetRootAsModel(data, 0)
            self.subgraph = self.model.Subgraphs(0)
            self.num_ops = self.subgraph.OperatorsLength()
        except (struct.error, IndexError) as exc:  # reads past the end of a cut-off file
            raise ValueError(f"{path} is a truncated or corrupt TFLite file ({exc})") from None
        self.op_names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
        self.path = path

    def op_name(self, op) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = self.op_names.get(builtin, str(builtin))
        return f"CUSTOM:{code.CustomCode().decode()}" if name == "CUSTOM" else name

    def shape(self, tensor_index: int) -> tuple[int, ...]:
        tensor = self.subgraph.Tensors(tensor_index)
        return tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()

    def constant(self, tensor_index: int) -> np.ndarray | None:
        tensor = self.subgraph.Tensors(tensor_index)
        raw = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw.size == 0:
            return None
        dtype = TENSOR_DTYPES.get(tensor.Type())
        if dtype is None:
            raise ValueError(f"{self.path}: tensor {tensor.Name().decode()!r} has unsupported type {tensor.Type()}")
        return raw.view(dtype).reshape(self.shape(tensor_index)).astype(np.float32)


def _options(graph: _Graph, op, cls):
    table = op.BuiltinOptions()
    options = cls()
    options.Init(table.Bytes, table.Pos)
    return options


def read_weight_ops(graph: _Graph) -> tuple[list[WeightOp], tuple[int, int]]:
    """-> (weight ops in graph order, in PyTorch layouts; input (height, width))."""
    tfl = graph.tflite
    inputs = graph.subgraph.InputsAsNumpy()
    input_shape = graph.shape(int(inputs[0])) if len(inputs) == 1 else ()
    if len(input_shape) != 4 or input_shape[0] != 1 or input_shape[3] != 3:
        raise ValueError(f"{graph.path}: input tensor has shape {input_shape}, expected (1, H, W, 3)")
    dequantized: dict[int, np.ndarray] = {}  # output tensor -> constant (weights are stored as fp16)
    ops: list[WeightOp] = []
    for index in range(graph.num_ops):
        op = graph.subgraph.Operators(index)
        name = graph.op_name(op)
        if name not in EXPECTED_OPS:
            raise ValueError(f"{graph.path}: op {index} is {name}, which MediaPipe's selfie segmentation "
                             "models do not use (a .tflite of another model?)")
        args = [int(i) for i in op.InputsAsNumpy()]
        if name == "DEQUANTIZE":
            dequantized[int(op.OutputsAsNumpy()[0])] = graph.constant(args[0])
            continue
        if name == "RESIZE_BILINEAR":
            resize = _options(graph, op, tfl.ResizeBilinearOptions)
            if resize.AlignCorners() or not resize.HalfPixelCenters():
                raise ValueError(f"{graph.path}: op {index} resizes without half-pixel centers; "
                                 "the network upsamples with half-pixel centers")
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "CUSTOM:Convolution2DTransposeBias"):
            continue

        def const(i: int, args=args) -> np.ndarray:
            value = dequantized.get(args[i])
            return value if value is not None else graph.constant(args[i])

        kernel, bias = const(1), const(2)
        if kernel is None or bias is None:
            raise ValueError(f"{graph.path}: op {index} ({name}) has no constant kernel/bias")
        if name == "CONV_2D":
            options = _options(graph, op, tfl.Conv2DOptions)
            ops.append(WeightOp(index, "conv", options.StrideH(), kernel.transpose(0, 3, 1, 2), bias))
        elif name == "DEPTHWISE_CONV_2D":
            options = _options(graph, op, tfl.DepthwiseConv2DOptions)
            ops.append(WeightOp(index, "depthwise", options.StrideH(), kernel.transpose(3, 0, 1, 2), bias))
        else:  # 2x2 stride-2 transposed conv: OHWI -> IOHW, taps not flipped (output[2y+i, 2x+j] uses tap i, j)
            ops.append(WeightOp(index, "transpose", 2, kernel.transpose(3, 0, 1, 2), bias))
            continue
        if options.FusedActivationFunction() != 0:
            raise ValueError(f"{graph.path}: op {index} has a fused activation, expected none")
    return ops, (input_shape[1], input_shape[2])


def _module_convs_in_run_order(module: nn.Module, height: int, width: int) -> list[tuple[str, nn.Module]]:
    names = {m: n for n, m in module.named_modules()}
    order: list[tuple[str, nn.Module]] = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append((names[mod], mod)))
             for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        module(torch.zeros(1, 3, height, width))
    for hook in hooks:
        hook.remove()
    return order


def _kind(conv: nn.Module) -> str:
    if isinstance(conv, nn.ConvTranspose2d):
        return "transpose"
    return "depthwise" if conv.groups > 1 and conv.groups == conv.in_channels else "conv"


def convert_tflite(path: str | Path) -> tuple[dict[str, torch.Tensor], WeightFacts]:
    """Read a selfie segmentation .tflite -> (state_dict for SelfieSegmentationNet, facts)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tflite file {path} does not exist")
    graph = _Graph(path)
    try:
        ops, (height, width) = read_weight_ops(graph)
    except (struct.error, IndexError) as exc:  # flatbuffer reads past the end of a cut-off file
        raise ValueError(f"{path} is a truncated or corrupt TFLite file ({exc})") from None
    module = SelfieSegmentationNet()
    convs = _module_convs_in_run_order(module, height, width)
    if len(ops) != len(convs):
        raise ValueError(f"{path}: {len(ops)} weight ops in the graph, expected {len(convs)} "
                         "(the selfie segmentation architecture)")
    state: dict[str, torch.Tensor] = {}
    for op, (name, conv) in zip(ops, convs, strict=True):
        expected_kernel, got_kernel = tuple(conv.weight.shape), op.kernel.shape
        if _kind(conv) != op.kind or conv.stride[0] != op.stride or expected_kernel != got_kernel:
            raise ValueError(f"{path}: op {op.index} is a {op.kind} (stride {op.stride}, kernel {got_kernel}), "
                             f"expected a {_kind(conv)} (stride {conv.stride[0]}, kernel {expected_kernel}) "
                             f"for {name}")
        if op.bias.shape != (conv.out_channels,):
            raise ValueError(f"{path}: op {op.index} bias has shape {op.bias.shape}, "
                             f"expected ({conv.out_channels},) for {name}")
        state[f"{name}.weight"] = torch.tensor(op.kernel)
        state[f"{name}.bias"] = torch.tensor(op.bias)
    module.load_state_dict(state, strict=True)  # every parameter was matched exactly once
    facts = WeightFacts(
        architecture="selfie",
        variant="landscape" if width > height else "general",
        input_height=height,
        input_width=width,
        source=path.name,
        source_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        license=LICENSE,
    )
    return state, facts


def convert_tflite_file(source: str | Path, output: str | Path) -> WeightFacts:
    """Convert `source` (.tflite) and write `output` (.safetensors); returns the written facts."""
    state, facts = convert_tflite(source)
    return save_weights(output, state, facts)
