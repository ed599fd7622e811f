"""The fast guided filter of refine/guided.py as torch ops: coefficients on the grid, applied at full size.

Same math as refine.guided (gray: guided_coefficients; color: ColorGuidedSolver) and
refine.refiner.EdgeRefiner.finish (threshold ramp folded into the coefficients, 3x3 Gaussian guide,
bilinear coefficient upsampling, rows/columns past the tiled area repeated, clip to 0..1).
The CPU version restricts the full-size work to the cells around the edge; on a GPU the whole
frame costs about the same, and where the gains are 0 both give the offset alone.
"""

from __future__ import annotations

import torch

from silhouette_cam.device.ops import bgr_to_gray_u8, box_filter, gaussian3x3_u8, resize_bilinear


def gray_coefficients(guide: torch.Tensor, prob: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """guide, prob `[h, w]` float32 0..1 -> box-averaged (a, b) as `[2, h, w]`: prob ~ a * guide + b."""
    means = box_filter(torch.stack([guide, prob, guide * prob, guide * guide]), radius)
    mean_i, mean_p, corr_ip, corr_ii = means
    a = (corr_ip - mean_i * mean_p) / (corr_ii - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    return box_filter(torch.stack([a, b]), radius)


_PRODUCTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))  # rr rg rb gg gb bb


def color_coefficients(guide: torch.Tensor, prob: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """guide `[3, h, w]` float32 0..1 planes, prob `[h, w]` -> box-averaged `[4, h, w]` (a for the 3
    channels, then b): prob ~ a . guide + b (refine.guided.ColorGuidedSolver)."""
    means = box_filter(guide, radius)                                               # [3, h, w]
    products = torch.stack([guide[i] * guide[j] for i, j in _PRODUCTS])
    cov = box_filter(products, radius) - torch.stack([means[i] * means[j] for i, j in _PRODUCTS])
    rr, rg, rb, gg, gb, bb = cov[0] + eps, cov[1], cov[2], cov[3] + eps, cov[4], cov[5] + eps
    inverse = torch.stack([gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb,
                           rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg])
    det = rr * inverse[0] + rg * inverse[1] + rb * inverse[2]
    inverse = inverse / det
    mean_p = box_filter(prob[None], radius)[0]
    cross = box_filter(guide * prob, radius) - means * mean_p                         # [3, h, w]
    i_rr, i_rg, i_rb, i_gg, i_gb, i_bb = inverse
    a = torch.stack([i_rr * cross[0] + i_rg * cross[1] + i_rb * cross[2],
                     i_rg * cross[0] + i_gg * cross[1] + i_gb * cross[2],
                     i_rb * cross[0] + i_gb * cross[1] + i_bb * cross[2]])
    b = mean_p - (a * means).sum(dim=0)
    return box_filter(torch.cat([a, b[None]]), radius)


def apply_coefficients(coeffs: torch.Tensor, frame_chw: torch.Tensor, factor: int) -> torch.Tensor:
    """coeffs `[C + 1, h, w]` (gains for the guide's C = 3 BGR or C = 1 gray channels, then the offset),
    frame `[3, H, W]` float of uint8 BGR, the grid's integer factor -> mask `[H, W]` float32 0..1."""
    channels, h, w = coeffs.shape[0] - 1, coeffs.shape[1], coeffs.shape[2]
    height, width = frame_chw.shape[1:]
    tiled_h, tiled_w = h * factor, w * factor
    if not (0 <= height - tiled_h < factor and 0 <= width - tiled_w < factor):
        raise ValueError(f"a {w}x{h} grid at factor {factor} does not tile a {width}x{height} frame")
    guide = gaussian3x3_u8(frame_chw[:, :tiled_h, :tiled_w])                          # the denoised guide
    if channels == 1:
        guide = bgr_to_gray_u8(guide)[None]
    up = resize_bilinear(coeffs[None], tiled_h, tiled_w)[0]                            # [C + 1, th, tw]
    out = (up[:channels] * guide).sum(dim=0).mul_(1.0 / 255.0).add_(up[channels])
    out = out.clamp_(0.0, 1.0)
    if (tiled_h, tiled_w) != (height, width):  # rows and columns past the last whole cell repeat the last
        rows = torch.arange(height, device=out.device).clamp_(max=tiled_h - 1)
        cols = torch.arange(width, device=out.device).clamp_(max=tiled_w - 1)
        out = out.index_select(0, rows).index_select(1, cols)
    return out
