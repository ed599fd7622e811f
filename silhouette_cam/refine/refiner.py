"""MaskRefiner: segment a frame (whole, or tracked crops of its people) and refine the mask.

    refiner = MaskRefiner()
    mask = refiner.run(segmenter, frame_bgr, settings, timer)   # [H, W] float32 0..1, from THIS frame

Steps (each switchable in RefineSettings): people tracking -> network at its own resolution on the
crops (and periodically the whole frame) -> composite on a low-resolution grid -> temporal smoothing on
the grid -> fast guided filter to full resolution -> threshold / softness / invert.
The segmenter is any object with `segment(frame)`; `segment_lowres(frame)` (the network's own output,
frame stretched to it corner to corner) is used when present.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import cv2
import numpy as np

from silhouette_cam.fps import StageTimer
from silhouette_cam.refine.guided import (
    Cells,
    ColorGuidedSolver,
    ColorGuideStats,
    FastGuidedUpsampler,
    guided_coefficients,
)
from silhouette_cam.refine.region import Box, PersonRegionTracker, Plan
from silhouette_cam.refine.temporal import TemporalSmoother
from silhouette_cam.refine.threshold import apply_threshold, ramp_coefficients
from silhouette_cam.setting import check_settings, setting


@dataclass(frozen=True)
class RefineSettings:
    """Mask refinement settings; all on by default. The fields made with `setting(...)` are the
    user's (flags, labels, ranges: see silhouette_cam/setting.py); the rest is internal tuning.
    Ranges are checked by `validate()`."""

    threshold: float = setting(0.5, kind="number", minimum=0.0, maximum=1.0, unit="%", flag="--threshold",
                               label="Threshold", help="person probability at the middle of the mask's edge",
                               group="mask refinement")
    softness: float = setting(0.5, kind="number", minimum=0.0, maximum=1.0, unit="%", flag="--softness",
                              label="Softness", help="width of the mask's edge: 0 hard .. 1 the network's "
                              "probability as is", group="mask refinement")
    temporal_strength: float = setting(0.9, kind="number", minimum=0.0, maximum=0.95, unit="%",
                                       flag="--smoothing", label="Smoothing", help="damps flicker where the "
                                       "picture is still: 0 off .. 0.95 heavy", group="mask refinement")
    edge_refine: bool = setting(True, kind="bool", flag="--edge-snap", label="Snap edges to the image",
                                help="snap the mask to the frame's edges (guided filter)", group="mask refinement")
    track_people: bool = setting(True, kind="bool", flag="--tracking", label="Zoom in on small / distant people",
                                 help="segment a zoomed-in crop around the people", group="mask refinement")
    invert: bool = setting(False, kind="bool", flag="--invert", label="Invert (keep the background)",
                           help="swap person and background", group="mask refinement")
    edge_guide: str = "color"     # "color" (follows color edges too) | "gray" (cheaper)
    edge_radius: int = 4          # guided filter radius, in grid pixels
    edge_eps: float = 3e-4        # guided filter regularisation (larger: smoother, fewer edges)
    grid_long_side: int = 512     # long side of the low-resolution working grid, pixels

    @property
    def temporal(self) -> bool:
        """Whether temporal smoothing runs (strength above 0)."""
        return self.temporal_strength > 0

    def validate(self) -> RefineSettings:
        """A checked copy; ValueError naming the flag or control (internal fields: their name)."""
        checked = check_settings(self)
        if not 1 <= int(checked.edge_radius) <= 64:
            raise ValueError(f"edge_radius must be in 1..64 grid pixels, got {checked.edge_radius}")
        if checked.edge_guide not in ("color", "gray"):
            raise ValueError(f"edge_guide must be 'color' or 'gray', got {checked.edge_guide!r}")
        if not checked.edge_eps > 0:
            raise ValueError(f"edge_eps must be > 0, got {checked.edge_eps}")
        if not 64 <= int(checked.grid_long_side) <= 4096:
            raise ValueError(f"grid_long_side must be in 64..4096, got {checked.grid_long_side}")
        return checked


RAW_SETTINGS = RefineSettings(softness=1.0, edge_refine=False, temporal_strength=0.0, track_people=False)


@dataclass
class GridMask:
    """One frame's mask before its edge-aware, full-resolution step, which then can run on another
    thread (the step needs nothing from other frames).

    Either `full` is the finished mask ([H, W] float32 0..1), or `grid` is the mask on the working
    grid ([h, w] float32 0..1, tracked and smoothed) and `guide` what the guided filter needs from the
    frame on the same grid: its ColorGuideStats (color guide: the frame's share of the filter's work,
    done on the analysis thread) or its grayscale ([h, w] float32 0..1, gray guide), to be finished
    against that same frame by `EdgeRefiner.finish`.
    """

    full: np.ndarray | None = None
    grid: np.ndarray | None = None
    guide: ColorGuideStats | np.ndarray | None = None
    settings: RefineSettings = RAW_SETTINGS

    def finish(self, edges: EdgeRefiner, frame_bgr: np.ndarray) -> np.ndarray:
        """-> the mask [H, W] float32 0..1 of `frame_bgr` (the frame this GridMask was made from)."""
        if self.full is not None:
            return self.full
        return edges.finish(self.grid, self.guide, frame_bgr, self.settings)


class EdgeRefiner:
    """Fast guided filter + threshold ramp: grid mask -> full-resolution mask. Keeps scratch buffers;
    use one per thread."""

    def __init__(self) -> None:
        self._color_solver = ColorGuidedSolver()
        self._upsampler = FastGuidedUpsampler()
        self._guide: np.ndarray | None = None  # the frame, denoised, as the full-resolution guide

    def finish(self, grid: np.ndarray, guide: ColorGuideStats | np.ndarray, frame_bgr: np.ndarray,
               settings: RefineSettings) -> np.ndarray:
        """grid [h, w] float32 0..1, guide (see GridMask), frame [H, W, 3] uint8 BGR ->
        [H, W] float32 0..1, a new array."""
        if isinstance(guide, ColorGuideStats):
            coeffs = self._color_solver.coefficients_from(guide, grid)                        # [4, h, w]
        else:
            coeffs = np.stack(guided_coefficients(guide, grid, int(settings.edge_radius),
                                                  float(settings.edge_eps)))                 # [2, h, w]
        # Fold the threshold ramp (linear) into the coefficients: no extra full-resolution pass.
        gain, offset = ramp_coefficients(threshold=settings.threshold, softness=settings.softness,
                                         invert=settings.invert)
        coeffs *= np.float32(gain)
        coeffs[-1] += np.float32(offset)
        height, width = frame_bgr.shape[:2]
        factor = grid_factor(width, height, settings.grid_long_side)
        cells = _edge_cells(coeffs[:-1])
        return self._upsampler.apply_planes(coeffs, self._denoised_guide(frame_bgr, cells, factor), factor, cells)

    def _denoised_guide(self, frame_bgr: np.ndarray, cells: Cells | None, factor: int) -> np.ndarray:
        """The full-resolution guide: the frame through a 3x3 Gaussian, where it matters.

        The mask's edge is a * guide + b with large gains a there, so the guide's sensor noise
        would reach the mask from every frame, past the temporal smoothing on the grid: a still
        person's edge shimmered. The light blur halves that flicker at almost no cost in boundary
        accuracy (docs/pipeline.md has the numbers). Only the grid cells the
        upsampler reads the guide in (`cells`) are blurred: elsewhere the guide (left over from
        earlier frames in the kept buffer) is never read. The blur's border (reflected at the
        box's edge) needs no margin: the box's outermost pixels lie in its ring of zero-gain cells,
        half a cell or more from any gain.
        """
        if self._guide is None or self._guide.shape != frame_bgr.shape:
            self._guide = np.zeros_like(frame_bgr)
        if cells is not None:
            y0, y1, x0, x1 = (index * factor for index in cells)
            cv2.GaussianBlur(frame_bgr[y0:y1, x0:x1], (3, 3), 0, dst=self._guide[y0:y1, x0:x1])
        return self._guide


def grid_factor(width: int, height: int, grid_long_side: int) -> int:
    """The integer downscale from a width x height frame to its working grid (grid pixels tile
    frame pixels; see MaskRefiner.analyze)."""
    return max(1, int(np.ceil(max(width, height) / grid_long_side)))


def _edge_cells(gains: np.ndarray) -> Cells | None:
    """gains [C, h, w] -> the grid cells (r0, r1, c0, c1) around every cell whose gain is not
    exactly 0, grown by one cell (as far as bilinear upsampling reaches); None when all are 0."""
    active = np.any(gains != 0, axis=0)
    rows, cols = np.flatnonzero(active.any(axis=1)), np.flatnonzero(active.any(axis=0))
    if not rows.size:
        return None
    h, w = active.shape
    return max(0, int(rows[0]) - 1), min(h, int(rows[-1]) + 2), max(0, int(cols[0]) - 1), min(w, int(cols[-1]) + 2)


def _flush_tiny(prob: np.ndarray) -> np.ndarray:
    """Set probabilities below 1e-4 (invisible: 0.03 gray levels) to exactly 0, in place.

    The network's background probabilities (1e-20 and less) and the smoother's geometric decay in
    still scenes otherwise reach float32's subnormal range in the guided filter's products, which
    the CPU handles far slower, more so the longer the scene stays still (docs/pipeline.md).
    """
    cv2.threshold(prob, 1e-4, 0.0, cv2.THRESH_TOZERO, dst=prob)
    return prob


def _reaches_inner_edge(crop_prob: np.ndarray, box: Box, frame_size: tuple[int, int]) -> bool:
    """True when the crop's mask [h, w] float32 is > 0.5 on a crop edge that is not a frame edge."""
    x0, y0, x1, y1 = box
    edges = []
    if x0 > 0:
        edges.append(crop_prob[:, 0])
    if y0 > 0:
        edges.append(crop_prob[0, :])
    if x1 < frame_size[0]:
        edges.append(crop_prob[:, -1])
    if y1 < frame_size[1]:
        edges.append(crop_prob[-1, :])
    return any(float(edge.max()) > 0.5 for edge in edges)


def _paste_crops(crops: list[tuple[Box, np.ndarray]], scale: float, grid: np.ndarray) -> None:
    """Paste the crops' network outputs over the grid; where crops overlap, the larger probability."""
    if len(crops) == 1:
        _paste(crops[0][1], crops[0][0], scale, grid)
    elif crops:
        layer = np.full(grid.shape, -1.0, np.float32)  # -1: no crop here
        for box, lowres in crops:
            _paste(lowres, box, scale, layer, combine=np.maximum)
        np.copyto(grid, layer, where=layer >= 0)


def _paste(lowres: np.ndarray, box: Box, scale: float, dst: np.ndarray,
           combine: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
    """Resample the network output `lowres` [h, w] covering frame box into grid `dst` (grid = frame * scale):
    replacing what is there, or combine(old, new)."""
    x0, y0, x1, y1 = box
    h, w = lowres.shape
    gx0, gy0 = int(np.floor(x0 * scale)), int(np.floor(y0 * scale))
    gx1, gy1 = min(int(np.ceil(x1 * scale)), dst.shape[1]), min(int(np.ceil(y1 * scale)), dst.shape[0])
    # Network pixel i sits at frame x0 + i * (x1 - x0) / w (corner to corner, as the segmenter stretches).
    matrix = np.array([[scale * (x1 - x0) / w, 0.0, scale * x0 - gx0],
                       [0.0, scale * (y1 - y0) / h, scale * y0 - gy0]])
    patch = cv2.warpAffine(lowres.astype(np.float32, copy=False), matrix, (gx1 - gx0, gy1 - gy0),
                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    region = dst[gy0:gy1, gx0:gx1]
    region[...] = patch if combine is None else combine(region, patch)


class MaskRefiner:
    """Per-stream state (temporal history, tracked crops); one per pipeline. Not thread-safe."""

    def __init__(self) -> None:
        self.tracker = PersonRegionTracker()
        self.smoother = TemporalSmoother()
        self._edges = EdgeRefiner()
        self._guide_solver = ColorGuidedSolver()  # the frame's share of the color guided filter
        self.last_crops: tuple[Box, ...] = ()  # the crops used for the last frame (for display / debugging)

    def reset(self) -> None:
        """Forget history (new source, seek, settings that change the mask's meaning)."""
        self.tracker.reset()
        self.smoother.reset()
        self.last_crops = ()

    def run(self, segmenter, frame_bgr: np.ndarray, settings: RefineSettings,
            timer: StageTimer | None = None) -> np.ndarray:
        """frame [H, W, 3] uint8 BGR -> refined mask [H, W] float32 0..1 (a new array)."""
        grid_mask = self.analyze(segmenter, frame_bgr, settings, timer)
        if grid_mask.full is not None:
            return grid_mask.full
        stage = timer.stage if timer is not None else (lambda _name: nullcontext())
        with stage("refine"):
            return grid_mask.finish(self._edges, frame_bgr)

    def analyze(self, segmenter, frame_bgr: np.ndarray, settings: RefineSettings,
                timer: StageTimer | None = None) -> GridMask:
        """Everything but the full-resolution guided step (the part that carries state from frame to
        frame): frame [H, W, 3] uint8 BGR -> GridMask of this frame."""
        stage = timer.stage if timer is not None else (lambda _name: nullcontext())
        height, width = frame_bgr.shape[:2]
        needs_grid = settings.edge_refine or settings.temporal or settings.track_people
        if not needs_grid or not hasattr(segmenter, "segment_lowres"):
            with stage("segment"):
                prob = np.asarray(segmenter.segment(frame_bgr), np.float32)
            with stage("refine"):
                return GridMask(full=self._finish(prob, settings))

        frame_box = (0, 0, width, height)
        with stage("segment"):
            plan = self.tracker.plan((width, height)) if settings.track_people else Plan()
            whole = segmenter.segment_lowres(frame_bgr) if plan.whole else None
            # Crops are views: OpenCV reads ROIs without a copy.
            crops = [(box, segmenter.segment_lowres(frame_bgr[box[1]:box[3], box[0]:box[2]])) for box in plan.crops]
            if whole is None and all(float(crop.max()) < 0.5 for _, crop in crops):
                # Nobody where they were (a jump, dropped frames): look at the whole frame now.
                whole, crops = segmenter.segment_lowres(frame_bgr), []
            elif whole is None and any(_reaches_inner_edge(crop, box, (width, height)) for box, crop in crops):
                # Someone extends past a crop (fast motion, dropped frames): the whole frame fills in
                # what the crop cut off, so this frame's mask is whole too.
                whole = segmenter.segment_lowres(frame_bgr)
            searched = [(box, segmenter.segment_lowres(frame_bgr[box[1]:box[3], box[0]:box[2]])) for box in plan.search]
        self.last_crops = tuple(box for box, _ in crops)
        with stage("refine"):
            # An integer downscale: INTER_AREA is fast for it, and grid pixels tile frame pixels. The
            # frame is cut to a multiple of the factor (<= factor - 1 pixels, right and bottom) so
            # OpenCV takes its exact integer path (2x faster than the fractional one at 720p).
            factor = grid_factor(width, height, settings.grid_long_side)
            grid_size = (max(1, width // factor), max(1, height // factor))
            scale = grid_size[0] / width
            tiled = frame_bgr[:grid_size[1] * factor, :grid_size[0] * factor]
            color_u8 = cv2.resize(tiled, grid_size, interpolation=cv2.INTER_AREA)
            gray_grid = cv2.cvtColor(color_u8, cv2.COLOR_BGR2GRAY).astype(np.float32)
            gray_grid *= np.float32(1.0 / 255.0)
            grid = np.zeros((grid_size[1], grid_size[0]), np.float32)
            if whole is not None:
                _paste(whole, frame_box, scale, grid)
            _paste_crops(crops, scale, grid)
            if settings.track_people:
                found = None
                if searched:
                    found = np.zeros_like(grid)
                    _paste_crops(searched, scale, found)
                self.tracker.update(grid, (width, height), found)
            if settings.temporal:
                self.smoother.strength = settings.temporal_strength  # validated by the smoother
                grid = self.smoother.smooth(grid, gray_grid)
            # In place: with smoothing on, the smoother's kept state (the array it returned) is
            # flushed too, so still scenes stay at exact zeros.
            _flush_tiny(grid)
            if not settings.edge_refine:
                prob = cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)
                return GridMask(full=self._finish(prob, settings))
            if settings.edge_guide == "gray":
                return GridMask(grid=grid, guide=gray_grid, settings=settings)
            planes = np.empty((3, *color_u8.shape[:2]), np.float32)
            for k, channel in enumerate(cv2.split(color_u8)):  # planar: no slow interleaved transpose
                np.multiply(channel, np.float32(1.0 / 255.0), out=planes[k])
            stats = self._guide_solver.guide_stats(planes, int(settings.edge_radius), float(settings.edge_eps))
            return GridMask(grid=grid, guide=stats, settings=settings)

    @staticmethod
    def _finish(prob: np.ndarray, settings: RefineSettings) -> np.ndarray:
        return apply_threshold(prob, threshold=settings.threshold, softness=settings.softness,
                               invert=settings.invert, out=np.empty(prob.shape, np.float32))
