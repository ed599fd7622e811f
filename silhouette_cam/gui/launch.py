"""LaunchOptions: how the window starts (the `gui` command line; tests and benchmarks build it directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LaunchOptions:
    """How the window starts (the `gui` command line); None = use the stored settings."""

    source: str | None = None  # "demo", a camera index / device path, a video file
    mode: str | None = None
    fullscreen: bool = False
    model: str | None = None
    device: str = "auto"
    weights: str | None = None
    record_path: str | None = None  # start recording here at once
    screenshot_path: str | None = None  # save a window screenshot when the run ends
    quit_after_frames: int | None = None  # process N frames, save, exit 0
    paced: bool | None = None  # play files at their real speed (default: yes, unless quit_after_frames)
    # Flat PipelineSettings changes from the command line (--opacity, --background, ...), applied over
    # the stored settings (and kept, like a choice made in the window).
    settings: dict[str, Any] = field(default_factory=dict)
