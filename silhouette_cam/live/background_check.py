"""Is a cutout's background file usable? Checked before the window renders with it.

A background image or video remembered from an earlier session may be gone or unreadable now; the
renderer would then fail on every frame ("processing failed ... retrying" forever). The window checks
the file once when it starts (and when one is picked) and falls back to the default background with
one message naming the file and what was expected.
"""

from __future__ import annotations

from pathlib import Path

from silhouette_cam.errors import describe
from silhouette_cam.pipeline import PipelineSettings

FALLBACK = "blur"  # the cutout's default background


def background_problem(settings: PipelineSettings) -> str:
    """"" when the settings' background needs no file or its file can be read; else one line naming
    the file and what was expected. Reads the image (bounded by the pixel limit) or one video frame."""
    render = settings.render
    kind, path = render.background, render.background_path
    if kind not in ("image", "video"):
        return ""
    if not path:
        return f"background {kind}: no file chosen"
    expected = "a PNG, JPEG, BMP, WebP or TIFF image" if kind == "image" else "a video file"
    if not Path(path).is_file():
        return f"background {kind} {path} is gone (expected {expected})"
    from silhouette_cam.sources import read_background_sample

    try:
        read_background_sample(path, kind, min_side=1)  # as the renderer reads it: any size, scaled to cover
    except Exception as exc:  # noqa: BLE001 — any failure means the file cannot serve as a background
        return f"background {kind} {path} cannot be read (expected {expected}): {describe(exc)}"
    return ""


def usable_background(settings: PipelineSettings) -> tuple[PipelineSettings, str]:
    """-> (settings, "") when the background is usable, else (settings with the FALLBACK background,
    the message to show: what is wrong and what is used instead)."""
    problem = background_problem(settings)
    if not problem:
        return settings, ""
    return settings.replace(background=FALLBACK), f"{problem} — using {FALLBACK} instead"
