"""Building blocks of the MobileNetV3-style selfie network (architecture only: no I/O, no devices).

Every block maps `[B, C_in, H, W]` float to `[B, C_out, H', W']` float.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "hswish": nn.Hardswish}


class SameConv2d(nn.Conv2d):
    """`nn.Conv2d` with TensorFlow's 'SAME' padding.

    For stride 2 the padding is asymmetric (the extra row/column goes at the bottom/right), which
    PyTorch's symmetric `padding=` cannot express; getting it wrong shifts the mask by half a pixel
    per stride-2 layer. Stride-1 convolutions use the symmetric padding directly (no per-call work).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1) -> None:
        symmetric = kernel_size // 2 if stride == 1 else 0
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=symmetric,
                         groups=groups, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] == 1:
            return super().forward(x)
        k, s = self.kernel_size[0], self.stride[0]
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad order: (left, right, top, bottom)
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class SqueezeExcite(nn.Module):
    """Channel attention from a global average pool: x * sigmoid(W2 relu(W1 mean(x)))."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeeze_channels, 1)
        self.expand = nn.Conv2d(squeeze_channels, channels, 1)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """`[B, C, H, W]` -> per-channel gate `[B, C, 1, 1]` in 0..1."""
        pooled = x.mean(dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.expand(F.relu(self.reduce(pooled))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention(x)


class InvertedResidual(nn.Module):
    """MobileNetV3 block: 1x1 expand -> kxk depthwise (stride) -> optional SE -> 1x1 project (+ residual)."""

    def __init__(self, in_channels: int, expand_channels: int, out_channels: int, kernel_size: int,
                 stride: int, activation: str, se_channels: int | None) -> None:
        super().__init__()
        act = ACTIVATIONS[activation]
        self.expand = nn.Sequential(nn.Conv2d(in_channels, expand_channels, 1), act())
        self.depthwise = nn.Sequential(
            SameConv2d(expand_channels, expand_channels, kernel_size, stride=stride, groups=expand_channels),
            act(),
        )
        self.squeeze_excite = SqueezeExcite(expand_channels, se_channels) if se_channels else nn.Identity()
        self.project = nn.Conv2d(expand_channels, out_channels, 1)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.squeeze_excite(self.depthwise(self.expand(x))))
        return x + y if self.use_residual else y


class DepthwiseResidual(nn.Module):
    """Decoder refinement: y = relu(1x1 conv(x)); return y + relu(3x3 depthwise(y))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pointwise = nn.Conv2d(channels, channels, 1)
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.pointwise(x))
        return y + F.relu(self.depthwise(y))
