"""Track where the people are so the network can look at zoomed-in crops of them.

The selfie network is trained on head-and-shoulders framing; a full-body or distant person covers
few of its 256x256 input pixels. The tracker groups the last mask's people into at most `max_crops`
clusters (people close together share a crop), follows each cluster with a crop box that has a
margin and is eased over time so it does not jitter, and asks for a periodic full-frame pass so
people entering the picture are found; when the whole frame shows nobody it also asks for zoomed-in
search tiles, for people too small for the whole-frame pass. Separate crops, not one box around
everybody: two people far apart in a wide shot would otherwise share a crop nearly as large as the
frame, and lose the zoom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, x1/y1 exclusive
SEARCH_TILE_COUNT = 4  # 2x2 search tiles


@dataclass(frozen=True)
class Plan:
    """What to run the network on for one frame."""

    crops: tuple[Box, ...] = ()   # zoomed-in crops around the tracked people
    whole: bool = True            # also the whole frame (always when nobody is tracked)
    search: tuple[Box, ...] = ()  # tiles to look for people the whole-frame pass is too coarse to see


@dataclass
class _Track:
    """One crop following a cluster of people: float box x0, y0, x1, y1 in frame pixels."""

    box: np.ndarray
    last_target: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # per-frame motion of the box edges
    misses: int = 0  # consecutive frames its people were not found


class PersonRegionTracker:
    """Decides per frame which crops to segment and whether to also run the whole frame.

    full_every: frames between full-frame passes while crops are in use.
    margin: added on each side, as a fraction of the people's box size (limbs move fast).
    max_area: a crop covering more than this fraction of the frame is not worth it: whole frame instead.
    min_component: blobs smaller than this fraction of the largest one are noise, not people.
    ease: fraction of the way a shrinking box moves toward its target per frame (growing is immediate).
    max_crops: at most this many crops per frame (clusters are merged, nearest first, to fit).
    patience: frames a crop is kept after its people were last found in it.
    search_every: while nobody is seen (after a first sweep over all tiles), frames between search tiles.
    search_tile: a search tile's width and height, as a fraction of the frame's (2x2 tiles, overlapping).
    """

    def __init__(self, *, full_every: int = 8, margin: float = 0.12, max_area: float = 0.8,
                 min_component: float = 0.15, ease: float = 0.25, min_size: int = 48,
                 min_aspect: float = 0.75, max_crops: int = 3, patience: int = 2,
                 search_every: int = 4, search_tile: float = 0.6) -> None:
        if full_every < 1:
            raise ValueError(f"full_every must be >= 1, got {full_every}")
        if max_crops < 1:
            raise ValueError(f"max_crops must be >= 1, got {max_crops}")
        if search_every < 1:
            raise ValueError(f"search_every must be >= 1, got {search_every}")
        if not 0.5 <= search_tile <= 1.0:
            raise ValueError(f"search_tile must be in 0.5..1 (tiles must cover the frame), got {search_tile}")
        self.full_every, self.margin, self.max_area = int(full_every), float(margin), float(max_area)
        self.min_component, self.ease, self.min_size = float(min_component), float(ease), int(min_size)
        self.min_aspect, self.max_crops, self.patience = float(min_aspect), int(max_crops), int(patience)
        self.search_every, self.search_tile = int(search_every), float(search_tile)
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._since_full = 0
        # Searching starts when a frame shows nobody (not before the first frame: no tile is spent
        # where the whole frame would do).
        self._nobody_seen, self._sweep_left, self._since_search, self._search_index = False, 0, 0, -1

    @property
    def boxes(self) -> tuple[Box, ...]:
        """The crops the next frame will use (empty: the whole frame)."""
        return tuple(tuple(int(round(v)) for v in track.box) for track in self._tracks)

    @property
    def sweeping(self) -> bool:
        """True while a sweep over the search tiles is under way (see `_next_search_tile`)."""
        return self._sweep_left > 0

    @property
    def box(self) -> Box | None:
        """The region the next frame's crops cover together (None: the whole frame)."""
        if not self._tracks:
            return None
        boxes = np.array(self.boxes)
        return (int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max()))

    def plan(self, frame_size: tuple[int, int] | None = None) -> Plan:
        """-> what to segment in the next frame, of frame_size = (width, height) (None: never a
        search tile)."""
        search = self._next_search_tile(frame_size)
        if not self._tracks:
            return Plan(search=search)
        self._since_full += 1
        whole = self._since_full >= self.full_every
        if whole:
            self._since_full = 0
        return Plan(crops=self.boxes, whole=whole, search=search)

    def search_tiles(self, frame_size: tuple[int, int]) -> tuple[Box, ...]:
        """The 2x2 overlapping tiles, each `search_tile` of the frame's width and height, that a
        frame with nobody in sight is searched in, one per frame."""
        fw, fh = frame_size
        tw, th = round(fw * self.search_tile), round(fh * self.search_tile)
        return tuple((x, y, x + tw, y + th) for y in (0, fh - th) for x in (0, fw - tw))

    def _next_search_tile(self, frame_size: tuple[int, int] | None) -> tuple[Box, ...]:
        """Search tiles when a frame shows nobody: people who are small in a wide shot (a meeting
        room's camera) are too few of the network's input pixels, and a tile zooms in 2.8x by area.
        A frame with nobody in sight starts a sweep over all the tiles, one per frame, finished
        even when the first tiles find people (the others may hold more); then, while still
        nobody is seen, one tile every `search_every` frames. Never while the whole frame shows
        somebody: an unlabelled bystander would take a crop or widen the main subject's (DAVIS
        dance-twirl, searching always: IoU 0.77 -> 0.74)."""
        if frame_size is None:
            return ()
        if self._sweep_left > 0:
            self._sweep_left -= 1
        elif not self._nobody_seen:
            return ()
        else:
            self._since_search += 1
            if self._since_search < self.search_every:
                return ()
        self._since_search = 0
        tiles = self.search_tiles(frame_size)
        self._search_index = (self._search_index + 1) % SEARCH_TILE_COUNT
        return (tiles[self._search_index],)

    def update(self, mask: np.ndarray, frame_size: tuple[int, int], found: np.ndarray | None = None) -> None:
        """Feed this frame's mask ([h, w] float32 0..1 on a grid covering the whole frame of
        frame_size = (width, height)) and what this frame's search tile found (same grid, or None);
        sets the crops for the next frame. Someone found only in the search tile gets a crop from
        the next frame on. (Someone reaching past a crop needs no extra pass here: the refiner
        segments the whole frame in that very frame, and the crop grows to them at once.)"""
        seen = mask if found is None else np.maximum(mask, found)
        binary = cv2.compare(seen, 0.5, cv2.CMP_GT)  # [h, w] uint8 0/255
        people = cv2.boundingRect(binary)             # x, y, w, h of everybody together
        nobody_seen = people[2] == 0
        if nobody_seen and not self._nobody_seen:  # from now on nobody in sight: sweep the tiles
            # (from the tile after the last one searched: a sweep cut short by someone only a tile
            # sees, not their crop, must not keep searching the same first tiles)
            self._sweep_left, self._since_search = SEARCH_TILE_COUNT, 0
        self._nobody_seen = nobody_seen
        targets = self._people_boxes(binary, people, frame_size)
        if not targets:  # nobody, or somebody filling the frame: the whole frame from now on
            self._tracks, self._since_full = [], 0
            return
        matched: set[int] = set()
        for target in targets:
            overlaps = [(_iou(target, track.box), i) for i, track in enumerate(self._tracks) if i not in matched]
            best = max(overlaps, default=(0.0, -1))
            if best[0] > 0:
                matched.add(best[1])
                self._follow(self._tracks[best[1]], target, frame_size, frame_size[0] / mask.shape[1])
            else:
                self._tracks.append(_Track(box=target, last_target=target))
                matched.add(len(self._tracks) - 1)
        for i, track in enumerate(self._tracks):
            track.misses = 0 if i in matched else track.misses + 1
        self._tracks = [t for t in self._tracks if t.misses <= self.patience]
        self._merge_overlapping_tracks()

    def _follow(self, track: _Track, target: np.ndarray, frame_size: tuple[int, int], grid_pixel: float) -> None:
        """Move a track's box toward its people's new crop box (grid_pixel: a mask pixel's size in frame pixels)."""
        track.velocity = 0.5 * track.velocity + 0.5 * (target - track.last_target)
        track.last_target = target
        # Lead a moving person by the box's recent motion (only outward: never cut what is seen now).
        # A dead zone of 2% of the box, and more than a mask pixel, keeps mask wobble from breathing the crop.
        dead = max(0.02 * max(target[2] - target[0], target[3] - target[1]), 1.5 * grid_pixel)
        moving = np.where(np.abs(track.velocity) > dead, track.velocity, 0.0)
        lead = np.array([min(moving[0], 0), min(moving[1], 0), max(moving[2], 0), max(moving[3], 0)])
        target = self._clip(target + lead, frame_size)
        grow = _union(track.box, target)
        # Grow at once (never cut a limb off); shrink slowly (no jitter, no pumping).
        track.box = grow + self.ease * (target - grow)

    def _merge_overlapping_tracks(self) -> None:
        """Crops that mostly overlap (people walked together) become one; too many become fewer."""
        while (pair := _pair_to_merge(boxes := np.array([t.box for t in self._tracks]), boxes,
                                      self.max_crops)) is not None:
            keep, drop = self._tracks[pair[0]], self._tracks.pop(pair[1])
            keep.box = _union(keep.box, drop.box)
            keep.last_target = _union(keep.last_target, drop.last_target)
            keep.misses = min(keep.misses, drop.misses)

    @staticmethod
    def _clip(box: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
        fw, fh = frame_size
        return np.array([max(0.0, box[0]), max(0.0, box[1]), min(float(fw), box[2]), min(float(fh), box[3])])

    def _people_boxes(self, binary: np.ndarray, people: tuple[int, int, int, int],
                      frame_size: tuple[int, int]) -> list[np.ndarray]:
        """Crop boxes (float, frame pixels) around the people in binary ([h, w] uint8, nonzero:
        person; `people` the box x, y, w, h around its nonzero pixels), clustered to at most
        max_crops; [] when there is nobody or when a crop would cover most of the frame anyway."""
        px, py, pw, ph = people
        if pw == 0:
            return []
        # Labelled inside the people's box only (a third of a webcam grid, less for a full body).
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary[py:py + ph, px:px + pw], connectivity=8)
        if count <= 1:
            return []
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = stats[1:][areas >= self.min_component * areas.max()]
        sx, sy = frame_size[0] / binary.shape[1], frame_size[1] / binary.shape[0]
        x, y = (keep[:, cv2.CC_STAT_LEFT] + px) * sx, (keep[:, cv2.CC_STAT_TOP] + py) * sy
        people = np.stack([x, y, x + keep[:, cv2.CC_STAT_WIDTH] * sx, y + keep[:, cv2.CC_STAT_HEIGHT] * sy], axis=1)
        # Cluster: people whose crops would mostly overlap share one; then the nearest clusters merge
        # until max_crops remain.
        clusters = people
        while (pair := _pair_to_merge(self._crops_around(clusters, frame_size), clusters, self.max_crops)) is not None:
            merged = _union(clusters[pair[0]], clusters[pair[1]])
            clusters = np.vstack([np.delete(clusters, pair, axis=0), merged])
        crops = self._crops_around(clusters, frame_size)
        if (_areas(crops) > self.max_area * frame_size[0] * frame_size[1]).any():
            return []
        return list(crops)

    def _crops_around(self, people: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
        """The crop boxes [n, 4] for boxes of people [n, 4]: margin, then near-square (the network input
        is square and a stretched person looks unlike its training data; min_aspect bounds how far from
        square the crop may be), inside the frame."""
        fw, fh = frame_size
        x0, y0, x1, y1 = people.T
        bw = np.maximum((x1 - x0) * (1 + 2 * self.margin), self.min_size)
        bh = np.maximum((y1 - y0) * (1 + 2 * self.margin), self.min_size)
        bw, bh = np.maximum(bw, self.min_aspect * bh), np.maximum(bh, self.min_aspect * bw)
        bw, bh = np.minimum(bw, fw), np.minimum(bh, fh)
        left = np.clip((x0 + x1) / 2 - bw / 2, 0, fw - bw)
        top = np.clip((y0 + y1) / 2 - bh / 2, 0, fh - bh)
        return np.stack([left, top, left + bw, top + bh], axis=1)


def _pair_to_merge(crops: np.ndarray, contents: np.ndarray, max_count: int) -> tuple[int, int] | None:
    """Which two of these crops [n, 4] (i < j) to merge next: the pair overlapping most when it
    overlaps by more than half of the smaller crop, else, while there are more than max_count, the
    pair whose contents' [n, 4] union is smallest (the nearest). None: leave them as they are.
    Pairwise matrices, not a loop over pairs: a crowd gives dozens of blobs on the analysis thread."""
    n = len(crops)
    if n < 2:
        return None
    upper = np.triu(np.ones((n, n), bool), k=1)  # pairs i < j; argmax / argmin pick the first, in (i, j) order
    areas = _areas(crops)
    overlap = _pairwise_area(crops) / np.maximum(np.minimum(areas[:, None], areas[None, :]), 1e-9)
    most = np.unravel_index(np.argmax(np.where(upper, overlap, -np.inf)), (n, n))
    if overlap[most] > 0.5:
        return int(most[0]), int(most[1])
    if n > max_count:
        union_areas = _pairwise_area(contents, around=True)
        nearest = np.unravel_index(np.argmin(np.where(upper, union_areas, np.inf)), (n, n))
        return int(nearest[0]), int(nearest[1])
    return None


def _areas(boxes: np.ndarray) -> np.ndarray:
    """[n, 4] boxes -> [n] areas."""
    return np.maximum(boxes[:, 2] - boxes[:, 0], 0.0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0.0)


def _pairwise_area(boxes: np.ndarray, *, around: bool = False) -> np.ndarray:
    """[n, 4] boxes -> [n, n] areas of their pairwise intersections, or (around) of the box around each pair."""
    first, second = boxes[:, None], boxes[None, :]
    if around:
        low, high = np.minimum(first[..., :2], second[..., :2]), np.maximum(first[..., 2:], second[..., 2:])
    else:
        low, high = np.maximum(first[..., :2], second[..., :2]), np.minimum(first[..., 2:], second[..., 2:])
    return np.prod(np.maximum(high - low, 0.0), axis=2)


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = float(_pairwise_area(np.array([a, b]))[0, 1])
    area_a, area_b = _areas(np.array([a, b]))
    return inter / max(float(area_a + area_b) - inter, 1e-9)
