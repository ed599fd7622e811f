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
    """`[H, W, 3]` uint8 BGR + stretch grid -> the network input `[1, 3, h, w]` float32 RGB 0..1,
    rounded to uint8 levels as OpenCV's uint8 warpAffine (the CPU path) and MediaPipe round it.

    Measured on the full-body goldens (tests/fixtures/golden/fullbody): without the rounding the
    landscape model's mask of a small pedestrian (vtest_frame450) had IoU 0.75 against MediaPipe,
    with it 1.00; the general model's worst frame went 0.979 -> 0.978 (others unchanged or better).
    """
    small = F.grid_sample(bgr_to_rgb_unit(frame), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return small.mul_(255.0).round_().mul_(1.0 / 255.0)


def resize_bilinear(maps: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`[B, K, h, w]` -> `[B, K, height, width]`, bilinear with half-pixel centers (= cv2.INTER_LINEAR)."""
    return F.interpolate(maps, size=(height, width), mode="bilinear", align_corners=False)


def round_u8(x: torch.Tensor) -> torch.Tensor:
    """Float values -> the float of their saturated uint8 (OpenCV's saturate_cast: round half to even)."""
    return x.round().clamp_(0.0, 255.0)


def _symmetric_index(n: int, radius: int, device: torch.device) -> torch.Tensor:
    """Indices of a length-n axis padded by `radius` on each side as cv2.BORDER_REFLECT (fedcba|abcdef)."""
    index = torch.arange(-radius, n + radius, device=device)
    index = torch.where(index < 0, -index - 1, index)
    index = torch.where(index >= n, 2 * n - index - 1, index)
    return index.clamp_(0, n - 1)


def box_filter(planes: torch.Tensor, radius: int) -> torch.Tensor:
    """`[C, h, w]` -> box mean over (2r+1)^2 per plane, borders as cv2.boxFilter(BORDER_REFLECT)."""
    h, w = planes.shape[-2:]
    padded = planes.index_select(-1, _symmetric_index(w, radius, planes.device))
    padded = padded.index_select(-2, _symmetric_index(h, radius, planes.device))
    return F.avg_pool2d(padded.unsqueeze(0), 2 * radius + 1, stride=1)[0]


def area_downscale_u8(image: torch.Tensor, factor: int) -> torch.Tensor:
    """`[C, H, W]` float of uint8 values, H and W multiples of `factor` -> `[C, H/f, W/f]` rounded means
    (cv2.resize INTER_AREA at an integer factor on uint8)."""
    if factor == 1:
        return image
    return round_u8(F.avg_pool2d(image.unsqueeze(0), factor)[0])


def bgr_to_gray_u8(bgr: torch.Tensor) -> torch.Tensor:
    """`[3, h, w]` float of uint8 BGR -> `[h, w]` rounded gray (cv2.COLOR_BGR2GRAY weights)."""
    return round_u8(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])


def gaussian3x3_u8(image: torch.Tensor) -> torch.Tensor:
    """`[C, H, W]` float of uint8 -> cv2.GaussianBlur((3, 3), 0) (kernel 1 2 1 / 4, BORDER_REFLECT_101), rounded."""
    channels = image.shape[0]
    taps = torch.tensor([0.25, 0.5, 0.25], device=image.device, dtype=image.dtype)
    kernel = (taps[:, None] * taps[None, :]).expand(channels, 1, 3, 3)
    padded = F.pad(image.unsqueeze(0), (1, 1, 1, 1), mode="reflect")
    return round_u8(F.conv2d(padded, kernel, groups=channels)[0])


def gaussian_blur(planes: torch.Tensor, sigma: float) -> torch.Tensor:
    """`[C, h, w]` float -> cv2.GaussianBlur(ksize (0, 0), sigma) on float data (BORDER_REFLECT_101)."""
    ksize = int(round(sigma * 4 * 2 + 1)) | 1          # OpenCV's size for float images
    radius = ksize // 2
    x = torch.arange(ksize, device=planes.device, dtype=torch.float64) - radius
    taps = torch.exp(-(x * x) / (2 * sigma * sigma))
    taps = (taps / taps.sum()).to(planes.dtype)
    channels, h, w = planes.shape
    # Reflect-101 padding needs radius < size; clamp the kernel for tiny images.
    radius_y, radius_x = min(radius, h - 1), min(radius, w - 1)
    out = planes.unsqueeze(0)
    if radius_x > 0:
        tx = taps[radius - radius_x: radius + radius_x + 1]
        tx = tx / tx.sum()
        out = F.conv2d(F.pad(out, (radius_x, radius_x, 0, 0), mode="reflect"),
                       tx.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    if radius_y > 0:
        ty = taps[radius - radius_y: radius + radius_y + 1]
        ty = ty / ty.sum()
        out = F.conv2d(F.pad(out, (0, 0, radius_y, radius_y), mode="reflect"),
                       ty.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
    return out[0]


def warp_affine_replicate(src: torch.Tensor, matrix: tuple[tuple[float, float, float], tuple[float, float, float]],
                          size: tuple[int, int]) -> torch.Tensor:
    """cv2.warpAffine(src [h, w] float, M (2x3, src -> dst, axis-aligned scale + shift), size (W, H),
    INTER_LINEAR, BORDER_REPLICATE) -> `[H, W]`."""
    (sx, _, tx), (_, sy, ty) = matrix
    h, w = src.shape
    width, height = size
    xs = (torch.arange(width, device=src.device, dtype=torch.float64) - tx) / sx     # source x of dst pixel
    ys = (torch.arange(height, device=src.device, dtype=torch.float64) - ty) / sy
    # grid_sample(align_corners=True) puts pixel i at -1 + 2 i / (n - 1); "border" replicates the edge.
    gx = xs * (2.0 / max(w - 1, 1)) - 1.0
    gy = ys * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1).unsqueeze(0).to(src.dtype)
    return F.grid_sample(src[None, None], grid, mode="bilinear", padding_mode="border", align_corners=True)[0, 0]


def remap_replicate(src: torch.Tensor, map_x: torch.Tensor, map_y: torch.Tensor) -> torch.Tensor:
    """cv2.remap(src [C, h, w], map_x, map_y [h, w] pixel coordinates, INTER_LINEAR, BORDER_REPLICATE)."""
    h, w = src.shape[-2:]
    grid = torch.stack([map_x * (2.0 / max(w - 1, 1)) - 1.0, map_y * (2.0 / max(h - 1, 1)) - 1.0], dim=-1)
    return F.grid_sample(src.unsqueeze(0), grid.unsqueeze(0), mode="bilinear", padding_mode="border",
                         align_corners=True)[0]


def ramp(prob: torch.Tensor, *, threshold: float, softness: float, invert: bool) -> torch.Tensor:
    """refine.threshold.apply_threshold on a tensor: a new `[...]` float32 0..1."""
    if softness <= 1e-6:
        out = (prob > threshold).float()
    elif softness >= 1.0 and threshold == 0.5:
        out = prob.clamp(0.0, 1.0)
    else:
        out = ((prob - (threshold - softness / 2.0)) * (1.0 / softness)).clamp_(0.0, 1.0)
    return 1.0 - out if invert else out
