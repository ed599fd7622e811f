"""DeviceRefiner: refine.refiner.MaskRefiner's steps as torch ops on the frame's device.

    refiner = DeviceRefiner()
    grid_mask = refiner.analyze(runner_for, frame, settings)      # frame [H, W, 3] uint8 BGR on the device
    mask = refiner.finish(grid_mask, frame, settings)             # [H, W] float32 0..1 on the device

Follows main's refine math (refine/refiner.py, guided.py, temporal.py, threshold.py as of this
commit; re-sync when those change). What stays on the CPU, and why:
- people tracking (refine.region.PersonRegionTracker): branchy bookkeeping over a few boxes; it
  plans with the low-resolution grid mask, downloaded once per frame (~100 KB at 720p);
- the optical flow of temporal smoothing (OpenCV DIS at <= 256 px): torch has no DIS; the two gray
  grids go down and the flow field comes back up (~300 KB); the warp itself runs on the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from silhouette_cam.device.guided import apply_coefficients, color_coefficients, gray_coefficients
from silhouette_cam.device.ops import (
    area_downscale_u8,
    bgr_to_gray_u8,
    ramp,
    remap_replicate,
    resize_bilinear,
    stretch_grid,
    stretch_to_network,
    warp_affine_replicate,
)
from silhouette_cam.refine import RefineSettings
from silhouette_cam.refine.refiner import grid_factor, inner_edges
from silhouette_cam.refine.region import Box, PersonRegionTracker, Plan
from silhouette_cam.refine.temporal import SmallFlow
from silhouette_cam.refine.threshold import ramp_coefficients


@dataclass
class DeviceGridMask:
    """A frame's mask before its full-resolution step (see refine.GridMask): either `full` [H, W] or the
    grid [h, w] with its guide (color planes [3, h, w] or gray [h, w]), all float32 on the device."""

    settings: RefineSettings
    full: torch.Tensor | None = None
    grid: torch.Tensor | None = None
    guide: torch.Tensor | None = None
    factor: int = 1


def person_lowres(runner_for, frames: list[torch.Tensor]) -> list[torch.Tensor]:
    """Frames (or crops) on the device -> person probability `[h, w]` at the network's resolution each.

    Each view goes to the network `runner_for(width, height)` picks for its own shape (as
    segmenter.segment_lowres does); the views of one network run as ONE batched call.
    """
    groups: dict[int, tuple[object, list[int]]] = {}
    for index, view in enumerate(frames):
        runner = runner_for(view.shape[1], view.shape[0])
        groups.setdefault(id(runner), (runner, []))[1].append(index)
    probs: list[torch.Tensor | None] = [None] * len(frames)
    for runner, indices in groups.values():
        w, h = runner.input_size
        inputs = [stretch_to_network(frames[i], stretch_grid(frames[i].shape[1], frames[i].shape[0], w, h,
                                                             device=frames[i].device)) for i in indices]
        logits = runner.network(torch.cat(inputs).to(runner.dtype)).float()    # [N, C_out, h, w]
        person = torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else 1.0 - torch.softmax(logits, 1)[:, 0]
        for i, prob in zip(indices, person, strict=True):
            probs[i] = prob
    return probs


def _paste(lowres: torch.Tensor, box: Box, scale: float, dst: torch.Tensor, combine=None) -> None:
    """refine.refiner._paste: resample the network output covering frame `box` into grid `dst`, in place."""
    x0, y0, x1, y1 = box
    h, w = lowres.shape
    gx0, gy0 = int(np.floor(x0 * scale)), int(np.floor(y0 * scale))
    gx1, gy1 = min(int(np.ceil(x1 * scale)), dst.shape[1]), min(int(np.ceil(y1 * scale)), dst.shape[0])
    matrix = ((scale * (x1 - x0) / w, 0.0, scale * x0 - gx0), (0.0, scale * (y1 - y0) / h, scale * y0 - gy0))
    patch = warp_affine_replicate(lowres, matrix, (gx1 - gx0, gy1 - gy0))
    region = dst[gy0:gy1, gx0:gx1]
    region.copy_(patch if combine is None else combine(region, patch))


def _paste_crops(crops: list[tuple[Box, torch.Tensor]], scale: float, grid: torch.Tensor) -> None:
    if len(crops) == 1:
        _paste(crops[0][1], crops[0][0], scale, grid)
    elif crops:
        layer = torch.full_like(grid, -1.0)
        for box, lowres in crops:
            _paste(lowres, box, scale, layer, combine=torch.maximum)
        grid.copy_(torch.where(layer >= 0, layer, grid))


def _reaches_inner_edge(crop: torch.Tensor, box: Box, frame_size: tuple[int, int]) -> bool:
    """refiner's test, with one device sync for all edges."""
    edges = inner_edges(crop, box, frame_size)
    return bool(edges) and bool(torch.cat(edges).max() > 0.5)


class DeviceTemporalSmoother:
    """refine.temporal.TemporalSmoother on the device (flow from OpenCV DIS on the CPU, see module doc)."""

    def __init__(self, *, static_weight: float = 0.1, certainty_gain: float = 0.8, motion_scale: float = 3.0,
                 noise_floor: float = 0.02, flow_long_side: int = 256) -> None:
        self.static_weight, self.certainty_gain = static_weight, certainty_gain
        self.motion_scale, self.noise_floor = motion_scale, noise_floor
        self._small_flow = SmallFlow(flow_long_side)
        self.reset()

    def reset(self) -> None:
        self._prev_mask: torch.Tensor | None = None
        self._prev_gray: torch.Tensor | None = None
        self._prev_gray_cpu: np.ndarray | None = None
        self._small_flow.reset()

    def keep(self, mask: torch.Tensor) -> None:
        """Replace the kept mask (the one `smooth` returned, after the refiner's flush of tiny values)."""
        self._prev_mask = mask

    def smooth(self, prob: torch.Tensor, gray: torch.Tensor, gray_cpu: np.ndarray) -> torch.Tensor:
        """prob, gray `[h, w]` float32 0..1 on the device (gray also on the CPU) -> smoothed `[h, w]`."""
        if self._prev_mask is None or self._prev_mask.shape != prob.shape:
            self._prev_mask, self._prev_gray, self._prev_gray_cpu = prob.clone(), gray, gray_cpu
            return self._prev_mask
        map_x, map_y = self._flow_maps(gray_cpu, self._prev_gray_cpu, prob.device)
        warped = remap_replicate(torch.stack([self._prev_mask, self._prev_gray]), map_x, map_y)
        prev_mask, prev_gray = warped[0], warped[1]
        motion = (gray - prev_gray).abs()
        motion = torch.nn.functional.max_pool2d(motion[None, None], 5, stride=1, padding=2)[0, 0]  # cv2.dilate 5x5
        weight = (motion - self.noise_floor) * (1.0 / self.motion_scale) + self.static_weight
        if self.certainty_gain:
            weight = weight + (2.0 * self.certainty_gain) * (prob - 0.5).abs()
        weight = weight.clamp_(self.static_weight, 1.0)
        smoothed = prev_mask + weight * (prob - prev_mask)
        self._prev_mask, self._prev_gray, self._prev_gray_cpu = smoothed, gray, gray_cpu
        return smoothed

    def _flow_maps(self, gray: np.ndarray, prev_gray: np.ndarray, device: torch.device):
        """temporal.TemporalSmoother's flow (SmallFlow, on the CPU) -> remap maps `[h, w]` on the device."""
        h, w = gray.shape
        small, to_grid = self._small_flow(gray, prev_gray)
        flow = torch.from_numpy(small).to(device)                                      # [h', w', 2]
        flow = resize_bilinear(flow.permute(2, 0, 1)[None], h, w)[0] * float(to_grid)
        ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                                torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
        return xs + flow[0], ys + flow[1]


class DeviceRefiner:
    """Per-stream state (tracker, smoother); one per pipeline; not thread-safe."""

    def __init__(self) -> None:
        self.tracker = PersonRegionTracker()
        self.smoother = DeviceTemporalSmoother()
        self.last_crops: tuple[Box, ...] = ()

    def reset(self) -> None:
        self.tracker.reset()
        self.smoother.reset()
        self.last_crops = ()

    def analyze(self, runner_for, frame: torch.Tensor, settings: RefineSettings, stage) -> DeviceGridMask:
        """frame `[H, W, 3]` uint8 BGR on the device; runner_for(width, height) -> TorchRunner;
        stage(name) a context manager timing "segment" / "refine" -> this frame's DeviceGridMask."""
        height, width = frame.shape[:2]
        needs_grid = settings.edge_refine or settings.temporal or settings.track_people
        if not needs_grid:
            with stage("segment"):
                lowres = person_lowres(runner_for, [frame])[0]
                prob = resize_bilinear(lowres[None, None], height, width)[0, 0]
            with stage("refine"):
                return DeviceGridMask(settings, full=self._ramp(prob, settings))
        with stage("segment"):
            plan = self.tracker.plan((width, height)) if settings.track_people else Plan()
            views = [frame[y0:y1, x0:x1] for x0, y0, x1, y1 in (*plan.crops, *plan.search)]
            outputs = person_lowres(runner_for, ([frame] if plan.whole else []) + views)
            whole = outputs.pop(0) if plan.whole else None
            crops = list(zip(plan.crops, outputs[:len(plan.crops)], strict=True))
            searched = list(zip(plan.search, outputs[len(plan.crops):], strict=True))
            if whole is None and all(float(crop.max()) < 0.5 for _, crop in crops):
                whole, crops = person_lowres(runner_for, [frame])[0], []
            elif whole is None and any(_reaches_inner_edge(crop, box, (width, height)) for box, crop in crops):
                whole = person_lowres(runner_for, [frame])[0]
        self.last_crops = tuple(box for box, _ in crops)
        with stage("refine"):
            return self._on_grid(frame, settings, whole, crops, searched)

    def _on_grid(self, frame, settings, whole, crops, searched) -> DeviceGridMask:
        height, width = frame.shape[:2]
        factor = grid_factor(width, height, settings.grid_long_side)
        grid_w, grid_h = max(1, width // factor), max(1, height // factor)
        scale = grid_w / width
        tiled = frame[:grid_h * factor, :grid_w * factor].permute(2, 0, 1).float()      # [3, th, tw] BGR
        color = area_downscale_u8(tiled, factor)                                        # [3, h, w] 0..255
        gray = bgr_to_gray_u8(color) * (1.0 / 255.0)
        grid = torch.zeros((grid_h, grid_w), device=frame.device)
        if whole is not None:
            _paste(whole, (0, 0, width, height), scale, grid)
        _paste_crops(crops, scale, grid)
        if settings.track_people:
            found = None
            if searched:
                found_grid = torch.zeros_like(grid)
                _paste_crops(searched, scale, found_grid)
                found = found_grid.cpu().numpy()
            self.tracker.update(grid.cpu().numpy(), (width, height), found)   # the planning download
        if settings.temporal and settings.temporal_strength > 0:
            self.smoother.static_weight = 1.0 - settings.temporal_strength
            grid = self.smoother.smooth(grid, gray, gray.cpu().numpy())
        grid = torch.where(grid > 1e-4, grid, torch.zeros_like(grid))  # refine.refiner._flush_tiny
        if settings.temporal and settings.temporal_strength > 0:
            self.smoother.keep(grid)  # the CPU path flushes the smoother's kept state too (in place)
        if not settings.edge_refine:
            prob = resize_bilinear(grid[None, None], height, width)[0, 0]
            return DeviceGridMask(settings, full=self._ramp(prob, settings))
        guide = gray if settings.edge_guide == "gray" else color * (1.0 / 255.0)
        return DeviceGridMask(settings, grid=grid, guide=guide, factor=factor)

    @staticmethod
    def _ramp(prob: torch.Tensor, settings: RefineSettings) -> torch.Tensor:
        return ramp(prob, threshold=settings.threshold, softness=settings.softness, invert=settings.invert)

    @staticmethod
    def finish(grid_mask: DeviceGridMask, frame: torch.Tensor) -> torch.Tensor:
        """-> the mask `[H, W]` float32 0..1 of `frame` (EdgeRefiner.finish: guided upsampling + ramp)."""
        if grid_mask.full is not None:
            return grid_mask.full
        settings = grid_mask.settings
        radius, eps = int(settings.edge_radius), float(settings.edge_eps)
        if grid_mask.guide.ndim == 3:
            coeffs = color_coefficients(grid_mask.guide, grid_mask.grid, radius, eps)
        else:
            coeffs = gray_coefficients(grid_mask.guide, grid_mask.grid, radius, eps)
        gain, offset = ramp_coefficients(threshold=settings.threshold, softness=settings.softness,
                                         invert=settings.invert)
        coeffs = coeffs * gain
        coeffs[-1] += offset
        return apply_coefficients(coeffs, frame.permute(2, 0, 1).float(), grid_mask.factor)
