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
        self.flow, self.flow_long_side = bool(flow), int(flow_long_side)
        self._dis = None
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

    def smooth(self, prob: np.ndarray, gray: np.ndarray) -> np.ndarray:
        """prob [h, w] float32 0..1 (this frame's mask on the grid), gray [h, w] float32 0..1 (this
        frame's grid image) -> smoothed [h, w] float32 0..1 (a new array; also kept as the state)."""
        if prob.shape != gray.shape:
            raise ValueError(f"prob shape {prob.shape} != gray shape {gray.shape}")
        if self._prev_mask is None or self._prev_mask.shape != prob.shape:
            self._prev_mask, self._prev_gray = prob.copy(), gray.copy()
            return self._prev_mask
        prev_mask, prev_gray = self._prev_mask, self._prev_gray
        if self.flow:
            prev_mask, prev_gray = self._follow_motion(gray, prev_mask, prev_gray)
        motion = cv2.absdiff(gray, prev_gray)
        # Spread motion a little: an edge that moved one pixel affects the mask around it too.
        motion = cv2.dilate(motion, np.ones((5, 5), np.uint8))
        weight = (motion - self.noise_floor) * (1.0 / self.motion_scale)
        weight += self.static_weight
        if self.certainty_gain:
            certainty = np.abs(prob - 0.5)
            weight += (2.0 * self.certainty_gain) * certainty
        np.clip(weight, self.static_weight, 1.0, out=weight)
        smoothed = prev_mask + weight * (prob - prev_mask)
        self._prev_mask, self._prev_gray = smoothed, gray
        return smoothed

    def _follow_motion(self, gray: np.ndarray, prev_mask: np.ndarray,
                       prev_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Warp the previous mask and image onto this frame with dense optical flow (DIS, on a small
        grid): camera pans and moving people then blend with where they were, not with background."""
        h, w = gray.shape
        scale = min(1.0, self.flow_long_side / max(h, w))
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        small = [cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in (gray, prev_gray)]
        cur_u8, prev_u8 = (cv2.convertScaleAbs(g, alpha=255.0) for g in small)
        if self._dis is None:
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        flow = self._dis.calc(cur_u8, prev_u8, None)  # for each current pixel: where it was before
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(w / size[0])
        if self._grid is None or self._grid[0].shape != (h, w):
            self._grid = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        map_x, map_y = self._grid[0] + flow[..., 0], self._grid[1] + flow[..., 1]
        warped = [cv2.remap(x, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                  for x in (prev_mask, prev_gray)]
        return warped[0], warped[1]
