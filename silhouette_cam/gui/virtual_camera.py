"""The window's virtual camera: its options, how it is opened, and whether it can be at all.

The worker opens the device (on its thread) when the toggle goes on and attaches it to the runner as
a sink, so it gets exactly the rendered frames, at the source's rate, never mirrored. No Qt here.
"""

from __future__ import annotations

import importlib.util
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
