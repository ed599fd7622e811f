"""The four renderings: overlay, cutout (transparent / color / image / video / blur), silhouette, mask.

    renderer = FrameRenderer()
    image_rgb, rgba = renderer.render(frame_bgr, mask, settings)   # [H, W, 3] RGB uint8, [H, W, 4] or None

Full-frame buffers are allocated once per frame size and reused. Blending runs on uint8 with an
8-bit alpha (OpenCV's saturating multiply/add: faster than a float blend, at most 1 level off the
exact one; docs/pipeline.md has the numbers); a silhouette is one lookup table. Outputs rotate through a ring
of `ring` buffers, so a returned image stays valid until `ring - 1` more frames have been
rendered; copy it to keep it longer.
"""

from __future__ import annotations

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
        self._size: tuple[int, int] | None = None
        self._background = BackgroundSource()
        self._solid: dict[tuple[str, RGB], np.ndarray] = {}
        self._checker: np.ndarray | None = None
        self._silhouette_lut: tuple[tuple[RGB, RGB], np.ndarray] | None = None

    def _allocate(self, h: int, w: int) -> None:
        if self._size == (h, w):
            return
        self._size = (h, w)
        self._outputs = [np.empty((h, w, 3), np.uint8) for _ in range(self._ring)]
        self._rgba = [np.empty((h, w, 4), np.uint8) for _ in range(self._ring)]
        self._slot = 0
        self._rgb = np.empty((h, w, 3), np.uint8)
        self._alpha_u8 = np.empty((h, w), np.uint8)
        self._alpha3 = np.empty((h, w, 3), np.uint8)
        self._fg_part = np.empty((h, w, 3), np.uint8)
        self._class_rgb = np.empty((h, w, 3), np.uint8)
        self._blurred = np.empty((h, w, 3), np.uint8)
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
        out = self._outputs[self._slot]
        rgba_out = self._rgba[self._slot]
        self._slot = (self._slot + 1) % self._ring
        mode = settings.mode
        if mode == "mask":
            cv2.convertScaleAbs(mask, dst=self._alpha_u8, alpha=255.0)
            cv2.cvtColor(self._alpha_u8, cv2.COLOR_GRAY2RGB, dst=out)
            return out, None
        if mode == "silhouette":
            return self._silhouette(mask, parse_color(settings.person_color),
                                    parse_color(settings.silhouette_background), out), None
        cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB, dst=self._rgb)
        if mode == "overlay":
            return self._overlay(mask, settings, class_map, class_names, out), None
        if mode != "cutout":
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        background = settings.background
        if background == "transparent":
            if self._checker is None:
                self._checker = checkerboard(h, w, settings.checker_size)
            cv2.cvtColor(self._rgb, cv2.COLOR_RGB2RGBA, dst=rgba_out)
            cv2.convertScaleAbs(mask, dst=self._alpha_u8, alpha=255.0)
            rgba_out[..., 3] = self._alpha_u8
            return self._blend(self._checker, self._rgb, mask, out), rgba_out
        if background == "color":
            bg = self._solid_image("background", parse_color(settings.background_color))
        elif background == "blur":
            bg = mask_weighted_blur(self._rgb, mask, settings.blur_sigma, out=self._blurred)
        elif background in ("image", "video"):
            bg = self._background.frame(background, Path(settings.background_path), (w, h))
        else:
            raise ValueError(f"background {background!r} is not one of {', '.join(BACKGROUNDS)}")
        return self._blend(bg, self._rgb, mask, out), None

    def _blend(self, background: np.ndarray, foreground: np.ndarray, alpha: np.ndarray,
               out: np.ndarray, opacity: float = 1.0) -> np.ndarray:
        """out = background * (1 - a) + foreground * a, a = alpha * opacity per pixel (alpha [H, W]
        float32 0..1), in uint8: a rounded to 1/255 steps; each product rounded, so out is within 1 of
        exact (exact where a is 0 or 1)."""
        cv2.convertScaleAbs(alpha, dst=self._alpha_u8, alpha=255.0 * opacity)
        cv2.cvtColor(self._alpha_u8, cv2.COLOR_GRAY2RGB, dst=self._alpha3)
        cv2.multiply(foreground, self._alpha3, dst=self._fg_part, scale=1.0 / 255.0)
        cv2.bitwise_not(self._alpha3, dst=self._alpha3)                     # 255 - alpha
        cv2.multiply(background, self._alpha3, dst=out, scale=1.0 / 255.0)
        return cv2.add(out, self._fg_part, dst=out)

    def _silhouette(self, mask: np.ndarray, person: RGB, background: RGB, out: np.ndarray) -> np.ndarray:
        """Two constant colors blended by the mask: one lookup table from the 8-bit alpha."""
        key = (person, background)
        if self._silhouette_lut is None or self._silhouette_lut[0] != key:
            level = np.arange(256, dtype=np.float64)[:, None] / 255.0
            table = np.rint(np.array(background) * (1 - level) + np.array(person) * level)
            self._silhouette_lut = (key, table.astype(np.uint8).reshape(256, 1, 3))
        cv2.convertScaleAbs(mask, dst=self._alpha_u8, alpha=255.0)
        cv2.cvtColor(self._alpha_u8, cv2.COLOR_GRAY2RGB, dst=self._alpha3)
        return cv2.LUT(self._alpha3, self._silhouette_lut[1], dst=out)

    def _overlay(self, mask, settings, class_map, class_names, out) -> np.ndarray:
        opacity = float(settings.overlay_opacity)
        if class_map is not None and class_names is not None and len(class_names) > 2:
            lut = np.array([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(256)], np.uint8)
            np.take(lut, class_map, axis=0, out=self._class_rgb)
            self._blend(self._rgb, self._class_rgb, mask, out, opacity)
            draw_legend(out, class_names)
            return out
        tint = self._solid_image("overlay", parse_color(settings.overlay_color))
        return self._blend(self._rgb, tint, mask, out, opacity)


def draw_legend(image: np.ndarray, class_names: tuple[str, ...]) -> None:
    """Draw one color swatch + name per non-background class in the top-left corner, in place."""
    for i, name in enumerate(class_names[1:], start=1):
        y = 8 + (i - 1) * 20
        color = CLASS_COLORS[i % len(CLASS_COLORS)]
        cv2.rectangle(image, (8, y), (22, y + 14), color, thickness=-1)
        cv2.putText(image, name, (28, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(image, name, (28, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
