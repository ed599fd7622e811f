"""The four renderings: overlay, cutout (transparent / color / image / video / blur), silhouette, mask.

    renderer = FrameRenderer()
    image_rgb, rgba = renderer.render(frame_bgr, mask, settings)   # [H, W, 3] RGB uint8, [H, W, 4] or None

Full-frame buffers are allocated once per frame size and reused. Blending runs on uint8 with an
8-bit alpha (OpenCV's saturating multiply/add: faster than a float blend, at most 1 level off the
exact one; docs/pipeline.md has the numbers); a silhouette is one lookup table.

Outputs are read-only views of a ring of buffers (OutputRing): a buffer is drawn into again only
after `ring - 1` more frames AND once nothing holds a view of it any more, so a returned image
stays valid for as long as it is kept (the writer thread keeps frames without copying them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from silhouette_cam.choices import BACKGROUNDS, MODES
from silhouette_cam.render.backgrounds import BackgroundSource, mask_weighted_blur, parse_color
from silhouette_cam.setting import check_settings, setting

RGB = tuple[int, int, int]
# One color per class for multi-class overlays (class 0 = background is never tinted).
CLASS_COLORS: tuple[RGB, ...] = ((0, 0, 0), (255, 64, 64), (64, 200, 64), (64, 128, 255), (255, 200, 0),
                                 (200, 64, 255), (0, 220, 220), (255, 128, 0), (128, 128, 128), (255, 0, 128))


@dataclass(frozen=True)
class RenderSettings:
    """What to draw. Colors are RGB 0..255 tuples (or strings accepted by `parse_color`); the fields
    made with `setting(...)` are the user's (flags, labels, ranges: see silhouette_cam/setting.py)."""

    mode: str = setting("overlay", kind="choice", choices=MODES, flag="--mode", label="Mode",
                        help="what to draw: the person tinted, cut out, as a solid silhouette, or the mask")
    overlay_color: RGB = setting((0, 170, 255), kind="color", parse=parse_color, flag="--overlay-color",
                                 label="Tint", help="overlay: the person's tint (#rrggbb, r,g,b or a name)",
                                 group="overlay")
    overlay_opacity: float = setting(0.5, kind="number", minimum=0.0, maximum=1.0, unit="%", flag="--opacity",
                                     label="Opacity", help="overlay: tint opacity, 0 invisible .. 1 opaque",
                                     group="overlay")
    background: str = setting("transparent", kind="choice", choices=BACKGROUNDS, flag="--background",
                              label="Background", help="cutout: what replaces the background", group="cutout")
    background_color: RGB = setting((0, 177, 64), kind="color", parse=parse_color, label="Color",
                                    help="cutout: the background color", group="cutout")
    background_path: str | None = setting(None, kind="path", label="File",
                                          help="cutout: the background image or video file", group="cutout")
    blur_sigma: float = setting(12.0, kind="number", minimum=1.0, maximum=60.0, unit=" px", flag="--blur",
                                label="Blur", help="cutout with a blurred background: Gaussian sigma in frame "
                                "pixels", group="cutout")
    person_color: RGB = setting((255, 255, 255), kind="color", parse=parse_color, flag="--person-color",
                                label="Person", help="silhouette: the person's color", group="silhouette")
    silhouette_background: RGB = setting((0, 0, 0), kind="color", parse=parse_color,
                                         flag="--silhouette-background", label="Background",
                                         help="silhouette: the background's color", group="silhouette")
    checker_size: int = 16                    # transparent cutout on screen: checkerboard square, px

    def validate(self) -> RenderSettings:
        """A checked copy (colors as (r, g, b) tuples); ValueError naming the flag or control."""
        checked = check_settings(self)
        if checked.background in ("image", "video") and not checked.background_path:
            raise ValueError(f"--background {checked.background} needs a file: give the file itself "
                             "(--background beach.jpg)")
        if not 4 <= int(checked.checker_size) <= 256:
            raise ValueError(f"checker_size must be in 4..256 pixels, got {checked.checker_size}")
        return checked


def checkerboard(height: int, width: int, square: int = 16) -> np.ndarray:
    """[H, W, 3] uint8 light/dark grey checkerboard (the usual 'transparent' pattern)."""
    ys, xs = np.indices((height, width))
    light = ((ys // square + xs // square) % 2 == 0)
    board = np.where(light, 204, 153).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


class FrameRenderer:
    """Stateful renderer (buffers, background source); one per pipeline; not thread-safe."""

    def __init__(self, ring: int = 4) -> None:
        if ring < 2:
            raise ValueError(f"ring must be >= 2, got {ring}")
        self._ring = ring
        self._outputs: OutputRing | None = None
        self._size: tuple[int, int] | None = None
        self._background = BackgroundSource()
        self._solid: dict[tuple[str, RGB], np.ndarray] = {}
        self._checker: np.ndarray | None = None
        self._silhouette_lut: tuple[tuple[RGB, RGB], np.ndarray] | None = None

    def _allocate(self, h: int, w: int) -> None:
        if self._size == (h, w):
            return
        self._size = (h, w)
        self._outputs = OutputRing((h, w), self._ring)
        self._rgb = np.empty((h, w, 3), np.uint8)
        self._alpha_u8 = np.empty((h, w), np.uint8)
        self._alpha3 = np.empty((h, w, 3), np.uint8)
        self._fg_part = np.empty((h, w, 3), np.uint8)
        self._class_rgb = np.empty((h, w, 3), np.uint8)
        self._solid.clear()
        self._checker = None

    def _solid_image(self, role: str, color: RGB) -> np.ndarray:
        """A frame-sized image of one color, kept while the color does not change."""
        key = (role, color)
        if key not in self._solid:
            for old in [k for k in self._solid if k[0] == role]:
                del self._solid[old]
            h, w = self._size
            self._solid[key] = np.full((h, w, 3), color, np.uint8)
        return self._solid[key]

    def close(self) -> None:
        self._background.close()

    def render(self, frame_bgr: np.ndarray, mask: np.ndarray, settings: RenderSettings,
               class_map: np.ndarray | None = None,
               class_names: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """frame [H, W, 3] uint8 BGR + mask [H, W] float32 0..1 -> (image [H, W, 3] RGB uint8,
        rgba [H, W, 4] uint8 for a transparent cutout else None). class_map [H, W] uint8 (class ids)
        with class_names colors multi-class overlays."""
        h, w = frame_bgr.shape[:2]
        if mask.shape != (h, w):
            raise ValueError(f"mask shape {mask.shape} != frame size {(h, w)}")
        self._allocate(h, w)
        slot = self._outputs.take()
        image, rgba = self._draw(frame_bgr, mask, settings, class_map, class_names, slot)
        return _read_only(image), None if rgba is None else _read_only(rgba)

    def _draw(self, frame_bgr, mask, settings, class_map, class_names, slot: OutputSlot):
        h, w = frame_bgr.shape[:2]
        out, mode = slot.image, settings.mode
        known, slot.solid_outside = slot.solid_outside, None  # what it held; drawing may change it
        if mode == "mask":
            cv2.convertScaleAbs(mask, dst=self._alpha_u8, alpha=255.0)
            cv2.cvtColor(self._alpha_u8, cv2.COLOR_GRAY2RGB, dst=out)
            return out, None
        if mode == "silhouette":
            return self._silhouette(mask, parse_color(settings.person_color),
                                    parse_color(settings.silhouette_background), slot, known), None
        if mode == "overlay":  # the frame is the background: converted straight into the output
            cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB, dst=out)
            return self._overlay(mask, settings, class_map, class_names, out), None
        cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB, dst=self._rgb)
        if mode != "cutout":
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        background = settings.background
        if background == "transparent":
            if self._checker is None:
                self._checker = checkerboard(h, w, settings.checker_size)
            rgba_out = slot.rgba()
            cv2.cvtColor(self._rgb, cv2.COLOR_RGB2RGBA, dst=rgba_out)
            cv2.convertScaleAbs(mask, dst=self._alpha_u8, alpha=255.0)
            rgba_out[..., 3] = self._alpha_u8
            # The checkerboard changes only with the frame size, which brings a new ring.
            return self._blend(self._checker, self._rgb, mask, out, slot=slot, known=known, key=("checker",)), rgba_out
        if background == "color":
            color = parse_color(settings.background_color)
            bg = self._solid_image("background", color)
            return self._blend(bg, self._rgb, mask, out, slot=slot, known=known, key=("background", color)), None
        if background == "blur":  # blurred straight into the output, then blended in place: no copy
            bg = mask_weighted_blur(self._rgb, mask, settings.blur_sigma, out=out)
        elif background in ("image", "video"):
            bg = self._background.frame(background, Path(settings.background_path), (w, h))
        else:
            raise ValueError(f"background {background!r} is not one of {', '.join(BACKGROUNDS)}")
        return self._blend(bg, self._rgb, mask, out), None

    def _blend(self, background: np.ndarray, foreground: np.ndarray, alpha: np.ndarray,
               out: np.ndarray, opacity: float = 1.0, *, slot: OutputSlot | None = None,
               known: SolidOutside | None = None, key: tuple | None = None) -> np.ndarray:
        """out = background * (1 - a) + foreground * a, a = alpha * opacity per pixel (alpha [H, W]
        float32 0..1), in uint8: a rounded to 1/255 steps; each product rounded, so out is within 1 of
        exact (exact where a is 0 or 1). `background` may be `out` itself.

        Blended only in the box around the pixels where a is not 0 (the person: often a third of
        the frame); elsewhere out is the background as is, which the blend would give exactly.
        A constant background (a color, the checkerboard: `key` names it; `slot` is out's, `known`
        what it held) is painted only where the buffer may differ from it (see _paint_outside)."""
        cv2.convertScaleAbs(alpha, dst=self._alpha_u8, alpha=255.0 * opacity)
        box = _nonzero_box(self._alpha_u8)
        if slot is not None:
            _paint_outside(background, slot, known, key, box)
        elif background is not out:
            _copy_outside(background, out, box)
        if box is None:
            return out
        y0, y1, x0, x1 = box
        alpha3, fg_part, target = self._alpha3[y0:y1, x0:x1], self._fg_part[y0:y1, x0:x1], out[y0:y1, x0:x1]
        cv2.cvtColor(self._alpha_u8[y0:y1, x0:x1], cv2.COLOR_GRAY2RGB, dst=alpha3)
        cv2.multiply(foreground[y0:y1, x0:x1], alpha3, dst=fg_part, scale=1.0 / 255.0)
        cv2.bitwise_not(alpha3, dst=alpha3)                     # 255 - alpha
        cv2.multiply(background[y0:y1, x0:x1], alpha3, dst=target, scale=1.0 / 255.0)
        cv2.add(target, fg_part, dst=target)
        return out

    def _silhouette(self, mask: np.ndarray, person: RGB, background: RGB, slot: OutputSlot,
                    known: SolidOutside | None) -> np.ndarray:
        """Two constant colors blended by the mask: one lookup table from the 8-bit alpha."""
        out = slot.image
        key = (person, background)
        if self._silhouette_lut is None or self._silhouette_lut[0] != key:
            level = np.arange(256, dtype=np.float64)[:, None] / 255.0
            table = np.rint(np.array(background) * (1 - level) + np.array(person) * level)
            self._silhouette_lut = (key, table.astype(np.uint8).reshape(256, 1, 3))
        cv2.convertScaleAbs(mask, dst=self._alpha_u8, alpha=255.0)
        # The lookup only around the person: elsewhere the alpha is 0, the background color.
        box = _nonzero_box(self._alpha_u8)
        _paint_outside(self._solid_image("silhouette", background), slot, known, ("silhouette", background), box)
        if box is not None:
            y0, y1, x0, x1 = box
            alpha3 = self._alpha3[y0:y1, x0:x1]
            cv2.cvtColor(self._alpha_u8[y0:y1, x0:x1], cv2.COLOR_GRAY2RGB, dst=alpha3)
            cv2.LUT(alpha3, self._silhouette_lut[1], dst=out[y0:y1, x0:x1])
        return out

    def _overlay(self, mask, settings, class_map, class_names, out) -> np.ndarray:
        """out holds the frame (RGB) already: the tint is blended over it in place."""
        opacity = float(settings.overlay_opacity)
        if class_map is not None and class_names is not None and len(class_names) > 2:
            lut = np.array([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(256)], np.uint8)
            np.take(lut, class_map, axis=0, out=self._class_rgb)
            self._blend(out, self._class_rgb, mask, out, opacity)
            draw_legend(out, class_names)
            return out
        tint = self._solid_image("overlay", parse_color(settings.overlay_color))
        return self._blend(out, tint, mask, out, opacity)


Box = tuple[int, int, int, int]  # rows y0:y1, columns x0:x1


def _nonzero_box(alpha_u8: np.ndarray) -> Box | None:
    """[H, W] uint8 -> the box (y0, y1, x0, x1) around its nonzero pixels, None when there are none."""
    x, y, w, h = cv2.boundingRect(alpha_u8)
    return (y, y + h, x, x + w) if w else None


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view (it keeps the buffer held, see OutputRing; nobody draws into a shown frame)."""
    view = array.view()
    view.flags.writeable = False
    return view


SolidOutside = tuple[tuple, Box | None]  # (solid background's key, box): the buffer is that color outside box


@dataclass(eq=False)
class OutputSlot:
    """One output buffer of the ring, and what it is known to hold (renderer-internal)."""

    image: np.ndarray                              # [H, W, 3] uint8
    _rgba: np.ndarray | None = None                # [H, W, 4] uint8, made on first use
    solid_outside: SolidOutside | None = None      # None: unknown

    def rgba(self) -> np.ndarray:
        if self._rgba is None:
            self._rgba = np.empty((*self.image.shape[:2], 4), np.uint8)
        return self._rgba

    def held_elsewhere(self) -> bool:
        """True while anything but this slot references its buffers (a returned view counts)."""
        # getrefcount's own argument, the attribute: 2 for a buffer nobody else holds.
        return sys.getrefcount(self.image) > 2 or (self._rgba is not None and sys.getrefcount(self._rgba) > 2)


class OutputRing:
    """The renderer's output buffers: taken in turn, skipping any still held elsewhere (then a new one
    joins the ring; at most `limit` are tracked, past that the oldest is left to its holder)."""

    def __init__(self, size: tuple[int, int], ring: int, limit: int = 16) -> None:
        self._size, self._limit = size, max(limit, ring)
        self._slots = [OutputSlot(np.empty((*size, 3), np.uint8)) for _ in range(ring)]
        self._next = 0

    def take(self) -> OutputSlot:
        count = len(self._slots)
        for step in range(count):
            index = (self._next + step) % count
            if not self._slots[index].held_elsewhere():
                self._next = (index + 1) % count
                return self._slots[index]
        slot = OutputSlot(np.empty((*self._size, 3), np.uint8))  # every buffer is held: one more
        position = self._next % count
        if count >= self._limit:
            self._slots[position] = slot  # the one it replaces stays alive for its holder, untracked
        else:
            self._slots.insert(position, slot)
        self._next = (position + 1) % len(self._slots)
        return slot


def _paint_outside(background: np.ndarray, slot: OutputSlot, known: SolidOutside | None, key: tuple,
                   box: Box | None) -> None:
    """slot.image = background (an image that does not change, named `key`) everywhere but inside
    box, then noted.

    When the buffer already held that color outside an earlier box (`known`, its state before this
    frame), only that box's part outside the new one is painted: a silhouette's background costs a
    strip per frame instead of most of the frame (0.8 ms a 720p frame on a 2-core VM)."""
    if known is not None and known[0] == key:
        if known[1] is not None:
            for y0, y1, x0, x1 in _minus(known[1], box):
                np.copyto(slot.image[y0:y1, x0:x1], background[y0:y1, x0:x1])
    else:
        _copy_outside(background, slot.image, box)
    slot.solid_outside = (key, box)


def _minus(a: Box, b: Box | None) -> list[Box]:
    """Box a without box b: up to four boxes (rows y0:y1, columns x0:x1), none empty."""
    y0, y1, x0, x1 = a
    if b is None:
        return [a]
    iy0, iy1, ix0, ix1 = max(y0, b[0]), min(y1, b[1]), max(x0, b[2]), min(x1, b[3])
    if iy0 >= iy1 or ix0 >= ix1:
        return [a]
    parts = ((y0, iy0, x0, x1), (iy1, y1, x0, x1), (iy0, iy1, x0, ix0), (iy0, iy1, ix1, x1))
    return [p for p in parts if p[0] < p[1] and p[2] < p[3]]


def _copy_outside(src: np.ndarray, dst: np.ndarray, box: Box | None) -> None:
    """dst = src everywhere but inside box (all of it when box is None): four bands, no pixel twice."""
    if box is None:
        np.copyto(dst, src)
        return
    y0, y1, x0, x1 = box
    for rows, cols in ((slice(0, y0), slice(None)), (slice(y1, None), slice(None)),
                       (slice(y0, y1), slice(0, x0)), (slice(y0, y1), slice(x1, None))):
        np.copyto(dst[rows, cols], src[rows, cols])


def draw_legend(image: np.ndarray, class_names: tuple[str, ...]) -> None:
    """Draw one color swatch + name per non-background class in the top-left corner, in place."""
    for i, name in enumerate(class_names[1:], start=1):
        y = 8 + (i - 1) * 20
        color = CLASS_COLORS[i % len(CLASS_COLORS)]
        cv2.rectangle(image, (8, y), (22, y + 14), color, thickness=-1)
        cv2.putText(image, name, (28, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(image, name, (28, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
