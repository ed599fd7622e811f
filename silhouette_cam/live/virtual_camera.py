"""The window's virtual camera: its options, how it is opened, whether it can be at all, and the
worker's side of the toggle (VirtualCameraControl).

The worker opens the device (on its thread) when the toggle goes on and attaches it to its
SinkWriter, so it gets exactly the rendered frames, at the source's rate, never mirrored. No Qt here.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from silhouette_cam.frame_sinks import ImageSink

DEFAULT_MATTE = (0, 177, 64)  # chroma-key green: what a call app's own keying expects
SIZE_CHOICES = (None, (1280, 720), (1920, 1080), (640, 480))  # None: the source's size


@dataclass(frozen=True)
class VirtualCameraOptions:
    """size: (width, height) the camera sends (letterboxed), None for the source's size;
    matte_color: RGB 0..255 that a transparent cutout is sent on (a camera carries no alpha)."""

    size: tuple[int, int] | None = None
    matte_color: tuple[int, int, int] = DEFAULT_MATTE

    def to_dict(self) -> dict[str, Any]:
        """-> JSON-ready {"size": [w, h] or None, "matte_color": [r, g, b]} (the window remembers it)."""
        return {"size": None if self.size is None else list(self.size), "matte_color": list(self.matte_color)}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> VirtualCameraOptions:
        """The options `to_dict` wrote; a value that is not one of SIZE_CHOICES or not an RGB triple
        of 0..255 (an older or hand-edited file) gives its default instead."""
        options = cls()
        size = stored.get("size")
        size = tuple(size) if isinstance(size, list) else size
        if size in SIZE_CHOICES:
            options = cls(size=size)
        matte = stored.get("matte_color")
        if (isinstance(matte, list) and len(matte) == 3
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in matte)):
            options = cls(size=options.size, matte_color=(matte[0], matte[1], matte[2]))
        return options


def open_virtual_camera(*, size: tuple[int, int], fps: float, matte_color: tuple[int, int, int]) -> Any:
    """A VirtualCamera on the first device found; VirtualCameraUnavailable saying what to install."""
    from silhouette_cam.virtualcam import VirtualCamera

    return VirtualCamera(size=size, fps=fps, matte_color=matte_color)


def unavailable_reason() -> str:
    """Why the toggle cannot work on this machine before trying a device ("" when it may)."""
    if importlib.util.find_spec("pyvirtualcam") is None:
        from silhouette_cam.virtualcam import INSTALL_EXTRA

        return f"the virtual camera needs pyvirtualcam: {INSTALL_EXTRA}"
    return ""


class VirtualCameraSink(ImageSink):
    """The camera as a FrameSink: a transparent cutout's RGBA goes in (VirtualCamera mattes it),
    every other frame its RGB as rendered."""

    def __init__(self, camera: Any) -> None:
        super().__init__(camera, alpha=bool(getattr(camera, "alpha", False)), pad=False)
        self.camera = camera


_OFF = object()  # a request to stop sending


class VirtualCameraControl:
    """Requests from the GUI (`request(options | None)`, any thread) applied by the worker
    (`apply(writer, source)`, its thread); outcomes through the callbacks: on_started(device),
    on_stopped(reason, "" when turned off), on_unavailable(what to install).
    open_camera(size=, fps=, matte_color=) -> a VirtualCamera (tests register a backend)."""

    def __init__(self, *, open_camera: Callable[..., Any], on_started: Callable[[str], None],
                 on_stopped: Callable[[str], None], on_unavailable: Callable[[str], None]) -> None:
        self._open, self._on_started = open_camera, on_started
        self._on_stopped, self._on_unavailable = on_stopped, on_unavailable
        self._lock = threading.Lock()
        self._request: Any = None  # VirtualCameraOptions, _OFF, or None (nothing asked)
        self._sink: VirtualCameraSink | None = None

    def request(self, options: VirtualCameraOptions | None) -> None:
        """Send with `options` (again: reopened with them), or stop (None); from the next frame."""
        with self._lock:
            self._request = _OFF if options is None else options

    @property
    def camera(self) -> Any:
        """The VirtualCamera frames go to, or None."""
        with self._lock:
            return self._sink.camera if self._sink is not None else None

    def apply(self, writer: Any, source: Any) -> None:
        """The worker thread: carry out the newest request with `writer` (a SinkWriter) and the
        source now shown (its size and rate, unless the options choose a size)."""
        with self._lock:
            request, self._request = self._request, None
            old = self._sink if request is not None else None
            if old is not None:
                self._sink = None
        if request is None:
            return
        if old is not None:
            writer.remove(old)  # closed on the writer thread, after the frames it was given
        if request is _OFF:
            if old is not None:
                self._on_stopped("")
            return
        try:
            camera = self._open(size=request.size or tuple(source.size), fps=float(source.fps),
                                matte_color=request.matte_color)
        except OSError as exc:  # VirtualCameraUnavailable: no device, or no pyvirtualcam
            self._on_unavailable(str(exc))
            return
        except ValueError as exc:
            self._on_stopped(f"virtual camera: {exc}")
            return
        sink = VirtualCameraSink(camera)
        with self._lock:
            self._sink = sink
        writer.add(sink)
        self._on_started(str(camera.device))

    def sink_failed(self, sink: Any, exc: BaseException) -> bool:
        """The writer thread: `sink` failed (closed and detached already). True when it was the
        camera (VirtualCameraLost): sending stops with the reason; the preview goes on."""
        with self._lock:
            if sink is not self._sink:
                return False
            self._sink = None
        self._on_stopped(str(exc))
        return True
