"""Frame-path building blocks as torch ops; each mirrors one numpy/OpenCV step of the CPU path.

Shapes: frames `[H, W, 3]` uint8 BGR on the device, maps `[H, W]` or `[1, 1, H, W]` float32 0..1.
All float work is fp32 whatever the network's precision (see inference.TorchRunner).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def stretch_grid(src_width: int, src_height: int, dst_width: int, dst_height: int, *,
                 device: torch.device) -> torch.Tensor:
    """grid_sample grid `[1, h, w, 2]` fp32 for MediaPipe's corner-to-corner stretch (frames.stretch_matrix):
    output pixel x samples source x * W / w; zeros outside."""
    # grid_sample(align_corners=False) reads pixel p at normalized (2p + 1) / W - 1; built in float64
    # so the 1280-wide grid is exact to well under a hundredth of a pixel before the fp32 cast.
    xs = (torch.arange(dst_width, dtype=torch.float64) * (src_width / dst_width) * 2 + 1) / src_width - 1
    ys = (torch.arange(dst_height, dtype=torch.float64) * (src_height / dst_height) * 2 + 1) / src_height - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # [h, w, 2] as (x, y)
    return grid.unsqueeze(0).to(device, torch.float32)


def bgr_to_rgb_unit(frame: torch.Tensor) -> torch.Tensor:
    """`[H, W, 3]` uint8 BGR -> `[1, 3, H, W]` float32 RGB 0..1."""
    return frame.permute(2, 0, 1).flip(0).unsqueeze(0).float().mul_(1.0 / 255.0)


def stretch_to_network(frame: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """`[H, W, 3]` uint8 BGR + stretch grid -> the network input `[1, 3, h, w]` float32 RGB 0..1."""
    return F.grid_sample(bgr_to_rgb_unit(frame), grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def resize_bilinear(maps: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`[B, K, h, w]` -> `[B, K, height, width]`, bilinear with half-pixel centers (= cv2.INTER_LINEAR)."""
    return F.interpolate(maps, size=(height, width), mode="bilinear", align_corners=False)
