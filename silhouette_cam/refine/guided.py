"""Edge-aware upsampling with a fast guided filter (He & Sun 2015): coefficients on a low-resolution
grid, applied to the full-resolution frame, so the coarse network mask snaps to image edges (hair
strands, fingers). The refiner computes and applies them only where they can change the mask (near
its edge; see FastGuidedUpsampler.apply_block and EdgeRefiner.finish).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

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


Cells = tuple[int, int, int, int]  # grid rows r0:r1, columns c0:c1


class FastGuidedUpsampler:
    """Applies grid coefficients to the full-resolution frame, reusing its full-size scratch buffers.

    The grid tiles the frame: grid cell (i, j) covers frame pixels [i * f, (i + 1) * f) x
    [j * f, (j + 1) * f) for an integer factor f (the refiner's grid; frame rows and columns past
    the last whole cell, fewer than f, repeat the last ones). The result is
    sum_c a_c_up * guide_c / 255 + b_up, clipped to 0..1, with the coefficients resized bilinearly
    to the frame; a new array (it travels with its frame to other threads).
    """

    def __init__(self) -> None:
        self._gains: np.ndarray | None = None  # [H, W, C] the upsampled gains (times the guide)
        self._edge: np.ndarray | None = None   # [H, W] their sum over channels
        self._outputs = RecycledArrays()       # apply_block's results

    def apply_planes(self, coeffs: np.ndarray, frame_bgr: np.ndarray, factor: int,
                     cells: Cells | None = None) -> np.ndarray:
        """coeffs [C + 1, h, w] float32 (gains for the guide's C channels, then the offset; C = 3: the
        frame's B, G, R; C = 1: its grayscale), frame [H, W, 3] uint8 BGR, factor the grid's
        integer scale, cells the grid cells outside which every gain is exactly 0 (None: none is
        0), at least one zero cell wide on each side that is not the grid's edge -> [H, W] float32
        0..1, a new array.

        Outside `cells` the result is the offset alone: the gains and the guide are upsampled and
        read only inside (a person in a webcam frame: about half of it; the mask is the same,
        since bilinear upsampling reaches no further than the zero cells around them).
        """
        if coeffs.ndim != 3 or coeffs.shape[0] not in (2, 4) or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"coeffs must be [2 or 4, h, w] and the frame [H, W, 3], got {coeffs.shape} "
                             f"and {frame_bgr.shape}")
        channels, h, w = coeffs.shape[0] - 1, coeffs.shape[1], coeffs.shape[2]
        height, width = frame_bgr.shape[:2]
        tiled_h, tiled_w = h * factor, w * factor
        if not (0 <= height - tiled_h < factor and 0 <= width - tiled_w < factor):
            raise ValueError(f"a {w}x{h} grid at factor {factor} does not tile a {width}x{height} frame")
        if self._edge is None or self._edge.shape != (tiled_h, tiled_w) or self._gains.shape[2] != channels:
            self._gains = np.empty((tiled_h, tiled_w, channels), np.float32)
            self._edge = np.empty((tiled_h, tiled_w), np.float32)
        out = np.empty((height, width), np.float32)
        cv2.resize(coeffs[-1], (tiled_w, tiled_h), dst=out[:tiled_h, :tiled_w], interpolation=cv2.INTER_LINEAR)
        if cells is not None:
            r0, r1, c0, c1 = cells
            y0, y1, x0, x1 = r0 * factor, r1 * factor, c0 * factor, c1 * factor
            gains, edge = self._gains[y0:y1, x0:x1], self._edge[y0:y1, x0:x1]
            grid_gains = coeffs[:channels, r0:r1, c0:c1]
            # Interleaving the gains at grid size is cheap; the full-size work is the three calls below.
            cv2.resize(cv2.merge(list(grid_gains)) if channels > 1 else grid_gains[0], (x1 - x0, y1 - y0),
                       dst=gains if channels > 1 else gains[..., 0], interpolation=cv2.INTER_LINEAR)
            guide = frame_bgr[y0:y1, x0:x1]
            if channels == 1:
                guide = cv2.cvtColor(guide, cv2.COLOR_BGR2GRAY)[..., None]
            cv2.multiply(gains, guide, dst=gains, scale=1.0 / 255.0, dtype=cv2.CV_32F)
            cv2.transform(gains, np.ones((1, channels), np.float32), dst=edge)  # sum over channels
            cv2.add(out[y0:y1, x0:x1], edge, dst=out[y0:y1, x0:x1])
        out[:tiled_h, tiled_w:] = out[:tiled_h, tiled_w - 1:tiled_w]
        out[tiled_h:] = out[tiled_h - 1]
        clip_unit(out)
        return out


    def apply_block(self, block: np.ndarray, cells: Cells, grid_shape: tuple[int, int], frame_bgr: np.ndarray,
                    factor: int, outside: float, *, denoise: bool = False) -> np.ndarray:
        """The coefficients of the grid cells `cells` only: block [C + 1, r1 - r0, c1 - c0] float32
        (gains, then offset, as in `apply_planes`) of a grid of grid_shape (h, w) that tiles the frame
        [H, W, 3] uint8 BGR at `factor`; everywhere outside `cells` the gains are 0 and the offset is
        `outside`, and so is the block's outermost ring of cells unless it lies on the grid's edge ->
        [H, W] float32 0..1, a new array, equal to `apply_planes` on the whole grid (with `denoise`:
        on the frame through a 3x3 Gaussian, see `_guide_run`).

        Work where the guide can matter only. Outside `cells` the result is the constant
        clip(outside); inside, the offset is upsampled, and the gains are upsampled and applied
        only in the runs of cells where the result is not saturated whatever the guide: a cell
        whose 3x3 neighbourhood (bilinear upsampling's reach) has offsets b and gain sums
        A = sum |a_c| with min b - max A >= 1 (or max b + max A <= 0) is 1 (0) at every pixel
        since the guide lies in 0..1 — most of a person's inside, where b is ~1.5 after the ramp.
        """
        channels = block.shape[0] - 1
        h, w = grid_shape
        r0, r1, c0, c1 = cells
        if block.ndim != 3 or channels not in (1, 3) or block.shape[1:] != (r1 - r0, c1 - c0):
            raise ValueError(f"block must be [2 or 4, {r1 - r0}, {c1 - c0}] for cells {cells}, got {block.shape}")
        height, width = frame_bgr.shape[:2]
        tiled_h, tiled_w = h * factor, w * factor
        if not (0 <= height - tiled_h < factor and 0 <= width - tiled_w < factor):
            raise ValueError(f"a {w}x{h} grid at factor {factor} does not tile a {width}x{height} frame")
        out = self._outputs.take((height, width))
        y0, y1, x0, x1 = r0 * factor, r1 * factor, c0 * factor, c1 * factor
        constant = min(max(float(outside), 0.0), 1.0)
        if y1 <= y0 or x1 <= x0:
            out.fill(constant)
            return out
        # The constant around the block only (the block's pixels are all written below).
        for rows, cols in ((slice(0, y0), slice(None)), (slice(y1, None), slice(None)),
                           (slice(y0, y1), slice(0, x0)), (slice(y0, y1), slice(x1, None))):
            out[rows, cols] = constant
        region = out[y0:y1, x0:x1]
        cv2.resize(block[-1], (x1 - x0, y1 - y0), dst=region, interpolation=cv2.INTER_LINEAR)
        gains = cv2.merge(list(block[:channels])) if channels > 1 else block[0][..., None]  # [bh, bw, C]
        runs = _unsaturated_runs(block)
        for index, (rows, cols) in enumerate(runs):
            if index == 0 or rows != runs[index - 1][0]:  # a new strip: its guide, from its first to last run
                last = max(c[1] for r, c in runs[index:] if r == rows)
                strip = (y0 + rows[0] * factor, y0 + rows[1] * factor, x0 + cols[0] * factor, x0 + last * factor)
                guide = _guide_strip(frame_bgr, *strip, denoise)
            # The run's share of its strip's guide.
            run_guide = guide[:, (cols[0] * factor + x0) - strip[2]:(cols[1] * factor + x0) - strip[2]]
            self._apply_run(gains, rows, cols, region, run_guide, factor)
        clip_unit(region)
        # Frame pixels past the tiling repeat the last tiled ones (only the block's can differ).
        if x1 == tiled_w and width > tiled_w:
            out[y0:y1, tiled_w:] = out[y0:y1, tiled_w - 1:tiled_w]
        if y1 == tiled_h and height > tiled_h:
            out[tiled_h:] = out[tiled_h - 1]
        return out

    @staticmethod
    def _apply_run(gains: np.ndarray, rows: tuple[int, int], cols: tuple[int, int], region: np.ndarray,
                   guide: np.ndarray, factor: int) -> None:
        """region[run] += sum_c gains_c upsampled * guide_c / 255, for the block's cells rows x cols
        (gains [bh, bw, C], the block's; region the block's pixels; guide [run's pixels, 3] uint8 BGR)."""
        (a0, a1), (k0, k1) = rows, cols
        bh, bw, channels = gains.shape
        # One cell of halo where the block has it: the run's own bilinear upsampling then equals the
        # block's (integer factor: a pixel reads its cell and the adjacent ones only).
        h0, h1, w0, w1 = max(0, a0 - 1), min(bh, a1 + 1), max(0, k0 - 1), min(bw, k1 + 1)
        up = cv2.resize(gains[h0:h1, w0:w1], ((w1 - w0) * factor, (h1 - h0) * factor),
                        interpolation=cv2.INTER_LINEAR)
        if channels == 1:
            up = up[..., None]
        oy, ox = (a0 - h0) * factor, (k0 - w0) * factor
        ny, nx = (a1 - a0) * factor, (k1 - k0) * factor
        up = up[oy:oy + ny, ox:ox + nx]
        if channels == 1:
            guide = cv2.cvtColor(guide, cv2.COLOR_BGR2GRAY)[..., None]
        cv2.multiply(up, guide, dst=up, scale=1.0 / 255.0, dtype=cv2.CV_32F)
        target = region[a0 * factor:a1 * factor, k0 * factor:k1 * factor]
        cv2.add(target, cv2.transform(up, np.ones((1, channels), np.float32)), dst=target)  # sum over channels


def _guide_strip(frame_bgr: np.ndarray, y0: int, y1: int, x0: int, x1: int, denoise: bool) -> np.ndarray:
    """The guide's pixels [y0:y1, x0:x1] (uint8 BGR): the frame's, or with `denoise` the frame through
    a 3x3 Gaussian, as over the whole frame (blurred with a pixel of margin: OpenCV reflects at the
    edge of the array it is given).

    Why the blur: the mask's edge is a * guide + b with gains a up to ~50 there, so the guide's
    sensor noise would reach the mask from every frame, past the temporal smoothing on the grid: a
    still person's edge shimmered. The light blur halves that flicker (webcam noise sigma 4: 0.21 ->
    0.11 % mean change per frame) for -0.003 boundary F on DAVIS.
    """
    if not denoise:
        return frame_bgr[y0:y1, x0:x1]
    height, width = frame_bgr.shape[:2]
    m0, m1, n0, n1 = max(0, y0 - 1), min(height, y1 + 1), max(0, x0 - 1), min(width, x1 + 1)
    blurred = cv2.GaussianBlur(frame_bgr[m0:m1, n0:n1], (3, 3), 0)
    return blurred[y0 - m0:y0 - m0 + (y1 - y0), x0 - n0:x0 - n0 + (x1 - x0)]


RUN_ROWS = 16  # grid rows per strip of runs: fewer calls vs tighter runs
RUN_GAP = 8    # saturated cells between two runs of a strip below which they are one run
_REACH = np.ones((3, 3), np.uint8)       # a cell and the cells its bilinear upsampling reads
_GAP = np.ones((1, RUN_GAP + 1), np.uint8)


def _unsaturated_runs(block: np.ndarray) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """block [C + 1, bh, bw] (gains, offset) -> the cells ((row0, row1), (col0, col1)) where the
    upsampled result may lie strictly between 0 and 1 for some guide in 0..1 (see apply_block), as
    runs within strips of RUN_ROWS rows (a strip's runs span all its rows)."""
    gains, offset = block[:-1], block[-1]
    reach = _REACH
    gain_sum = cv2.absdiff(gains[0], 0.0)
    for gain in gains[1:]:
        cv2.add(gain_sum, cv2.absdiff(gain, 0.0), dst=gain_sum)
    gain_max = cv2.dilate(gain_sum, reach)  # the outside of the array is ignored, as edges replicate
    margin = 1e-4  # float rounding in the upsampling
    high = cv2.compare(cv2.subtract(cv2.erode(offset, reach), gain_max), 1.0 + margin, cv2.CMP_LT)
    low = cv2.compare(cv2.add(cv2.dilate(offset, reach), gain_max), -margin, cv2.CMP_GT)
    live = cv2.bitwise_and(high, low)  # [bh, bw] uint8 255: not saturated
    bh, bw = live.shape
    starts = np.arange(0, bh, RUN_ROWS)
    strips = np.maximum.reduceat(live, starts, axis=0)  # [strips, bw]
    # Close gaps of up to RUN_GAP cells (one run costs more than a few saturated cells), then find
    # where each strip's runs start and end, all strips at once.
    # (The default border: a closing then only adds cells, never drops live ones at the ends.)
    strips = cv2.morphologyEx(strips, cv2.MORPH_CLOSE, _GAP)
    padded = np.zeros((strips.shape[0], bw + 2), np.int8)
    padded[:, 1:-1] = strips > 0
    edges = np.diff(padded, axis=1)
    strip_of, run_start = np.nonzero(edges == 1)
    run_end = np.nonzero(edges == -1)[1]
    return [((int(starts[k]), int(min(bh, starts[k] + RUN_ROWS))), (int(a), int(b)))
            for k, a, b in zip(strip_of, run_start, run_end, strict=True)]


class RecycledArrays:
    """New float32 arrays that reuse the memory of earlier ones nobody holds any more.

    A fresh 720p mask is 3.7 MB: the kernel maps and zeroes its pages on first touch, which cost
    more than the whole full-resolution step (measured 1.5 ms a frame on a loaded 2-core VM). An
    array handed out is taken back only when the pool's own references are the last ones (its
    reference count; a view or a memoryview of it counts), so a mask that travels to other threads
    is never overwritten while anything still has it.
    """

    _FREE = 3  # references to a free array while it is checked: the list, the loop variable, the call

    def __init__(self, keep: int = 6) -> None:
        self._arrays: list[np.ndarray] = []
        self._keep = keep

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        """-> an uninitialised [shape] float32 array that nobody else holds."""
        for array in self._arrays:
            if array.shape == shape and sys.getrefcount(array) <= self._FREE:
                return array
        array = np.empty(shape, np.float32)
        self._arrays.append(array)
        if len(self._arrays) > self._keep:  # all held elsewhere: stop tracking the oldest
            self._arrays.pop(0)
        return array


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


_GUIDE_PRODUCTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))  # rr rg rb gg gb bb


@dataclass(frozen=True)
class ColorGuideStats:
    """The color guided filter's terms that depend on the guide (the frame) alone.

    They are most of the filter's work and need nothing from the mask, so the pipeline computes them
    on the analysis thread while the rendering thread finishes the previous frame: the two CPU cores
    then carry similar loads. Arrays are the caller's (fresh per call), so they can cross threads.
    """

    guide: np.ndarray     # [3, h, w] float32 0..1, the guide's channel planes
    means: np.ndarray     # [3, h, w] float32, their box means
    inverse: np.ndarray   # [6, h, w] float32, (covariance + eps I)^-1 per pixel: rr rg rb gg gb bb
    radius: int           # box radius, grid pixels
    eps: float


class ColorGuidedSolver:
    """The color guided filter's coefficients on the grid, in two halves: `guide_stats` (the frame's
    part) and `coefficients_from` (the mask's part). Scratch planes are kept between frames; use one
    solver per thread.

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
            self._products = np.empty((6, h, w), np.float32)  # guide products, then their covariances
            self._tmp = np.empty((h, w), np.float32)
            self._cov = np.empty((3, h, w), np.float32)       # guide x prob covariances
            self._coeffs = np.empty((4, h, w), np.float32)    # a0 a1 a2 b before the final box

    def coefficients(self, guide: np.ndarray, prob: np.ndarray, radius: int, eps: float) -> np.ndarray:
        """guide [h, w, 3] float32 0..1, prob [h, w] float32 -> box-averaged coefficients [4, h, w]
        float32 (a for the guide's 3 channels, then b): prob ~ a . guide + b. A new array."""
        if guide.shape[:2] != prob.shape or guide.ndim != 3 or guide.shape[2] != 3:
            raise ValueError(f"guide shape {guide.shape} does not match prob shape {prob.shape} + (3,)")
        return self.coefficients_from(self.guide_stats(np.moveaxis(guide, 2, 0), radius, eps), prob)

    def guide_stats(self, guide: np.ndarray, radius: int, eps: float) -> ColorGuideStats:
        """guide [3, h, w] float32 0..1 (planes) -> its ColorGuideStats (new arrays)."""
        if guide.ndim != 3 or guide.shape[0] != 3:
            raise ValueError(f"guide must be [3, h, w] planes, got shape {guide.shape}")
        h, w = guide.shape[1:]
        self._allocate(h, w)
        ksize = (2 * radius + 1, 2 * radius + 1)
        planes = np.ascontiguousarray(guide, dtype=np.float32)
        means = np.empty((3, h, w), np.float32)
        products, tmp = self._products, self._tmp
        for k in range(3):
            cv2.boxFilter(planes[k], cv2.CV_32F, ksize, dst=means[k], borderType=cv2.BORDER_REFLECT)
        for k, (i, j) in enumerate(_GUIDE_PRODUCTS):
            np.multiply(planes[i], planes[j], out=tmp)
            cv2.boxFilter(tmp, cv2.CV_32F, ksize, dst=products[k], borderType=cv2.BORDER_REFLECT)
            # Covariance in place: E[xy] - E[x] E[y]; eps on the diagonal.
            np.multiply(means[i], means[j], out=tmp)
            np.subtract(products[k], tmp, out=products[k])
        e = np.float32(eps)
        for k in (0, 3, 5):  # rr gg bb
            products[k] += e
        rr, rg, rb, gg, gb, bb = products
        # Inverse of the symmetric 3x3 covariance: its adjugate over its determinant; adj[k] = x * y - z * u.
        inverse = np.empty((6, h, w), np.float32)
        for out, (x, y, z, u) in zip(inverse, ((gg, bb, gb, gb), (gb, rb, rg, bb), (rg, gb, gg, rb),
                                               (rr, bb, rb, rb), (rb, rg, rr, gb), (rr, gg, rg, rg)), strict=True):
            np.multiply(x, y, out=out)
            np.multiply(z, u, out=tmp)
            np.subtract(out, tmp, out=out)
        det = np.multiply(rr, inverse[0])
        for x, y in ((rg, inverse[1]), (rb, inverse[2])):
            np.multiply(x, y, out=tmp)
            np.add(det, tmp, out=det)
        np.divide(np.float32(1.0), det, out=det)
        inverse *= det
        return ColorGuideStats(planes, means, inverse, int(radius), float(eps))

    def coefficients_from(self, stats: ColorGuideStats, prob: np.ndarray) -> np.ndarray:
        """The mask's half: stats of a guide [3, h, w], prob [h, w] float32 -> box-averaged
        coefficients [4, h, w] float32 (a for the guide's 3 channels, then b). A new array."""
        h, w = stats.guide.shape[1:]
        if prob.shape != (h, w):
            raise ValueError(f"prob shape {prob.shape} does not match the guide's {(h, w)}")
        self._allocate(h, w)
        ksize = (2 * stats.radius + 1, 2 * stats.radius + 1)
        cov, tmp, coeffs = self._cov, self._tmp, self._coeffs
        b = coeffs[3]
        cv2.boxFilter(prob, cv2.CV_32F, ksize, dst=b, borderType=cv2.BORDER_REFLECT)  # mean of prob
        for k in range(3):  # cov(guide_k, prob) = E[guide_k prob] - E[guide_k] E[prob]
            np.multiply(stats.guide[k], prob, out=tmp)
            cv2.boxFilter(tmp, cv2.CV_32F, ksize, dst=cov[k], borderType=cv2.BORDER_REFLECT)
            np.multiply(stats.means[k], b, out=tmp)
            np.subtract(cov[k], tmp, out=cov[k])
        i_rr, i_rg, i_rb, i_gg, i_gb, i_bb = stats.inverse
        for out, row in zip(coeffs[:3], ((i_rr, i_rg, i_rb), (i_rg, i_gg, i_gb), (i_rb, i_gb, i_bb)), strict=True):
            np.multiply(row[0], cov[0], out=out)
            for x, y in ((row[1], cov[1]), (row[2], cov[2])):
                np.multiply(x, y, out=tmp)
                np.add(out, tmp, out=out)
        for a, m in zip(coeffs[:3], stats.means, strict=True):  # b = E[prob] - a . E[guide]
            np.multiply(a, m, out=tmp)
            np.subtract(b, tmp, out=b)
        result = np.empty((4, h, w), np.float32)
        for k in range(4):
            cv2.boxFilter(coeffs[k], cv2.CV_32F, ksize, dst=result[k], borderType=cv2.BORDER_REFLECT)
        return result
