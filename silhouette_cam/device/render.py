"""DeviceRenderer: render.renderer.FrameRenderer's four renderings as torch ops on the frame's device.

Same arithmetic as the CPU renderer (8-bit alpha, each product rounded, a silhouette as a blend of two
colors, the mask-weighted background blur at 1/4 size), so frames agree within a level or two; a
background image is uploaded once and kept on the device, a background video uploads each frame
(decoding stays on the CPU: render.backgrounds.BackgroundSource).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from silhouette_cam.device.ops import gaussian_blur, resize_bilinear, round_u8
from silhouette_cam.render import BACKGROUNDS, MODES, BackgroundSource, RenderSettings, checkerboard, parse_color


def alpha_u8(mask: torch.Tensor, scale: float = 255.0) -> torch.Tensor:
    """`[H, W]` float 0..1 -> float of cv2.convertScaleAbs(mask, alpha=scale) (rounded, saturated)."""
    return round_u8(mask * scale)


def blend(background: torch.Tensor, foreground: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """[H, W, 3] floats of uint8, alpha [H, W] float of uint8 -> FrameRenderer._blend's rounded result."""
    a = alpha[..., None]
    return (round_u8(foreground * a / 255.0) + round_u8(background * (255.0 - a) / 255.0)).clamp_(max=255.0)


def mask_weighted_blur(rgb: torch.Tensor, mask: torch.Tensor, sigma: float, downscale: int = 4) -> torch.Tensor:
    """render.backgrounds.mask_weighted_blur: [H, W, 3] float of uint8 RGB + mask [H, W] -> [H, W, 3] float of uint8."""
    h, w = mask.shape
    size = (max(1, w // downscale), max(1, h // downscale))
    small = rgb.permute(2, 0, 1)                                              # [3, H, W]
    while small.shape[2] % 2 == 0 and small.shape[1] % 2 == 0 and small.shape[2] >= 2 * size[0] \
            and small.shape[1] >= 2 * size[1]:                               # OpenCV's exact 2x halvings
        small = round_u8(F.avg_pool2d(small[None], 2)[0])
    if tuple(small.shape[1:]) != (size[1], size[0]):
        small = round_u8(F.interpolate(small[None], size=(size[1], size[0]), mode="area")[0])
    weight = 1.0 - F.interpolate(mask[None, None], size=(size[1], size[0]), mode="area")[0, 0]
    s = max(0.5, sigma / downscale)
    num = gaussian_blur(small * weight, s)
    den = gaussian_blur(weight[None], s)[0]
    covered = den <= 1e-3
    num = num / den.clamp(min=1e-3)
    num = torch.where(covered, gaussian_blur(small, s), num)
    blurred = round_u8(num)
    return round_u8(resize_bilinear(blurred[None], h, w)[0]).permute(1, 2, 0)


class DeviceRenderer:
    """Stateful (kept backgrounds); one per pipeline; not thread-safe."""

    def __init__(self) -> None:
        self._background = BackgroundSource()
        self._kept: dict[tuple, torch.Tensor] = {}   # solid colors, checkerboard, background image

    def close(self) -> None:
        self._background.close()
        self._kept.clear()

    def _constant(self, key: tuple, make) -> torch.Tensor:
        if key not in self._kept:
            for old in [k for k in self._kept if k[0] == key[0]]:
                del self._kept[old]
            self._kept[key] = make()
        return self._kept[key]

    def _solid(self, role: str, color, shape, device) -> torch.Tensor:
        rgb = parse_color(color)
        return self._constant((role, rgb, shape, device), lambda: torch.tensor(
            rgb, dtype=torch.float32, device=device).expand(*shape, 3))

    def _background_picture(self, settings: RenderSettings, shape, device) -> torch.Tensor:
        h, w = shape
        picture = self._background.frame(settings.background, Path(settings.background_path), (w, h))
        if settings.background == "image":  # the same array until the file or size changes: upload once
            return self._constant(("image", id(picture), shape, device),
                                  lambda: torch.from_numpy(np.ascontiguousarray(picture)).to(device).float())
        return torch.from_numpy(picture).to(device, non_blocking=False).float()

    def render(self, frame: torch.Tensor, mask: torch.Tensor,
               settings: RenderSettings) -> tuple[torch.Tensor, torch.Tensor | None]:
        """frame [H, W, 3] uint8 BGR + mask [H, W] float32 0..1, on the device -> (image [H, W, 3] uint8
        RGB, rgba [H, W, 4] uint8 for a transparent cutout else None), on the device."""
        h, w = frame.shape[:2]
        mode = settings.mode
        if mode == "mask":
            return alpha_u8(mask)[..., None].expand(h, w, 3).to(torch.uint8), None
        if mode == "silhouette":
            level = alpha_u8(mask)[..., None] / 255.0
            person = torch.tensor(parse_color(settings.person_color), dtype=torch.float64, device=frame.device)
            back = torch.tensor(parse_color(settings.silhouette_background), dtype=torch.float64, device=frame.device)
            return round_u8(back * (1 - level.double()) + person * level.double()).to(torch.uint8), None
        rgb = frame.flip(-1).float()
        if mode == "overlay":
            tint = self._solid("overlay", settings.overlay_color, (h, w), frame.device)
            return blend(rgb, tint, alpha_u8(mask, 255.0 * float(settings.overlay_opacity))).to(torch.uint8), None
        if mode != "cutout":
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        background = settings.background
        alpha = alpha_u8(mask)
        if background == "transparent":
            checker = self._constant(("checker", (h, w), settings.checker_size, frame.device), lambda: torch.from_numpy(
                checkerboard(h, w, settings.checker_size)).to(frame.device).float())
            rgba = torch.cat([frame.flip(-1), alpha.to(torch.uint8)[..., None]], dim=-1)
            return blend(checker, rgb, alpha).to(torch.uint8), rgba
        if background == "color":
            bg = self._solid("background", settings.background_color, (h, w), frame.device)
        elif background == "blur":
            bg = mask_weighted_blur(rgb, mask, float(settings.blur_sigma))
        elif background in ("image", "video"):
            bg = self._background_picture(settings, (h, w), frame.device)
        else:
            raise ValueError(f"background {background!r} is not one of {', '.join(BACKGROUNDS)}")
        return blend(bg, rgb, alpha).to(torch.uint8), None
