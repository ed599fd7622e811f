"""Fixtures for the window tests: a temporary settings file, small video clips, window factories.

Tests run the real pipeline on a real video; the only fakes are sources that fail on purpose.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from silhouette_cam.gui.launch import LaunchOptions
from silhouette_cam.gui.main_window import MainWindow
from silhouette_cam.gui.settings_store import SettingsStore

CLIP_SIZE = (320, 240)  # (width, height): small, so the real model keeps the tests quick
CLIP_FPS = 30


def write_clip(path: Path, frames: int, size: tuple[int, int] = CLIP_SIZE, seed: int = 0) -> Path:
    """An H.264/MPEG-4 clip of a bright moving ellipse (a stand-in person) on textured noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    background = rng.integers(40, 90, size=(height, width, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=CLIP_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            frame = background.copy()
            cx = width // 2 + int(width * 0.2 * np.sin(i / 8))
            inside = ((xx - cx) / (width * 0.18)) ** 2 + ((yy - height * 0.6) / (height * 0.45)) ** 2 <= 1
            frame[inside] = (200, 170, 150)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-frame 320x240 video clip."""
    return write_clip(tmp_path_factory.mktemp("clips") / "moving.mp4", 60)


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    """Settings in a temporary INI file — never the user's."""
    return SettingsStore.at_path(tmp_path / "settings.ini")


@pytest.fixture
def make_window(qtbot, store: SettingsStore):
    """make_window(source=..., **LaunchOptions fields, worker overrides...) -> a started MainWindow."""
    windows: list[MainWindow] = []

    def factory(*, source: str, worker_overrides: dict | None = None, **launch) -> MainWindow:
        window = MainWindow(store, LaunchOptions(source=source, **launch), **(worker_overrides or {}))
        qtbot.addWidget(window)
        windows.append(window)
        window.start()
        return window

    yield factory
    for window in windows:
        if window.worker.isRunning():
            window.close()
