"""VirtualCamera: sends rendered frames to a virtual camera (pyvirtualcam), for any video call.

    with VirtualCamera(size=(1280, 720), fps=30) as camera:     # the first device found
        camera.write(out.rgba if out.rgba is not None else out.image, out.timestamp_s)
        camera.device, camera.fps_sent                           # e.g. "/dev/video10", 29.9

The device is v4l2loopback on Linux and OBS's virtual camera on Windows and macOS (pyvirtualcam
0.15, the optional extra `virtualcam`). A camera carries no alpha: a transparent cutout (RGBA) is
sent on `matte_color`. Frames of another size are letterboxed into the camera's size (scaled to
fit, centred, bars of `bar_color`), never stretched. Failures are `VirtualCameraError` (an
OSError) with one line: `VirtualCameraUnavailable` when opening (what to install for the platform),
`VirtualCameraLost` when the device fails mid-run (the camera is then closed; the caller goes on).
"""

from __future__ import annotations

import platform
import threading
import time

import cv2
import numpy as np

from silhouette_cam.fps import Clock, FpsMeter
from silhouette_cam.render import parse_color

INSTALL_EXTRA = "pip install 'silhouette_cam[virtualcam]'"
LINUX_HINT = ("load the v4l2loopback kernel module (package v4l2loopback-dkms): sudo modprobe v4l2loopback "
              'devices=1 exclusive_caps=1 card_label="silhouette_cam"')
OBS_HINT = "install OBS Studio 26 or later (https://obsproject.com) and start its virtual camera once"
INSTALL_HINTS = {"Linux": LINUX_HINT, "Windows": OBS_HINT,
                 "Darwin": OBS_HINT + " (macOS 13+: OBS 30+, allow its system extension)"}
# What write() can send: pyvirtualcam pixel format -> (OpenCV conversion from RGB, buffer shape for (w, h)).
PIXEL_FORMATS = {
    "RGB": (None, lambda w, h: (h, w, 3)),
    "BGR": (cv2.COLOR_RGB2BGR, lambda w, h: (h, w, 3)),
    "I420": (cv2.COLOR_RGB2YUV_I420, lambda w, h: (h * 3 // 2, w)),
}


class VirtualCameraError(OSError):
    """The virtual camera cannot be used; the message is one line saying why and what to do."""


class VirtualCameraUnavailable(VirtualCameraError):
    """No virtual camera could be opened (pyvirtualcam missing, no device, device busy)."""


class VirtualCameraLost(VirtualCameraError):
    """The device failed while sending (e.g. unloaded); the camera is closed, nothing more is sent."""


def install_hint(system: str | None = None) -> str:
    """What to install so that a virtual camera exists on `system` (default: this one)."""
    system = system or platform.system()
    return INSTALL_HINTS.get(system, f"pyvirtualcam has no virtual camera for {system} (Linux, Windows, macOS)")


def letterbox_rect(src: tuple[int, int], dst: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a src-sized (w, h) frame scaled to fit dst (w, h) without distortion, centred."""
    scale = min(dst[0] / src[0], dst[1] / src[1])
    w, h = min(dst[0], max(1, round(src[0] * scale))), min(dst[1], max(1, round(src[1] * scale)))
    return (dst[0] - w) // 2, (dst[1] - h) // 2, w, h


def _open_camera(width: int, height: int, fps: float, pixel_format: str, device: str | None,
                 backend: str | None):
    """A pyvirtualcam.Camera, or VirtualCameraUnavailable / ValueError with one line."""
    try:
        import pyvirtualcam
    except ImportError:
        raise VirtualCameraUnavailable(f"the virtual camera needs pyvirtualcam: {INSTALL_EXTRA}") from None
    known = pyvirtualcam.camera.BACKENDS
    if backend is not None and backend not in known:
        # Checked here: pyvirtualcam's KeyError would also leave a half-built Camera complaining in __del__.
        raise ValueError(f"virtual camera backend {backend!r} is not one of: {', '.join(known) or '(none here)'}")
    try:
        return pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat[pixel_format],
                                   device=device, backend=backend)
    except RuntimeError as exc:  # pyvirtualcam: one line per backend tried
        reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        what = f"cannot open virtual camera {device!r}" if device else "no virtual camera to send to"
        raise VirtualCameraUnavailable(f"{what} ({reason or 'no backend'}); {install_hint()}") from None


class VirtualCamera:
    """Sends RGB or RGBA frames to a virtual camera; see the module docstring.

    size: (width, height) of the camera; fps: the rate frames will come at (a hint to the device);
    matte_color: RGB that transparent pixels are sent on; bar_color: RGB of the letterbox bars;
    device: e.g. "/dev/video10" or "OBS Virtual Camera" (None: the first found); backend: a
    pyvirtualcam backend name (None: every one of this platform); pixel_format: one of
    PIXEL_FORMATS; clock: seconds, for `fps_sent` (injectable for exact tests).
    `write()` and `close()` may be called from different threads; none is sent after close().
    """

    alpha = True  # write() takes a transparent cutout's RGBA (and composites it itself)

    def __init__(self, *, size: tuple[int, int], fps: float, matte_color=(0, 177, 64), bar_color=(0, 0, 0),
                 device: str | None = None, backend: str | None = None, pixel_format: str = "RGB",
                 clock: Clock = time.perf_counter) -> None:
        width, height = int(size[0]), int(size[1])
        if width < 2 or height < 2:
            raise ValueError(f"virtual camera size must be at least 2x2, got {width}x{height}")
        if pixel_format not in PIXEL_FORMATS:
            raise ValueError(f"pixel format {pixel_format!r} is not one of {', '.join(PIXEL_FORMATS)}")
        if pixel_format == "I420" and (width % 2 or height % 2):
            raise ValueError(f"I420 needs an even width and height, got {width}x{height}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self._matte = parse_color(matte_color, name="matte color")
        self._bars = parse_color(bar_color, name="bar color")
        self._camera = _open_camera(width, height, float(fps), pixel_format, device, backend)
        self._device, self._backend = self._camera.device, self._camera.backend
        self._size, self._fps, self._format = (width, height), float(fps), pixel_format
        self._lock = threading.Lock()
        self._meter = FpsMeter(window=60, clock=clock)
        self._frames_sent = 0
        self._canvas = np.full((height, width, 3), self._bars, np.uint8)  # bars stay; the frame is drawn inside
        conversion, shape = PIXEL_FORMATS[pixel_format]
        self._conversion, self._converted = conversion, np.empty(shape(width, height), np.uint8)
        self._input: tuple[int, int] | None = None  # (w, h) the per-frame buffers below were made for

    # -- read-only facts ---------------------------------------------------------------------------
    @property
    def device(self) -> str:
        """The device in use, e.g. '/dev/video10'."""
        return self._device

    @property
    def backend(self) -> str:
        """The pyvirtualcam backend in use, e.g. 'v4l2loopback'."""
        return self._backend

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames the camera sends."""
        return self._size

    @property
    def fps(self) -> float:
        """The nominal rate given to the device."""
        return self._fps

    @property
    def pixel_format(self) -> str:
        """The pixel format sent, e.g. 'RGB'."""
        return self._format

    @property
    def frames_sent(self) -> int:
        """Frames the device accepted."""
        return self._frames_sent

    @property
    def fps_sent(self) -> float:
        """Frames sent per second, last 60 frames."""
        return self._meter.fps

    @property
    def closed(self) -> bool:
        """True after close() or a lost device."""
        return self._camera is None

    # -- sending --------------------------------------------------------------------------------------
    def _prepare(self, width: int, height: int) -> None:
        """Buffers for input frames of (width, height): made once per input size, reused per frame."""
        if self._input == (width, height):
            return
        self._input = (width, height)
        self._alpha1 = np.empty((height, width), np.uint8)
        self._alpha3 = np.empty((height, width, 3), np.uint8)
        self._rgb = np.empty((height, width, 3), np.uint8)
        self._foreground = np.empty((height, width, 3), np.uint8)
        self._opaque = np.empty((height, width, 3), np.uint8)
        self._matte_image = np.full((height, width, 3), self._matte, np.uint8)
        x, y, w, h = letterbox_rect((width, height), self._size)
        self._canvas[:] = self._bars
        self._inner = self._canvas[y:y + h, x:x + w]
        # Bilinear down to half size (every pixel still counts; INTER_AREA took 12.5 ms for 1080p -> 720p,
        # bilinear 1.7 ms); area averaging below that, where bilinear would alias.
        self._interpolation = cv2.INTER_AREA if w < width / 2 else cv2.INTER_LINEAR

    def _flatten(self, rgba: np.ndarray) -> np.ndarray:
        """[H, W, 4] RGBA -> [H, W, 3] RGB on the matte: rgb * a + matte * (1 - a), in uint8 (within 1)."""
        cv2.extractChannel(rgba, 3, dst=self._alpha1)
        cv2.cvtColor(self._alpha1, cv2.COLOR_GRAY2RGB, dst=self._alpha3)
        cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB, dst=self._rgb)
        cv2.multiply(self._rgb, self._alpha3, dst=self._foreground, scale=1.0 / 255.0)
        cv2.multiply(self._matte_image, cv2.bitwise_not(self._alpha3, dst=self._alpha3), dst=self._opaque,
                     scale=1.0 / 255.0)
        return cv2.add(self._opaque, self._foreground, dst=self._opaque)

    def _frame_for(self, image: np.ndarray) -> np.ndarray:
        """The image as the camera sends it: opaque, letterboxed to size, in the pixel format."""
        height, width = image.shape[:2]
        self._prepare(width, height)
        rgb = self._flatten(image) if image.shape[2] == 4 else image
        if (width, height) != self._size:
            cv2.resize(rgb, self._inner.shape[1::-1], dst=self._inner, interpolation=self._interpolation)
            rgb = self._canvas
        if self._conversion is None:
            return rgb
        return cv2.cvtColor(rgb, self._conversion, dst=self._converted)

    def write(self, image: np.ndarray, timestamp_s: float | None = None) -> None:
        """Send image [H, W, 3] RGB or [H, W, 4] RGBA uint8 (any size: letterboxed) now.
        timestamp_s (source time) is accepted like the recorder's; the device stamps frames itself.
        Raises VirtualCameraLost (the camera is then closed), ValueError after close()."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            got = f"{image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
            raise TypeError(f"unexpected frame type: {got} != uint8 numpy array")
        if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 2:
            raise ValueError(f"unexpected frame shape: {image.shape} != (H, W, 3) RGB or (H, W, 4) RGBA")
        with self._lock:
            if self._camera is None:
                raise ValueError(f"virtual camera {self._device} is closed")
            frame = self._frame_for(image)
            try:
                self._camera.send(frame)
            except Exception as exc:  # noqa: BLE001 - any backend failure: stop sending, say so once
                self._close_locked()
                raise VirtualCameraLost(f"virtual camera {self._device} stopped after {self._frames_sent} "
                                        f"frames: {exc}") from None
            self._frames_sent += 1
        self._meter.tick()

    def _close_locked(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                camera.close()
            except Exception:  # noqa: BLE001 - a device that is gone may fail to close; it is gone either way
                pass

    def close(self) -> None:
        """Release the device (safe to call twice, from any thread)."""
        with self._lock:
            self._close_locked()

    def __enter__(self) -> VirtualCamera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
