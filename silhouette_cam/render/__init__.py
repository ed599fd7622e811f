"""Rendering: overlay / cutout / silhouette / mask, with preallocated buffers; backgrounds for cutout."""

from silhouette_cam.render.backgrounds import BackgroundSource, mask_weighted_blur, parse_color
from silhouette_cam.render.renderer import (
    BACKGROUNDS,
    CLASS_COLORS,
    MODES,
    FrameRenderer,
    RenderSettings,
    checkerboard,
    draw_legend,
)

__all__ = ["BACKGROUNDS", "CLASS_COLORS", "MODES", "BackgroundSource", "FrameRenderer", "RenderSettings",
           "checkerboard", "draw_legend", "mask_weighted_blur", "parse_color"]
