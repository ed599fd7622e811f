"""The selfie segmentation network: MobileNetV3-style encoder, attention-fusing decoder, learned upsampling.

Architecture of MediaPipe's Selfie Segmentation models (general 256x256 and landscape 144x256 share it):

    encoder  stem 3x3/2 + hard-swish                     -> 1/2   16 ch  (skip)
             8 inverted residual blocks (BLOCKS)          -> 1/4   16 ch  (skip), 1/8 24 ch (skip), 1/16 32 ch
             context: relu(1x1 conv) * sigmoid(1x1 conv(global pool))      1/16 128 ch
    decoder  3 stages (DECODER_STAGES), each: bilinear x2 -> 1x1 projection -> fuse the skip feature with
             channel attention from a global pool -> depthwise residual refinement      up to 1/2, 16 ch
    head     2x2 stride-2 transposed convolution (kernel = stride: no overlap, no checkerboard) -> 1 logit
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from silhouette_cam.model.layers import DepthwiseResidual, InvertedResidual, SameConv2d, SqueezeExcite


class BlockSpec(NamedTuple):
    in_channels: int
    expand_channels: int
    out_channels: int
    kernel_size: int
    stride: int
    activation: str
    se_channels: int | None


BLOCKS = (
    BlockSpec(16, 16, 16, 3, 2, "relu", 8),      # -> 1/4 (skip)
    BlockSpec(16, 72, 24, 3, 2, "relu", None),   # -> 1/8
    BlockSpec(24, 88, 24, 3, 1, "relu", None),   # -> 1/8 (skip)
    BlockSpec(24, 96, 32, 5, 2, "hswish", 24),   # -> 1/16
    BlockSpec(32, 128, 32, 5, 1, "hswish", 32),
    BlockSpec(32, 128, 32, 5, 1, "hswish", 32),
    BlockSpec(32, 96, 32, 5, 1, "hswish", 24),
    BlockSpec(32, 96, 32, 5, 1, "hswish", 24),
)
SKIP_AFTER_BLOCK = {0: "1/4", 2: "1/8"}  # block index -> skip scale fed to the decoder
CONTEXT_CHANNELS = 128
# (input channels, output channels = skip channels, skip scale)
DECODER_STAGES = ((128, 24, "1/8"), (24, 16, "1/4"), (16, 16, "1/2"))
STEM_CHANNELS = 16


class SelfieEncoder(nn.Module):
    """`[B, 3, H, W]` normalized RGB -> (context `[B, 128, H/16, W/16]`, skips {"1/2", "1/4", "1/8"})."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(SameConv2d(3, STEM_CHANNELS, 3, stride=2), nn.Hardswish())
        self.blocks = nn.ModuleList(InvertedResidual(*spec) for spec in BLOCKS)
        last = BLOCKS[-1].out_channels
        self.context = nn.Sequential(nn.Conv2d(last, CONTEXT_CHANNELS, 1), nn.ReLU())
        self.context_gate = nn.Conv2d(last, CONTEXT_CHANNELS, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = self.stem(x)
        skips = {"1/2": x}
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in SKIP_AFTER_BLOCK:
                skips[SKIP_AFTER_BLOCK[index]] = x
        context = self.context(x)
        gate = torch.sigmoid(self.context_gate(x.mean(dim=(2, 3), keepdim=True)))
        return context * gate, skips


class DecoderStage(nn.Module):
    """Upsample x2, project, fuse the skip feature with pooled channel attention, refine.

    `x [B, C_in, h, w]`, `skip [B, C_out, 2h, 2w]` -> `[B, C_out, 2h, 2w]`.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.project = nn.Conv2d(in_channels, out_channels, 1)
        self.skip_attention = SqueezeExcite(out_channels, out_channels)
        self.refine = DepthwiseResidual(out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        # Bilinear with half-pixel centers, as TFLite's RESIZE_BILINEAR in these models.
        up = self.project(F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False))
        gate = self.skip_attention.attention(skip + up)  # attention sees both coarse and fine features
        return self.refine(skip * gate + up)


class SelfieSegmentationNet(nn.Module):
    """Person segmentation network.

    forward(x): `x` float `[B, 3, H, W]`, RGB in 0..1 (H, W divisible by 16; the shipped weights were
    trained at 256x256 "general" and 144x256 "landscape") -> person logits `[B, 1, H, W]`;
    `torch.sigmoid` of them is the person probability. The models take RGB in 0..1 unnormalized, so
    there is no normalization step to hide here.
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder = SelfieEncoder()
        self.decoder = nn.ModuleList(DecoderStage(cin, cout) for cin, cout, _ in DECODER_STAGES)
        self.head = nn.ConvTranspose2d(DECODER_STAGES[-1][1], 1, kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skips = self.encoder(x)                                   # [B, 128, H/16, W/16]
        for stage, (_, _, scale) in zip(self.decoder, DECODER_STAGES, strict=True):
            x = stage(x, skips[scale])                               # up to [B, 16, H/2, W/2]
        return self.head(x)                                          # [B, 1, H, W] logits
