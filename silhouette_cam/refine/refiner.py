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
from silhouette_cam.refine.temporal import TemporalSmoother, grow_cells, nonzero_cells
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
    done on the analysis thread, over `guide_window(active, ...)` only) or its grayscale ([h, w]
    float32 0..1, gray guide), to be finished against that same frame by `EdgeRefiner.finish`.
    `active`: the grid cells outside which `grid` is exactly 0 (None: the whole grid); the guide
    is None when they are empty (nobody in the picture).
    """

    full: np.ndarray | None = None
    grid: np.ndarray | None = None
    guide: ColorGuideStats | np.ndarray | None = None
    settings: RefineSettings = RAW_SETTINGS
    active: Cells | None = None

    def finish(self, edges: EdgeRefiner, frame_bgr: np.ndarray) -> np.ndarray:
        """-> the mask [H, W] float32 0..1 of `frame_bgr` (the frame this GridMask was made from)."""
        if self.full is not None:
            return self.full
        return edges.finish(self.grid, self.guide, frame_bgr, self.settings, self.active)


class EdgeRefiner:
    """Fast guided filter + threshold ramp: grid mask -> full-resolution mask. Keeps scratch buffers;
    use one per thread."""

    def __init__(self) -> None:
        self._color_solver = ColorGuidedSolver()
        self._upsampler = FastGuidedUpsampler()
        self.profile: StageTimer | None = None  # sub-stage timings (bench/bench_refine.py)

    def finish(self, grid: np.ndarray, guide: ColorGuideStats | np.ndarray | None, frame_bgr: np.ndarray,
               settings: RefineSettings, active: Cells | None = None) -> np.ndarray:
        """grid [h, w] float32 0..1, guide and active (see GridMask), frame [H, W, 3] uint8 BGR ->
        [H, W] float32 0..1, a new array.

        Only near the mask: where the grid mask is 0 in the whole of a box filter's window, the
        guided filter's gain and offset are exactly 0 (the covariance with a zero mask is 0), so
        two boxes (radius r) past the active cells every coefficient is 0 and the mask is the ramp's
        constant. The coefficients are computed over the active cells grown by 3r + 1 (the windows
        of the outer r cells, cut at that edge, still see only zeros) and applied over them grown
        by 2r + 1 (a ring of constant cells for the bilinear upsampling); the result equals the
        filter over the whole grid (tests/test_refine.py compares it with the frozen reference).
        """
        stage = _stage(self.profile)
        h, w = grid.shape
        radius = int(settings.edge_radius)
        height, width = frame_bgr.shape[:2]
        factor = grid_factor(width, height, settings.grid_long_side)
        # Fold the threshold ramp (linear) into the coefficients: no extra full-resolution pass.
        gain, offset = ramp_coefficients(threshold=settings.threshold, softness=settings.softness,
                                         invert=settings.invert)
        channels = 3 if isinstance(guide, ColorGuideStats) else 1
        active = (0, h, 0, w) if active is None else active
        if guide is None or active[1] <= active[0] or active[3] <= active[2]:  # nobody: the ramp's constant
            empty = np.empty((channels + 1, 0, 0), np.float32)
            return self._upsampler.apply_block(empty, (0, 0, 0, 0), (h, w), frame_bgr, factor, offset)
        with stage("coefficients"):
            window = guide_window(active, radius, (h, w))
            r0, r1, c0, c1 = window
            if isinstance(guide, ColorGuideStats):
                coeffs = self._color_solver.coefficients_from(guide, grid[r0:r1, c0:c1])     # [4, ...]
            else:
                coeffs = np.stack(guided_coefficients(guide[r0:r1, c0:c1], grid[r0:r1, c0:c1], radius,
                                                      float(settings.edge_eps)))             # [2, ...]
            cells = grow_cells(active, 2 * radius + 1, (h, w))
            block = coeffs[:, cells[0] - r0:cells[1] - r0, cells[2] - c0:cells[3] - c0]
            block *= np.float32(gain)
            block[-1] += np.float32(offset)
        with stage("upsample"):
            return self._upsampler.apply_block(block, cells, (h, w), frame_bgr, factor, offset, denoise=True)


def _stage(profile: StageTimer | None):
    return profile.stage if profile is not None else (lambda _name: nullcontext())


def grid_factor(width: int, height: int, grid_long_side: int) -> int:
    """The integer downscale from a width x height frame to its working grid (grid pixels tile
    frame pixels; see MaskRefiner.analyze)."""
    return max(1, int(np.ceil(max(width, height) / grid_long_side)))


def area_downscale(tiled_bgr: np.ndarray, factor: int) -> np.ndarray:
    """[H, W, 3] uint8, H and W multiples of factor -> [H / factor, W / factor, 3] uint8, each pixel
    the rounded mean of its factor x factor cell: equal to cv2.resize(..., INTER_AREA).

    For odd factors (3 at 720p) as a box filter whose window starts at each pixel, sampled at every
    cell's first pixel: the same sums and rounding as INTER_AREA (bit-identical, checked in
    tests/test_refine.py), 0.56 vs 1.22 ms at 720p (OpenCV's integer INTER_AREA path for 3 channels
    is slow). Even factors keep INTER_AREA, which rounds half-way sums differently from the box.
    """
    height, width = tiled_bgr.shape[:2]
    size = (width // factor, height // factor)
    if factor % 2 == 0:
        return cv2.resize(tiled_bgr, size, interpolation=cv2.INTER_AREA)
    if factor == 1:
        return tiled_bgr.copy()
    box = cv2.boxFilter(tiled_bgr, -1, (factor, factor), anchor=(0, 0))
    return cv2.resize(box, size, interpolation=cv2.INTER_NEAREST)  # pixel factor * i: the cell's first


def guide_window(active: Cells, radius: int, shape: tuple[int, int]) -> Cells:
    """The grid cells the guided filter's terms are computed over: the active cells grown by
    3 radius + 1 (see EdgeRefiner.finish)."""
    return grow_cells(active, 3 * radius + 1, shape)


def _flush_tiny(prob: np.ndarray) -> np.ndarray:
    """Set probabilities below 1e-4 (invisible: 0.03 gray levels) to exactly 0, in place.

    The network's background probabilities (1e-20 and less) and the smoother's geometric decay in
    still scenes otherwise reach float32's subnormal range in the guided filter's products, which
    the CPU handles far slower, more so the longer the scene stays still (docs/pipeline.md).
    """
    cv2.threshold(prob, 1e-4, 0.0, cv2.THRESH_TOZERO, dst=prob)
    return prob


def inner_edges(crop_prob, box: Box, frame_size: tuple[int, int]) -> list:
    """The crop's mask [h, w] (a numpy array or a torch tensor) on the crop's edges that are not
    frame edges: its first / last columns and rows, as views (none when the crop is the frame)."""
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
    return edges


def _reaches_inner_edge(crop_prob: np.ndarray, box: Box, frame_size: tuple[int, int]) -> bool:
    """True when the crop's mask [h, w] float32 is > 0.5 on a crop edge that is not a frame edge."""
    return any(float(edge.max()) > 0.5 for edge in inner_edges(crop_prob, box, frame_size))


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
        self.profile: StageTimer | None = None  # sub-stage timings (bench/bench_refine.py)

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
        sub = _stage(self.profile)
        with stage("refine"):
            # An integer downscale: INTER_AREA is fast for it, and grid pixels tile frame pixels. The
            # frame is cut to a multiple of the factor (<= factor - 1 pixels, right and bottom) so
            # OpenCV takes its exact integer path (2x faster than the fractional one at 720p).
            with sub("downscale"):
                factor = grid_factor(width, height, settings.grid_long_side)
                grid_size = (max(1, width // factor), max(1, height // factor))
                scale = grid_size[0] / width
                tiled = frame_bgr[:grid_size[1] * factor, :grid_size[0] * factor]
                color_u8 = area_downscale(tiled, factor)
                gray_grid = cv2.cvtColor(color_u8, cv2.COLOR_BGR2GRAY).astype(np.float32)
                gray_grid *= np.float32(1.0 / 255.0)
            with sub("composite"):
                grid = np.zeros((grid_size[1], grid_size[0]), np.float32)
                if whole is not None:
                    _paste(whole, frame_box, scale, grid)
                _paste_crops(crops, scale, grid)
            with sub("track"):
                if settings.track_people:
                    found = None
                    if searched:
                        found = np.zeros_like(grid)
                        _paste_crops(searched, scale, found)
                    self.tracker.update(grid, (width, height), found)
            with sub("temporal"):
                if settings.temporal:
                    self.smoother.strength = settings.temporal_strength  # validated by the smoother
                    grid = self.smoother.smooth(grid, gray_grid)
                # In place: with smoothing on, the smoother's kept state (the array it returned) is
                # flushed too, so still scenes stay at exact zeros.
                _flush_tiny(grid)
            if not settings.edge_refine:
                prob = cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)
                return GridMask(full=self._finish(prob, settings))
            active = nonzero_cells(grid)
            if active[1] == active[0]:  # nobody: no filter to compute
                return GridMask(grid=grid, guide=None, settings=settings, active=active)
            if settings.edge_guide == "gray":
                return GridMask(grid=grid, guide=gray_grid, settings=settings, active=active)
            with sub("guide stats"):
                # Only where the filter's result is not a constant (see EdgeRefiner.finish).
                r0, r1, c0, c1 = guide_window(active, int(settings.edge_radius), grid.shape)
                planes = np.empty((3, r1 - r0, c1 - c0), np.float32)
                for k, channel in enumerate(cv2.split(color_u8[r0:r1, c0:c1])):  # planar: no slow transpose
                    np.multiply(channel, np.float32(1.0 / 255.0), out=planes[k])
                stats = self._guide_solver.guide_stats(planes, int(settings.edge_radius), float(settings.edge_eps))
            return GridMask(grid=grid, guide=stats, settings=settings, active=active)

    @staticmethod
    def _finish(prob: np.ndarray, settings: RefineSettings) -> np.ndarray:
        return apply_threshold(prob, threshold=settings.threshold, softness=settings.softness,
                               invert=settings.invert, out=np.empty(prob.shape, np.float32))
