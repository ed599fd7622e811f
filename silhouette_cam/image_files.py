"""The project's one image reader and writer: any file name, bounded memory, no silent damage.

OpenCV's `imread`/`imwrite` take a C string: a file name that is not valid UTF-8 crashed the
process, and they decode any size the header claims. Here files are opened by Python (any name the
OS accepts), decoded by Pillow after the header's size is checked against a pixel limit, and written
with `cv2.imencode` + an atomic write (a full disk is an error, never a 0-byte file counted as
written). Errors are ValueError/OSError with one line naming the file.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from silhouette_cam.atomic_file import write_bytes
from silhouette_cam.choices import IMAGE_SUFFIXES
from silhouette_cam.errors import warn

MAX_PIXELS_ENV = "SILHOUETTE_CAM_MAX_PIXELS"
# 12.5 MP (e.g. 4330x2886): above any phone photo's default mode, and segmenting it stays well under
# 1 GB; a 30000x30000 PNG of 2.7 MB would otherwise need ~6 GB before anything could fail.
DEFAULT_MAX_PIXELS = 12_500_000
MIN_SIDE = 16  # smaller frames break internal steps (a half-size search pass, optical flow needs >= 12)

# Our own limit (checked before decoding) replaces Pillow's decompression-bomb guard, which would
# otherwise refuse files that SILHOUETTE_CAM_MAX_PIXELS explicitly allows.
Image.MAX_IMAGE_PIXELS = None


def max_pixels() -> int:
    """The pixel limit: $SILHOUETTE_CAM_MAX_PIXELS (a positive integer, `_` allowed) or 12.5 MP."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{MAX_PIXELS_ENV} must be a positive number of pixels, got {text!r}")
    return value


def check_image_size(name: str, width: int, height: int, limit: int | None = None, *,
                     min_side: int = MIN_SIDE) -> None:
    """Raise ValueError naming `name` when width x height is below min_side or over the pixel limit."""
    limit = max_pixels() if limit is None else limit
    if width * height > limit:
        raise ValueError(f"image {name} is {width}x{height} ({width * height / 1e6:.1f} MP), over the limit of "
                         f"{limit / 1e6:g} MP (set {MAX_PIXELS_ENV} to allow more)")
    if width < min_side or height < min_side:
        raise ValueError(f"image {name} is {width}x{height}, expected at least {min_side}x{min_side} pixels")


def read_image(path: str | os.PathLike, *, max_pixels_limit: int | None = None, min_side: int = MIN_SIDE) -> np.ndarray:
    """Read an image file -> `[H, W, 3]` uint8 BGR (gray, 16-bit, CMYK, palette and alpha become 3 channels;
    EXIF orientation applied, as cv2.imread does). Raises FileNotFoundError, or ValueError naming the file
    for one that is not an image, is over the pixel limit, under `min_side` pixels a side or is truncated/corrupt."""
    path = Path(path)
    name = os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")  # printable, always
    if not path.is_file():
        raise FileNotFoundError(f"image {name} does not exist")
    try:
        with open(path, "rb") as stream, warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow warns on some damaged files: treat them as damaged
            try:
                image = Image.open(stream)
            except Exception:
                raise ValueError(f"image {name} could not be decoded (expected a PNG, JPEG, BMP, WebP or "
                                 "TIFF file)") from None
            check_image_size(name, *image.size, limit=max_pixels_limit, min_side=min_side)
            report: list[str] = []
            try:
                with _decoder_messages(report, enabled=image.format == "TIFF"):
                    image.load()
                image = ImageOps.exif_transpose(image)
                frame = _to_bgr(image)
            except MemoryError:
                raise ValueError(f"image {name} ({image.size[0]}x{image.size[1]}) needs more memory than "
                                 "is free") from None
            except Exception as exc:  # Pillow raises many types for damaged data (OSError, SyntaxError, ...)
                detail = " ".join(str(exc).split()) or type(exc).__name__
                detail = f"{detail}: {report[0]}" if report else detail
                raise ValueError(f"image {name} is truncated or corrupt ({detail})") from None
            if report:
                warn(f"image {name}: the decoder reported damage ({report[0]}"
                     f"{f' and {len(report) - 1} more' if len(report) > 1 else ''}); kept what it decoded")
            return frame
    except OSError as exc:
        raise OSError(f"cannot read image {name}: {exc.strerror or exc}") from None


_stderr_lock = threading.Lock()


@contextmanager
def _decoder_messages(report: list[str], *, enabled: bool) -> Iterator[None]:
    """Collect what a C decoder prints to stderr (libtiff does: "tempfile.tif: Using code not yet in table",
    naming no file) into `report`, so the caller can say which file it was about, in one line."""
    if not enabled:
        yield
        return
    with _stderr_lock, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read(64_000).decode("utf-8", "replace").splitlines()
            report.extend(dict.fromkeys(" ".join(line.split()) for line in lines if line.strip()))


def _to_bgr(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> `[H, W, 3]` uint8 BGR; 16/32-bit values keep their top 8 bits (like OpenCV)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(image).astype(np.int64)
        gray = np.clip(values >> 8 if values.max(initial=0) > 255 else values, 0, 255).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if image.mode == "F":
        gray = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if image.mode != "RGB":
        image = image.convert("RGB")  # alpha is dropped, not composited (as cv2.IMREAD_COLOR does)
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def write_image(path: str | os.PathLike, image: np.ndarray, params: list[int] | None = None, *,
                what: str = "image") -> Path:
    """Encode `image` (uint8 `[H, W]` gray, `[H, W, 3]` BGR or `[H, W, 4]` BGRA) by the path's suffix and
    write it atomically. Raises ValueError for an image or suffix OpenCV cannot encode, OSError naming
    the file when it cannot be written (a full disk leaves no partial file). Returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"{what} {path}: suffix {path.suffix!r} is not one of {', '.join(IMAGE_SUFFIXES)}")
    ok, encoded = cv2.imencode(suffix, image, params or [])
    if not ok:
        raise ValueError(f"{what} {path}: OpenCV could not encode a {image.shape} {image.dtype} image as {suffix}")
    return write_bytes(path, encoded.data, what=what)
