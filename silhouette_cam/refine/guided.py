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

    def apply_planes(self, coeffs: np.ndarray, frame_bgr: np.ndarray) -> np.ndarray:
        """coeffs [C + 1, h, w] float32 (gains for the guide's C channels, then the offset; C = 3: the
        frame's B, G, R; C = 1: its grayscale), frame [H, W, 3] uint8 BGR -> [H, W] float32 0..1,
        a new array (see `apply`)."""
        if coeffs.ndim != 3 or coeffs.shape[0] not in (2, 4) or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"coeffs must be [2 or 4, h, w] and the frame [H, W, 3], got {coeffs.shape} "
                             f"and {frame_bgr.shape}")
        if coeffs.shape[0] == 2:
            return self.apply(coeffs[0], coeffs[1], cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY))
        # Interleaving the gains at grid size is cheap; the full-size work stays in `apply`.
        return self.apply(cv2.merge(list(coeffs[:3])), coeffs[3], frame_bgr)


def clip_unit(x: np.ndarray) -> np.ndarray:
    """Clip a float32 array to 0..1 in place (two OpenCV passes: faster than np.clip on big frames)."""
    cv2.threshold(x, 1.0, 1.0, cv2.THRESH_TRUNC, dst=x)
    cv2.threshold(x, 0.0, 0.0, cv2.THRESH_TOZERO, dst=x)
    return x


def guided_coefficients_color(guide: np.ndarray, prob: np.ndarray, radius: int,
                              eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Color-guide variant: guide [h, w, 3] float32 0..1, prob [h, w] -> (a [h, w, 3], b [h, w]) box-averaged,
    prob ~ a . guide + b. Separates edges that have equal brightness but different color (skin vs wall).
    (One-off convenience over ColorGuidedSolver, which keeps its scratch planes between frames.)"""
    planes = ColorGuidedSolver().coefficients(guide, prob, radius, eps)
    return np.ascontiguousarray(np.moveaxis(planes[:3], 0, 2)), planes[3].copy()


_PRODUCTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2), (0, 3), (1, 3), (2, 3))  # rr rg rb gg gb bb rp gp bp


class ColorGuidedSolver:
    """The color guided filter's coefficients on the grid, with scratch planes kept between frames.

    Planes, not interleaved channels (numpy and cv2.boxFilter are faster on contiguous planes), and
    every operation writes into a kept buffer instead of a fresh temporary: 4.3 vs 7.5 ms for the
    interleaved, allocating version on a 426x240 grid, same results. Channel names say r g b; the
    order is the guide's own (BGR from the frame): the maths does not care.
    """

    def __init__(self) -> None:
        self._shape: tuple[int, int] | None = None

    def _allocate(self, h: int, w: int) -> None:
        if self._shape != (h, w):
            self._shape = (h, w)
            self._planes = np.empty((13, h, w), np.float32)   # guide r g b, prob, the 9 products
            self._means = np.empty((13, h, w), np.float32)    # their box means -> covariances
            self._inverse = np.empty((7, h, w), np.float32)   # adjugate (6), 1 / det
            self._tmp = np.empty((h, w), np.float32)
            self._coeffs = np.empty((4, h, w), np.float32)    # a0 a1 a2 b before the final box

    def coefficients(self, guide: np.ndarray, prob: np.ndarray, radius: int, eps: float) -> np.ndarray:
        """guide [h, w, 3] float32 0..1, prob [h, w] float32 -> box-averaged coefficients [4, h, w]
        float32 (a for the guide's 3 channels, then b): prob ~ a . guide + b. A new array."""
        if guide.shape[:2] != prob.shape or guide.ndim != 3 or guide.shape[2] != 3:
            raise ValueError(f"guide shape {guide.shape} does not match prob shape {prob.shape} + (3,)")
        h, w = prob.shape
        self._allocate(h, w)
        ksize = (2 * radius + 1, 2 * radius + 1)
        planes, means, inv, tmp, coeffs = self._planes, self._means, self._inverse, self._tmp, self._coeffs
        planes[:3] = np.moveaxis(guide, 2, 0)
        planes[3] = prob
        for k, (i, j) in enumerate(_PRODUCTS):
            np.multiply(planes[i], planes[j], out=planes[4 + k])
        for k in range(13):
            cv2.boxFilter(planes[k], cv2.CV_32F, ksize, dst=means[k], borderType=cv2.BORDER_REFLECT)
        # (Co)variances in place: E[xy] - E[x] E[y]; eps on the diagonal.
        for k, (i, j) in enumerate(_PRODUCTS):
            np.multiply(means[i], means[j], out=tmp)
            np.subtract(means[4 + k], tmp, out=means[4 + k])
        e = np.float32(eps)
        for k in (4, 7, 9):  # rr gg bb
            means[k] += e
        m0, m1, m2, mp = means[:4]
        rr, rg, rb, gg, gb, bb, c0, c1, c2 = means[4:]
        # Inverse of the symmetric 3x3 covariance by its adjugate: inv[k] = x * y - z * u.
        for out, (x, y, z, u) in zip(inv[:6], ((gg, bb, gb, gb), (gb, rb, rg, bb), (rg, gb, gg, rb),
                                               (rr, bb, rb, rb), (rb, rg, rr, gb), (rr, gg, rg, rg)), strict=True):
            np.multiply(x, y, out=out)
            np.multiply(z, u, out=tmp)
            np.subtract(out, tmp, out=out)
        i_rr, i_rg, i_rb, i_gg, i_gb, i_bb = inv[:6]
        det = inv[6]
        np.multiply(rr, i_rr, out=det)
        for x, y in ((rg, i_rg), (rb, i_rb)):
            np.multiply(x, y, out=tmp)
            np.add(det, tmp, out=det)
        np.divide(np.float32(1.0), det, out=det)
        for out, row in zip(coeffs[:3], ((i_rr, i_rg, i_rb), (i_rg, i_gg, i_gb), (i_rb, i_gb, i_bb)), strict=True):
            np.multiply(row[0], c0, out=out)
            for x, y in ((row[1], c1), (row[2], c2)):
                np.multiply(x, y, out=tmp)
                np.add(out, tmp, out=out)
            np.multiply(out, det, out=out)
        b = coeffs[3]
        np.copyto(b, mp)
        for a, m in zip(coeffs[:3], (m0, m1, m2), strict=True):
            np.multiply(a, m, out=tmp)
            np.subtract(b, tmp, out=b)
        result = np.empty((4, h, w), np.float32)
        for k in range(4):
            cv2.boxFilter(coeffs[k], cv2.CV_32F, ksize, dst=result[k], borderType=cv2.BORDER_REFLECT)
        return result
