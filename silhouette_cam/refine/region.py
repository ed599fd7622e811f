"""Track where the people are so the network can look at a zoomed-in crop of them.

The selfie network is trained on head-and-shoulders framing; a full-body or distant person covers
few of its 256x256 input pixels. The tracker turns the last mask into a crop box around every
person found (union), with a margin, eased over time so the crop does not jitter, and asks for a
periodic full-frame pass so people entering the picture are found.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, x1/y1 exclusive


class PersonRegionTracker:
    """Decides per frame: crop box (or None = whole frame) and whether to also run a full-frame pass.

    full_every: frames between full-frame passes while a crop is in use.
    margin: added on each side, as a fraction of the people's box size (limbs move fast).
    max_area: crops covering more than this fraction of the frame are not worth it (None is used).
    min_component: blobs smaller than this fraction of the largest one are noise, not people.
    ease: fraction of the way a shrinking box moves toward its target per frame (growing is immediate).
    """

    def __init__(self, *, full_every: int = 8, margin: float = 0.12, max_area: float = 0.8,
                 min_component: float = 0.15, ease: float = 0.25, min_size: int = 48,
                 min_aspect: float = 0.75) -> None:
        if full_every < 1:
            raise ValueError(f"full_every must be >= 1, got {full_every}")
        self.full_every, self.margin, self.max_area = int(full_every), float(margin), float(max_area)
        self.min_component, self.ease, self.min_size = float(min_component), float(ease), int(min_size)
        self.min_aspect = float(min_aspect)
        self.reset()

    def reset(self) -> None:
        self._box: np.ndarray | None = None  # float x0, y0, x1, y1
        self._since_full = 0
        self._last_target: np.ndarray | None = None
        self._velocity = np.zeros(4)  # per-frame motion of the people's box edges, frame pixels

    @property
    def box(self) -> Box | None:
        """The crop the next frame will use (None: the whole frame)."""
        return None if self._box is None else tuple(int(round(v)) for v in self._box)

    def plan(self) -> tuple[Box | None, bool]:
        """-> (crop box for this frame or None, run a full-frame pass this frame too)."""
        if self._box is None:
            return None, True
        self._since_full += 1
        full = self._since_full >= self.full_every
        if full:
            self._since_full = 0
        x0, y0, x1, y1 = (int(round(v)) for v in self._box)
        return (x0, y0, x1, y1), full

    def update(self, mask: np.ndarray, frame_size: tuple[int, int], crop: Box | None = None) -> None:
        """Feed this frame's mask ([h, w] float32 0..1 on a grid covering the whole frame of
        frame_size = (width, height)) and the crop it was made with; sets the crop for the next frame."""
        target = self._people_box(mask, frame_size)
        if target is None:
            self._box, self._since_full, self._last_target = None, 0, None
            return
        if self._last_target is not None:
            self._velocity = 0.5 * self._velocity + 0.5 * (target - self._last_target)
        self._last_target = target
        if crop is not None and self._touches_inner_edge(mask, frame_size, crop):
            self._since_full = self.full_every  # someone is leaving the crop: look at everything next
        # Lead a moving person by the box's recent motion (only outward: never cut what is seen now).
        # A dead zone of 2% of the box keeps mask wobble from breathing the crop.
        dead = 0.02 * max(target[2] - target[0], target[3] - target[1])
        moving = np.where(np.abs(self._velocity) > dead, self._velocity, 0.0)
        lead = np.array([min(moving[0], 0), min(moving[1], 0), max(moving[2], 0), max(moving[3], 0)])
        target = self._clip(target + lead, frame_size)
        if self._box is None:
            self._box = target
            return
        box = self._box
        grow = np.array([min(box[0], target[0]), min(box[1], target[1]),
                         max(box[2], target[2]), max(box[3], target[3])])
        # Grow at once (never cut a limb off); shrink slowly (no jitter, no pumping).
        self._box = grow + self.ease * (target - grow)

    @staticmethod
    def _clip(box: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
        fw, fh = frame_size
        return np.array([max(0.0, box[0]), max(0.0, box[1]), min(float(fw), box[2]), min(float(fh), box[3])])

    @staticmethod
    def _touches_inner_edge(mask: np.ndarray, frame_size: tuple[int, int], crop: Box) -> bool:
        """True when the mask reaches a crop edge that is not also the frame's edge."""
        sx, sy = mask.shape[1] / frame_size[0], mask.shape[0] / frame_size[1]
        x0, y0 = int(crop[0] * sx), int(crop[1] * sy)
        x1, y1 = min(int(np.ceil(crop[2] * sx)), mask.shape[1]) - 1, min(int(np.ceil(crop[3] * sy)), mask.shape[0]) - 1
        edges = []
        if x0 > 0:
            edges.append(mask[y0:y1 + 1, x0])
        if y0 > 0:
            edges.append(mask[y0, x0:x1 + 1])
        if x1 < mask.shape[1] - 1:
            edges.append(mask[y0:y1 + 1, x1])
        if y1 < mask.shape[0] - 1:
            edges.append(mask[y1, x0:x1 + 1])
        return any((edge > 0.5).any() for edge in edges)

    def _people_box(self, mask: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray | None:
        fw, fh = frame_size
        binary = (mask > 0.5).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        if count <= 1:
            return None
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = stats[1:][areas >= self.min_component * areas.max()]
        sx, sy = fw / mask.shape[1], fh / mask.shape[0]
        x0 = keep[:, cv2.CC_STAT_LEFT].min() * sx
        y0 = keep[:, cv2.CC_STAT_TOP].min() * sy
        x1 = (keep[:, cv2.CC_STAT_LEFT] + keep[:, cv2.CC_STAT_WIDTH]).max() * sx
        y1 = (keep[:, cv2.CC_STAT_TOP] + keep[:, cv2.CC_STAT_HEIGHT]).max() * sy
        w, h = x1 - x0, y1 - y0
        # Margin, then near-square: the network input is square and a stretched person looks unlike
        # its training data; min_aspect bounds how far from square the crop may be.
        bw = max(w * (1 + 2 * self.margin), self.min_size)
        bh = max(h * (1 + 2 * self.margin), self.min_size)
        bw, bh = max(bw, self.min_aspect * bh), max(bh, self.min_aspect * bw)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        bw, bh = min(bw, fw), min(bh, fh)
        x0 = float(np.clip(cx - bw / 2, 0, fw - bw))
        y0 = float(np.clip(cy - bh / 2, 0, fh - bh))
        if bw * bh > self.max_area * fw * fh:
            return None
        return np.array([x0, y0, x0 + bw, y0 + bh])
