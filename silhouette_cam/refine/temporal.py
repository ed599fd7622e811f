"""Temporal smoothing of the mask: blend each frame's mask with the previous one, warped by optical flow.

Flicker is the mask changing where the picture did not; ghost trails are the mask lagging where the
picture did. The previous mask is first moved along dense optical flow (camera pans and moving people
blend with where they were, not with background); then the blend weight of the current mask is its
certainty: ~1 where the network is sure (a person who arrives or leaves shows at once, no trail) and
`static_weight` where it hesitates (its uncertain band, where flicker lives), raised further where
the picture changed even after the warp (flow that failed). Certainty, not image motion, leads: on a
twirling dancer (DAVIS dance-twirl) the warp residual is large all over her, so a motion-led weight
smoothed little (dtSSD 2.71 unsmoothed -> 2.53); certainty-led, 2.32 at higher IoU (docs/pipeline.md).
Works on a low-resolution grid (cheap); the edge-aware step afterwards restores full-res edges.
"""

from __future__ import annotations

import cv2
import numpy as np


class TemporalSmoother:
    """Stateful per-stream smoother; call `reset()` on a scene change or a new source.

    static_weight: weight of the current mask where it is least certain and nothing moved (0..1;
        1 = no smoothing).
    certainty_gain: weight added where the current mask is certain (0 or 1), in proportion to
        |prob - 0.5| / 0.5.
    motion_scale: grayscale change (0..1) above the noise floor, after the flow warp, that adds 1 to
        the weight (the current mask takes over).
    noise_floor: grayscale change (0..1) treated as sensor noise.
    """

    def __init__(self, *, static_weight: float = 0.1, certainty_gain: float = 0.8, motion_scale: float = 3.0,
                 noise_floor: float = 0.02, flow: bool = True,
                 flow_long_side: int = 256) -> None:
        if not 0.0 < static_weight <= 1.0:
            raise ValueError(f"static_weight must be in (0, 1], got {static_weight}")
        if motion_scale <= 0:
            raise ValueError(f"motion_scale must be > 0, got {motion_scale}")
        if certainty_gain < 0:
            raise ValueError(f"certainty_gain must be >= 0, got {certainty_gain}")
        self.static_weight = float(static_weight)
        self.motion_scale = float(motion_scale)
        self.noise_floor = float(noise_floor)
        self.certainty_gain = float(certainty_gain)
        self.flow = bool(flow)
        self._small_flow = SmallFlow(int(flow_long_side))
        self._grid: tuple[np.ndarray, np.ndarray] | None = None  # pixel coordinates, cached per size
        self.reset()

    @property
    def strength(self) -> float:
        """How strongly an unsure, still mask is held: 0 (no smoothing) .. <1; `1 - static_weight`."""
        return 1.0 - self.static_weight

    @strength.setter
    def strength(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"smoothing strength must be in 0..1 (1 excluded), got {value:g}")
        self.static_weight = 1.0 - value

    def reset(self) -> None:
        self._prev_mask: np.ndarray | None = None
        self._prev_gray: np.ndarray | None = None
        self._small_flow.reset()

    def smooth(self, prob: np.ndarray, gray: np.ndarray) -> np.ndarray:
        """prob [h, w] float32 0..1 (this frame's mask on the grid), gray [h, w] float32 0..1 (this
        frame's grid image) -> smoothed [h, w] float32 0..1 (a new array; also kept as the state).

        Computed only in the box where the result can be nonzero: where this mask and the previous
        one, moved by the flow, are both exactly 0 the blend is exactly 0 too (the background of a
        webcam picture, most of a full-body shot's grid).
        """
        if prob.shape != gray.shape:
            raise ValueError(f"prob shape {prob.shape} != gray shape {gray.shape}")
        if self._prev_mask is None or self._prev_mask.shape != prob.shape:
            self._prev_mask, self._prev_gray = prob.copy(), gray.copy()
            return self._prev_mask
        prev_mask, prev_gray = self._prev_mask, self._prev_gray
        h, w = prob.shape
        flow = self._flow(gray, prev_gray) if self.flow else None
        # The previous mask moved by the flow is 0 farther than the largest flow from where it was
        # not 0 (a remap reads at most one pixel past the flow's target; clamped reads come nearer).
        reach = 1
        if flow is not None:
            low, high, _, _ = cv2.minMaxLoc(flow.reshape(h, 2 * w))  # no |flow| temporary
            reach += int(np.ceil(max(-low, high)))
        box = _union(nonzero_cells(prob), grow_cells(nonzero_cells(prev_mask), reach, (h, w)))
        smoothed = np.zeros((h, w), np.float32)
        if box[1] > box[0]:
            # The motion map is dilated 5x5: it is computed 2 cells past the box.
            r0, r1, c0, c1 = outer = grow_cells(box, 2, (h, w))
            if flow is not None:
                moved_mask, moved_gray = self._follow_motion(flow[r0:r1, c0:c1], outer, prev_mask, prev_gray)
            else:
                moved_mask, moved_gray = prev_mask[r0:r1, c0:c1], prev_gray[r0:r1, c0:c1]
            motion = cv2.absdiff(gray[r0:r1, c0:c1], moved_gray)
            # Spread motion a little: an edge that moved one pixel affects the mask around it too.
            motion = cv2.dilate(motion, np.ones((5, 5), np.uint8))
            inner = (slice(box[0] - r0, box[1] - r0), slice(box[2] - c0, box[3] - c0))
            here = (slice(box[0], box[1]), slice(box[2], box[3]))
            weight = (motion[inner] - self.noise_floor) * (1.0 / self.motion_scale)
            weight += self.static_weight
            if self.certainty_gain:
                certainty = np.abs(prob[here] - 0.5)
                weight += (2.0 * self.certainty_gain) * certainty
            np.clip(weight, self.static_weight, 1.0, out=weight)
            moved = moved_mask[inner]
            smoothed[here] = moved + weight * (prob[here] - moved)
        self._prev_mask, self._prev_gray = smoothed, gray
        return smoothed

    def _flow(self, gray: np.ndarray, prev_gray: np.ndarray) -> np.ndarray:
        """Dense optical flow (see SmallFlow) -> [h, w, 2] float32 grid pixels: for each current
        pixel, where it was in the previous frame."""
        h, w = gray.shape
        small, to_grid = self._small_flow(gray, prev_gray)
        full = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        full *= to_grid  # in place: no second [h, w, 2] array per frame
        return full

    def _follow_motion(self, flow: np.ndarray, box: tuple[int, int, int, int], prev_mask: np.ndarray,
                       prev_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Warp the previous mask and image onto this frame's grid cells `box` (r0, r1, c0, c1),
        flow [r1 - r0, c1 - c0, 2] there: camera pans and moving people then blend with where they
        were, not with background."""
        h, w = prev_mask.shape
        if self._grid is None or self._grid[0].shape != (h, w):
            self._grid = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        r0, r1, c0, c1 = box
        map_x = self._grid[0][r0:r1, c0:c1] + flow[..., 0]
        map_y = self._grid[1][r0:r1, c0:c1] + flow[..., 1]
        warped = [cv2.remap(x, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                  for x in (prev_mask, prev_gray)]
        return warped[0], warped[1]


class SmallFlow:
    """Dense optical flow (OpenCV DIS, ultrafast) between two grid images, computed on copies whose
    long side is at most `long_side` pixels; the CPU smoother and the device one (which warps on the
    device) share it. Keeps the last frame's small image: each call makes only the new frame's."""

    def __init__(self, long_side: int = 256) -> None:
        self.long_side = int(long_side)
        self._dis = None
        self.reset()

    def reset(self) -> None:
        self._small: tuple[np.ndarray, np.ndarray] | None = None  # (gray, its small uint8 image)

    def __call__(self, gray: np.ndarray, prev_gray: np.ndarray) -> tuple[np.ndarray, np.float32]:
        """gray, prev_gray [h, w] float32 0..1 -> (flow [h', w', 2] float32 in small-image pixels:
        for each current pixel, where it was in the previous frame; the factor to grid pixels)."""
        h, w = gray.shape
        scale = min(1.0, self.long_side / max(h, w))
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        # The previous frame's small image was made by the previous call: only this frame's is new.
        cached = self._small
        if cached is not None and cached[0] is prev_gray and cached[1].shape[::-1] == size:
            prev_u8 = cached[1]
        else:
            prev_u8 = cv2.convertScaleAbs(cv2.resize(prev_gray, size, interpolation=cv2.INTER_AREA), alpha=255.0)
        cur_u8 = cv2.convertScaleAbs(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), alpha=255.0)
        self._small = (gray, cur_u8)
        if self._dis is None:
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        return self._dis.calc(cur_u8, prev_u8, None), np.float32(w / size[0])


Box = tuple[int, int, int, int]  # grid rows r0:r1, columns c0:c1


def nonzero_cells(x: np.ndarray) -> Box:
    """[h, w] float32 -> the box of cells (r0, r1, c0, c1) outside which it is exactly 0
    ((0, 0, 0, 0) when it is 0 everywhere)."""
    bx, by, bw, bh = cv2.boundingRect(cv2.compare(x, 0.0, cv2.CMP_NE))
    return by, by + bh, bx, bx + bw


def grow_cells(box: Box, margin: int, shape: tuple[int, int]) -> Box:
    """A box of cells grown by `margin` on every side, inside a grid of `shape` (h, w); an empty box
    stays empty."""
    if box[1] <= box[0]:
        return box
    r0, r1, c0, c1 = box
    return max(0, r0 - margin), min(shape[0], r1 + margin), max(0, c0 - margin), min(shape[1], c1 + margin)


def _union(a: Box, b: Box) -> Box:
    if a[1] <= a[0]:
        return b
    if b[1] <= b[0]:
        return a
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])
