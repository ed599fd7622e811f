"""S-Net: a from-scratch encoder-decoder for C-class segmentation (FCN / U-Net style).

    encoder  torchvision MobileNetV3 (small or large) `features`, random init or ImageNet weights from a
             local file; its output is tapped at every scale 1/2, 1/4, 1/8, 1/16, 1/32
    decoder  per scale, coarse to fine: 2x2 stride-2 transposed convolution (learned upsampling, kernel =
             stride so no checkerboard overlap) -> concatenate the encoder feature of that scale (skip) ->
             3x3 conv + BN + ReLU; a last 2x2 stride-2 transposed convolution brings 1/2 to full size
    head     1x1 conv -> C logits per pixel (softmax / argmax over C)

forward(x): `[B, 3, H, W]` RGB float in 0..1 (any H, W: padded inside to a multiple of 32 and cropped
back) -> logits `[B, C, H, W]`. ImageNet normalization happens inside, like every model here.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.nn import functional as F

ENCODERS = {
    "mobilenet_v3_small": torchvision.models.mobilenet_v3_small,
    "mobilenet_v3_large": torchvision.models.mobilenet_v3_large,
}
DEFAULT_ENCODER = "mobilenet_v3_small"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Decoder channels at 1/16, 1/8, 1/4, 1/2 and full size.
DECODER_WIDTHS = (96, 48, 32, 24, 16)
STRIDE = 32
BN_MOMENTUM = 0.1


def _tap_points(features: nn.Sequential) -> tuple[list[int], list[int]]:
    """Indices of the last feature block at each stride 2..32 and their channel counts (probed once)."""
    taps: list[int] = []
    channels: list[int] = []
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        for index, block in enumerate(features):
            y = block(x)
            if taps and y.shape[-1] == x.shape[-1]:
                taps[-1], channels[-1] = index, y.shape[1]  # same scale: the tap moves deeper
            else:
                taps.append(index)
                channels.append(y.shape[1])
            x = y
    return taps, channels


class DecoderStage(nn.Module):
    """`x [B, C_in, h, w]`, `skip [B, C_skip, 2h, 2w]` -> `[B, C_out, 2h, 2w]`."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.fuse = nn.Sequential(
            nn.Conv2d(out_channels + skip_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([self.up(x), skip], dim=1))


class SNet(nn.Module):
    """MobileNetV3 encoder + transposed-convolution decoder with a skip from every encoder scale."""

    def __init__(self, num_classes: int, *, encoder: str = DEFAULT_ENCODER) -> None:
        super().__init__()
        self.encoder = ENCODERS[encoder](weights=None).features
        for module in self.encoder.modules():
            if isinstance(module, nn.BatchNorm2d):
                # torchvision's 0.01 makes eval-mode statistics trail the weights by ~100 steps, which
                # hides what a short from-scratch run has learned; 0.1 is PyTorch's default.
                module.momentum = BN_MOMENTUM
        self.taps, tap_channels = _tap_points(self.encoder)  # 5 scales: 1/2 .. 1/32
        widths = DECODER_WIDTHS
        # Coarse to fine: 1/32 -> 1/16 (skip 1/16) -> ... -> 1/2 (skip 1/2).
        in_channels = [tap_channels[-1], *widths[:3]]
        self.decoder = nn.ModuleList(
            DecoderStage(cin, skip, cout)
            for cin, skip, cout in zip(in_channels, tap_channels[-2::-1], widths[:4], strict=True)
        )
        self.final_up = nn.ConvTranspose2d(widths[3], widths[4], kernel_size=2, stride=2)
        self.head = nn.Sequential(nn.ReLU(inplace=True), nn.Conv2d(widths[4], num_classes, 1))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = (-height) % STRIDE, (-width) % STRIDE
        x = (x - self.mean) / self.std
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = []
        for index, block in enumerate(self.encoder):
            x = block(x)
            if index in self.taps:
                skips.append(x)  # [B, C_s, H/2^s, W/2^s], s = 1..5
        x = skips[-1]  # [B, C_5, H/32, W/32]
        for stage, skip in zip(self.decoder, skips[-2::-1], strict=True):
            x = stage(x, skip)  # up to [B, 24, H/2, W/2]
        logits = self.head(self.final_up(x))  # [B, C, H + pad_h, W + pad_w]
        return logits[..., :height, :width]


def load_encoder_weights(model: SNet, path: str | Path) -> None:
    """Load torchvision ImageNet classification weights, as safetensors, into the encoder.

    Only the `features.*` entries are used; the classifier is dropped. A torchvision `.pth` is turned into
    safetensors by `silhouette-cam convert-weights --from-torchvision` (weights are never unpickled here).
    Raises ValueError naming the file and the first missing or mismatched tensor.
    """
    from silhouette_cam.weight_facts import open_weights_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"encoder weights {path}: expected a .safetensors file (convert a torchvision .pth with "
                         f"`silhouette-cam convert-weights --from-torchvision {path.name} -o NAME.safetensors`)")
    with open_weights_file(path, "pt") as reader:
        state = {name: reader.get_tensor(name) for name in reader.keys()}
    features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    own = model.encoder.state_dict()
    for key, tensor in own.items():
        if key not in features:
            raise ValueError(f"encoder weights {path}: missing features.{key} (is this a MobileNetV3 file?)")
        if features[key].shape != tensor.shape:
            raise ValueError(
                f"encoder weights {path}: features.{key} has shape {tuple(features[key].shape)}, "
                f"expected {tuple(tensor.shape)} (wrong MobileNetV3 size?)"
            )
    model.encoder.load_state_dict({k: features[k] for k in own})


def build_snet(*, num_classes: int, encoder: str = DEFAULT_ENCODER, encoder_weights: str | Path | None = None) -> SNet:
    """Build an S-Net for `num_classes` >= 2 classes; random init unless `encoder_weights` names a file."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (background + at least one class), got {num_classes}")
    if encoder not in ENCODERS:
        raise ValueError(f"unknown S-Net encoder {encoder!r}; expected one of {sorted(ENCODERS)}")
    model = SNet(num_classes, encoder=encoder)
    if encoder_weights is not None:
        load_encoder_weights(model, encoder_weights)
    return model


def build_from_facts(facts) -> SNet:
    """Registry builder: an untrained S-Net shaped by `facts` (classes -> C, extra["encoder"])."""
    extra = getattr(facts, "extra", None) or {}
    return build_snet(num_classes=len(facts.classes), encoder=str(extra.get("encoder", DEFAULT_ENCODER)))
