"""Edge-aware upsampling with a fast guided filter (He & Sun 2015): coefficients on a low-resolution
grid, applied to the full-resolution grayscale frame, so the coarse network mask snaps to image edges
(hair strands, fingers) at the cost of a few full-frame operations.
"""

from __future__ import annotations

import cv2
import numpy as np


def guided_coefficients(guide: np.ndarray, prob: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Local linear model prob ~ a * guide + b on a grid.

    guide, prob: [h, w] float32 (guide 0..1 grayscale, prob 0..1); radius in grid pixels; eps the
    regularisation (larger = smoother, fewer edges copied). Returns box-averaged (a, b), [h, w] float32.
    """
    if guide.shape != prob.shape:
        raise ValueError(f"guide shape {guide.shape} != prob shape {prob.shape}")
    ksize = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, cv2.CV_32F, ksize, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(prob)
    cov_ip = box(guide * prob) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + np.float32(eps))
    b = mean_p - a * mean_i
    return box(a), box(b)


class FastGuidedUpsampler:
    """Applies grid coefficients (a, b) to a full-resolution guide, reusing its full-size scratch buffers.

    apply(a, b, guide_u8) -> [H, W] float32 = a_up * guide / 255 + b_up, clipped to 0..1, where a_up,
    b_up are (a, b) resized bilinearly to the guide's size. The result is a new array (it travels with
    its frame to other threads).
    """

    def __init__(self) -> None:
        self._a = self._b = None

    def apply(self, a: np.ndarray, b: np.ndarray, guide_u8: np.ndarray) -> np.ndarray:
        """a [h, w] or [h, w, C], b [h, w]; guide_u8 [H, W] or [H, W, C] uint8 (C as in a)."""
        h, w = guide_u8.shape[:2]
        if self._a is None or self._a.shape != (h, w, *a.shape[2:]):
            self._a = np.empty((h, w, *a.shape[2:]), np.float32)
            self._b = np.empty((h, w), np.float32)
        out = np.empty((h, w), np.float32)
        cv2.resize(a, (w, h), dst=self._a, interpolation=cv2.INTER_LINEAR)
        cv2.resize(b, (w, h), dst=self._b, interpolation=cv2.INTER_LINEAR)
        if a.ndim == 2:
            cv2.multiply(self._a, guide_u8, dst=out, scale=1.0 / 255.0, dtype=cv2.CV_32F)
        else:
            cv2.multiply(self._a, guide_u8, dst=self._a, scale=1.0 / 255.0, dtype=cv2.CV_32F)
            cv2.transform(self._a, np.ones((1, a.shape[2]), np.float32), dst=out)  # sum over channels
        cv2.add(out, self._b, dst=out)
        clip_unit(out)
        return out


def clip_unit(x: np.ndarray) -> np.ndarray:
    """Clip a float32 array to 0..1 in place (two OpenCV passes: faster than np.clip on big frames)."""
    cv2.threshold(x, 1.0, 1.0, cv2.THRESH_TRUNC, dst=x)
    cv2.threshold(x, 0.0, 0.0, cv2.THRESH_TOZERO, dst=x)
    return x


def guided_coefficients_color(guide: np.ndarray, prob: np.ndarray, radius: int,
                              eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Color-guide variant: guide [h, w, 3] float32 0..1, prob [h, w] -> (a [h, w, 3], b [h, w]) box-averaged,
    prob ~ a . guide + b. Separates edges that have equal brightness but different color (skin vs wall)."""
    if guide.shape[:2] != prob.shape or guide.ndim != 3 or guide.shape[2] != 3:
        raise ValueError(f"guide shape {guide.shape} does not match prob shape {prob.shape} + (3,)")
    ksize = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, cv2.CV_32F, ksize, borderType=cv2.BORDER_REFLECT)

    channels = [np.ascontiguousarray(guide[..., k]) for k in range(3)]
    means = [box(c) for c in channels]
    mean_p = box(prob)
    cov = [box(c * prob) - m * mean_p for c, m in zip(channels, means, strict=True)]
    e = np.float32(eps)

    def var(i: int, j: int) -> np.ndarray:
        return box(channels[i] * channels[j]) - means[i] * means[j]

    rr, rg, rb, gg, gb, bb = var(0, 0) + e, var(0, 1), var(0, 2), var(1, 1) + e, var(1, 2), var(2, 2) + e
    # Inverse of the symmetric 3x3 covariance by its adjugate.
    i_rr, i_rg, i_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i_gg, i_gb, i_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    inv_det = 1.0 / (rr * i_rr + rg * i_rg + rb * i_rb)
    a0 = (i_rr * cov[0] + i_rg * cov[1] + i_rb * cov[2]) * inv_det
    a1 = (i_rg * cov[0] + i_gg * cov[1] + i_gb * cov[2]) * inv_det
    a2 = (i_rb * cov[0] + i_gb * cov[1] + i_bb * cov[2]) * inv_det
    b = mean_p - a0 * means[0] - a1 * means[1] - a2 * means[2]
    return box(cv2.merge([a0, a1, a2])), box(b)
