"""Cutout backgrounds: color parsing, a background image or looping video fitted to the frame, and a
blur of the real background that the person does not bleed into."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

NAMED_COLORS = {"black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 177, 64),
                "blue": (0, 71, 187), "gray": (128, 128, 128), "grey": (128, 128, 128),
                "yellow": (255, 220, 0), "magenta": (255, 0, 255), "cyan": (0, 255, 255)}


def parse_color(value: object, *, name: str = "color") -> tuple[int, int, int]:
    """RGB tuple from (r, g, b) 0..255, '#rrggbb', 'r,g,b' or a name (black, white, green, ...)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in NAMED_COLORS:
            return NAMED_COLORS[text]
        if text.startswith("#") and len(text) == 7:
            try:
                return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
            except ValueError:
                pass
        parts = text.split(",")
        if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
            value = tuple(int(p) for p in parts)
        else:
            raise ValueError(f"{name} {value!r} is not a color (expected #rrggbb, r,g,b or one of "
                             f"{', '.join(NAMED_COLORS)})")
    if (not isinstance(value, tuple | list) or len(value) != 3
            or not all(isinstance(c, int | np.integer) and 0 <= c <= 255 for c in value)):
        raise ValueError(f"{name} {value!r} is not an RGB color (expected three integers 0..255)")
    return (int(value[0]), int(value[1]), int(value[2]))


def fit_cover(image: np.ndarray, size: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """Scale and centre-crop `image` to fill `size` = (width, height) without distortion."""
    w, h = size
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    cw, ch = min(iw, round(w / scale)), min(ih, round(h / scale))
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    return cv2.resize(image[y0:y0 + ch, x0:x0 + cw], (w, h), dst=out, interpolation=cv2.INTER_AREA)


class BackgroundSource:
    """Serves a frame-sized RGB background from an image file (loaded once) or a looping video."""

    def __init__(self) -> None:
        self._key: tuple[str, Path, tuple[int, int]] | None = None
        self._image: np.ndarray | None = None
        self._video = None

    def frame(self, kind: str, path: Path, size: tuple[int, int]) -> np.ndarray:
        """kind "image" | "video"; path the file; size (width, height) -> [H, W, 3] RGB uint8."""
        key = (kind, path, size)
        if key != self._key:
            self.close()
            if kind == "image":
                from silhouette_cam.image_files import read_image  # Pillow: any file name, a pixel limit

                try:
                    bgr = read_image(path, min_side=1)  # any size: it is scaled to cover the frame
                except (OSError, ValueError) as exc:
                    raise ValueError(f"background image cannot be used: {exc}") from None
                self._image = cv2.cvtColor(fit_cover(bgr, size), cv2.COLOR_BGR2RGB)
            else:
                from silhouette_cam.sources import VideoFileSource  # sources imports PyAV; only when used

                self._video = VideoFileSource(path, loop=True)
                self._image = np.empty((size[1], size[0], 3), np.uint8)
            self._key = key
        if self._video is not None:
            item = self._video.read()
            if item is not None:
                fit_cover(item[0], size, out=self._image)
                cv2.cvtColor(self._image, cv2.COLOR_BGR2RGB, dst=self._image)
        return self._image

    def close(self) -> None:
        if self._video is not None:
            self._video.close()
        self._video, self._image, self._key = None, None, None


def mask_weighted_blur(rgb: np.ndarray, mask: np.ndarray, sigma: float, downscale: int = 4,
                       out: np.ndarray | None = None) -> np.ndarray:
    """Blur of the background only: [H, W, 3] RGB uint8 + person mask [H, W] float32 0..1 ->
    [H, W, 3] uint8 (written into `out` when given). Normalised convolution (blur(image * w) / blur(w),
    w = 1 - mask) so person pixels do not smear a halo into the blur; computed at 1/downscale
    resolution (a blur loses detail anyway): the only full-resolution pass is the final upscale."""
    h, w = mask.shape
    size = (max(1, w // downscale), max(1, h // downscale))
    small = _area_downscale(rgb, size).astype(np.float32)
    weight = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    np.subtract(np.float32(1.0), weight, out=weight)
    s = max(0.5, sigma / downscale)
    num = cv2.GaussianBlur(small * weight[..., None], (0, 0), s)
    den = cv2.GaussianBlur(weight, (0, 0), s)
    covered = den <= 1e-3
    np.maximum(den, np.float32(1e-3), out=den)
    np.divide(num, den[..., None], out=num)
    if covered.any():
        # Where the person covers the whole neighbourhood, fall back to the plain blur.
        np.copyto(num, cv2.GaussianBlur(small, (0, 0), s), where=covered[..., None])
    blurred = cv2.convertScaleAbs(num)  # rounds and saturates to 0..255 (values are >= 0)
    return cv2.resize(blurred, (w, h), dst=out, interpolation=cv2.INTER_LINEAR)


def _area_downscale(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """INTER_AREA to `size` = (width, height), halving first while an exact halving stays at or
    above `size` (OpenCV's 2x path is ~3x faster than its general one; the result is within 1
    level of a direct downscale)."""
    width, height = size
    while (image.shape[1] % 2 == 0 and image.shape[0] % 2 == 0
           and image.shape[1] >= 2 * width and image.shape[0] >= 2 * height):
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
