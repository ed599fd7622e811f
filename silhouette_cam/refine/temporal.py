"""Temporal smoothing of the mask: blend with the previous mask where the image did not change.

Flicker is the mask changing where the picture did not; ghost trails are the mask lagging where the
picture did. So the blend weight of the current mask is 1 wherever the frame moved (no lag) and
`static_weight` where it is still (damped flicker), raised where the current mask is confident.
Works on a low-resolution grid (cheap); the edge-aware step afterwards restores full-res edges.
"""

from __future__ import annotations

import cv2
import numpy as np


class TemporalSmoother:
    """Stateful per-stream smoother; call `reset()` on a scene change or a new source.

    static_weight: weight of the current mask where nothing moved (0..1; 1 = no smoothing).
    motion_scale: grayscale change (0..1) above the noise floor at which the current mask takes over fully.
    noise_floor: grayscale change (0..1) treated as sensor noise.
    """

    def __init__(self, *, static_weight: float = 0.35, motion_scale: float = 0.3,
                 noise_floor: float = 0.02, confidence_gain: float = 0.0, flow: bool = True,
                 flow_long_side: int = 256) -> None:
        if not 0.0 < static_weight <= 1.0:
            raise ValueError(f"static_weight must be in (0, 1], got {static_weight}")
        if motion_scale <= 0:
            raise ValueError(f"motion_scale must be > 0, got {motion_scale}")
        self.static_weight = float(static_weight)
        self.motion_scale = float(motion_scale)
        self.noise_floor = float(noise_floor)
        self.confidence_gain = float(confidence_gain)
        self.flow, self.flow_long_side = bool(flow), int(flow_long_side)
        self._dis = None
        self._grid: tuple[np.ndarray, np.ndarray] | None = None  # pixel coordinates, cached per size
        self.reset()

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
        confidence = np.abs(prob - prev_mask)
        weight += self.static_weight + self.confidence_gain * confidence
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
