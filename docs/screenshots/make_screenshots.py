"""Regenerate the README screenshots from the real window (run under a display, e.g. `xvfb-run -a`).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_screenshots.py [NAME.png ...]

With names, only those shots are made (e.g. `error_state.png`).

Each shot runs the window on a real clip for a number of frames, then grabs the window. The clips
are Intel's CC BY 4.0 sample videos (github.com/intel-iot-devkit/sample-videos): the bundled demo
clip (silhouette_cam/assets/ATTRIBUTION.txt) and, when ../shared/data/videos is beside the checkout,
"head-pose-face-detection-female(-and-male)" and "one-by-one-person-detection" (else the demo
clip stands in).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from silhouette_cam.gui.app import application
from silhouette_cam.gui.launch import LaunchOptions
from silhouette_cam.gui.main_window import MainWindow
from silhouette_cam.gui.settings_store import SettingsStore
from silhouette_cam.sources import VideoFileSource, demo_clip_path

HERE = Path(__file__).resolve().parent
FRAMES = 45  # the temporal smoothing and person tracking settle within a second

VIDEOS = HERE.parent.parent.parent / "shared" / "data" / "videos"
PAIR, WOMAN, WALKER = ("intel_head-pose-face-detection-female-and-male.mp4",
                       "intel_head-pose-face-detection-female.mp4", "intel_one-by-one-person-detection.mp4")

# (file name, clip, mode, control changes, HUD on, frames to run first)
SHOTS = [
    ("overlay_hud.png", PAIR, "overlay", {}, True, FRAMES),
    ("cutout_blur.png", WALKER, "cutout", {"background": "blur", "blur_sigma": 16.0}, False, 110),
    ("cutout_color.png", WOMAN, "cutout", {"background": "color", "background_color": (40, 110, 200)}, False,
     FRAMES),
    ("silhouette.png", PAIR, "silhouette", {}, False, FRAMES),
    ("mask.png", WALKER, "mask", {}, False, 110),
]


def clip_path(name: str) -> str:
    path = VIDEOS / name
    return str(path if path.is_file() else demo_clip_path())


class UnpluggedCamera:
    """The demo clip as a "camera" that fails after a while and cannot be reopened (the error state)."""

    opened = 0

    def __init__(self) -> None:
        UnpluggedCamera.opened += 1
        if UnpluggedCamera.opened > 1:
            # As long as a real driver's message can be: the status bar must elide it, not hide it.
            raise OSError("cannot open camera 0: /dev/video0 is busy or was unplugged (VIDIOC_STREAMON: "
                          "No such device; check the cable, or close the other program using it)")
        self._inner, self._left = VideoFileSource(demo_clip_path(), loop=True), 30
        self.fps, self.size, self.name = self._inner.fps, self._inner.size, "camera 0"

    def read(self):
        if self._left == 0:
            raise OSError("camera 0 stopped delivering frames (device unplugged?)")
        self._left -= 1
        return self._inner.read()

    def close(self) -> None:
        self._inner.close()


def shoot(name: str, clip: str, mode: str, changes: dict, hud: bool, frames: int, settings: Path) -> int:
    store = SettingsStore.at_path(settings)
    store.hud_visible = hud
    launch = LaunchOptions(source=clip_path(clip), mode=mode, paced=False,
                           quit_after_frames=frames, screenshot_path=str(HERE / name))
    window = MainWindow(store, launch)
    window.resize(1280, 760)
    if changes:
        window.panel.apply(**changes)
    window.start()
    application().exec()
    print(f"{name}: exit {window.exit_code} {window.last_error}")
    return window.exit_code


def shoot_error_state(settings: Path) -> None:
    """The camera fails mid-run: the last frame stays, the message says what happened and that we
    retry. The window is narrow enough that the message elides before the device label."""
    store = SettingsStore.at_path(settings)
    store.hud_visible = False
    window = MainWindow(store, LaunchOptions(source="0", mode="overlay", paced=False),
                        source_opener=lambda spec: UnpluggedCamera())
    window.resize(1000, 700)
    # The first failed reconnect attempt: the message is up, the last frame still shown.
    window.worker.error.connect(
        lambda text: "retrying every second" in text and grab_and_close(window, "error_state.png")
    )
    window.start()
    application().exec()


def grab_and_close(window: MainWindow, name: str) -> None:
    window.grab().save(str(HERE / name))
    print(f"{name}: {window.last_error}")
    window.close()


def main(names: list[str]) -> int:
    application()
    settings = Path(tempfile.gettempdir()) / "silhouette_cam_screenshots.ini"
    for name, clip, mode, changes, hud, frames in SHOTS:
        if not names or name in names:
            settings.unlink(missing_ok=True)  # first-run defaults, whatever an earlier shot stored
            shoot(name, clip, mode, changes, hud, frames, settings)
    if not names or "error_state.png" in names:
        settings.unlink(missing_ok=True)
        shoot_error_state(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
