"""Benchmark the window: displayed FPS per mode, GUI-thread ms per painted frame, displayed-frame age,
and startup time.

    python bench/bench_gui.py [--frames 200] [--size 1280x720] [--paced] [--source VIDEO] [--startup-runs 3]

Runs the real MainWindow (offscreen unless a display is set) on a 1280x720 video made from the
bundled demo clip, with the default refinement on, one window per mode. Columns:
- shown fps: frames painted per second of wall time (unpaced: as fast as the pipeline goes);
- pipeline fps: the worker's sliding-window FPS;
- alone fps: the same settings run by FramePipeline.process in a plain loop over decoded frames,
  measured right after (the machine's speed at that moment; the window should match or beat it);
- gui ms: time the GUI thread spends per frame (frame slot + paintEvent), median / p90;
- age: newest captured frame index - the shown frame's index when it is handed to the view,
  median / p90 / max (0 = the newest frame is shown);
- ui lag: how late a 10 ms GUI timer fires while the model runs (the window's responsiveness);
- startup: a fresh process (python + Qt + torch imports, model load) from launch to the window
  shown, to its first frame (unprocessed, while the model loads) and to its first processed frame.

`--virtual-camera N` adds N alternating runs of one mode (`--camera-case`, default cutout color)
with the window's virtual camera off and on (sending every rendered frame, through pyvirtualcam, to
a backend that drops it): shown FPS median / p90 of each, and the drop (the bar: <= 5 %).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import NullDevice, machine_description  # noqa: E402 (common loads torch only when describing)

from silhouette_cam.gui.launch import LaunchOptions  # noqa: E402
from silhouette_cam.gui.main_window import MainWindow  # noqa: E402
from silhouette_cam.gui.settings_store import SettingsStore  # noqa: E402
from silhouette_cam.sources import VideoFileSource, demo_clip_path  # noqa: E402

# (label, mode, control changes)
CASES = [
    ("overlay", "overlay", {}),
    ("cutout color", "cutout", {"background": "color"}),
    ("cutout blur", "cutout", {"background": "blur"}),
    ("silhouette", "silhouette", {}),
    ("mask", "mask", {}),
]


def make_clip(path: Path, size: tuple[int, int], frames: int, fps: int = 30) -> Path:
    """The demo clip scaled to `size`, looped to `frames` frames, H.264 (PyAV)."""
    source = VideoFileSource(demo_clip_path(), loop=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "20", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for _ in range(frames):
            frame_bgr, _ = source.read()
            frame = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_LINEAR)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    source.close()
    return path


def wait_for(app: QApplication, condition, timeout_s: float) -> None:
    """Run the event loop until `condition()`, blocking between events as app.exec() does.

    processEvents(flags, maxtime) returns at once when no event is pending, so a loop around it
    spins: it burnt ~16 ms of GUI-thread CPU per frame and took a core from the pipeline. The
    blocking form waits for the next event; a 20 ms timer bounds the wait."""
    deadline = time.monotonic() + timeout_s
    wake = QTimer()
    wake.start(20)
    wait = QEventLoop.ProcessEventsFlag.WaitForMoreEvents  # looked up once: Shiboken enums are slow
    try:
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window stopped delivering frames")
            app.processEvents(wait)
    finally:
        wake.stop()




def null_camera(**options):
    import pyvirtualcam

    from silhouette_cam.virtualcam import VirtualCamera

    pyvirtualcam.register_backend("bench_null", NullDevice)
    return VirtualCamera(backend="bench_null", **options)


def run_case(app, clip: Path, mode: str, changes: dict, frames: int, paced: bool, settings: Path,
             virtual_camera: bool = False) -> dict:
    launch = LaunchOptions(source=str(clip), mode=mode, paced=paced)
    window = MainWindow(SettingsStore.at_path(settings), launch, virtual_camera_factory=null_camera)
    window.resize(1280, 800)
    if changes:
        window.panel.apply(**changes)
    lag_ms: list[float] = []
    timer, last = QTimer(), [time.perf_counter()]

    def on_timer() -> None:
        now = time.perf_counter()
        lag_ms.append(max(0.0, (now - last[0]) * 1000.0 - 10.0))
        last[0] = now

    timer.setInterval(10)
    timer.timeout.connect(on_timer)
    window.start()
    def warmed_up() -> bool:  # 15 processed frames shown (not the raw ones shown while the model loads)
        info = window._info
        return info is not None and info.mode == mode and info.index >= 15

    wait_for(app, warmed_up, 300)
    if virtual_camera:
        window.set_virtual_camera(True)
        wait_for(app, lambda: bool(window.virtual_camera_device), 60)
    for series in (window.slot_ms, window.view.paint_ms, window.frame_age):
        series.clear()
    lag_ms.clear()
    last[0] = time.perf_counter()
    timer.start()
    start_shown, start_painted, started = window.frames_shown, window.view.frames_painted, time.perf_counter()
    wait_for(app, lambda: window.frames_shown >= start_shown + frames, 300)
    elapsed = time.perf_counter() - started
    timer.stop()
    pipeline_fps = window._info.fps
    painted = window.view.frames_painted - start_painted
    slot, paint = np.array(window.slot_ms), np.array(window.view.paint_ms)
    n = min(len(slot), len(paint))
    gui = slot[-n:] + paint[-n:]  # one paint per frame shown (paints of the same frame are rare)
    age = np.array(window.frame_age)
    if virtual_camera and not window.virtual_camera_device:
        raise RuntimeError(f"the virtual camera stopped during the run: {window.last_error}")
    window.close()
    return {
        "shown_fps": (window.frames_shown - start_shown) / elapsed, "painted": painted,
        "pipeline_fps": pipeline_fps, "gui": gui, "slot": slot, "paint": paint, "age": age,
        "lag": np.array(lag_ms) if lag_ms else np.zeros(1),
    }


def launch_application() -> QApplication:
    """The QApplication as `silhouette-cam` starts it: the CLI's thread policy, OpenCV's log level."""
    from silhouette_cam.gui.app import application
    from silhouette_cam.threads import apply_thread_policy

    apply_thread_policy()  # silhouette_cam.cli.main does this before the window opens
    return application()


def startup_child(clip: str, t0: float, settings: str) -> int:
    """In a fresh process: seconds from `t0` (the parent's launch time) to shown / first / processed frame."""
    from silhouette_cam.gui.worker import STARTING

    app = launch_application()
    window = MainWindow(SettingsStore.at_path(settings), LaunchOptions(source=clip, mode="overlay", paced=True))
    times: dict[str, float] = {}

    def on_frame() -> None:  # connected after the window's own slot, so window._info is this frame
        info = window._info
        if info is not None:
            times.setdefault("first frame", time.time() - t0)
            if info.mode != STARTING:
                times["processed frame"] = time.time() - t0
                window.close()

    window.worker.frame_ready.connect(on_frame)
    window.start()
    times["window shown"] = time.time() - t0
    app.exec()
    print(json.dumps(times))
    return 0


def measure_startup(clip: Path, runs: int, settings: Path) -> None:
    rows = []
    for _ in range(runs + 1):  # the first run fills the disk cache (the "after the first run")
        out = subprocess.run([sys.executable, __file__, "--startup-child", str(clip), str(time.time()),
                              str(settings)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\nstartup, {runs} runs after a first one (seconds from launching the process):\n")
    print("| event | median | max |")
    print("|---|--:|--:|")
    for event in ("window shown", "first frame", "processed frame"):
        values = [row[event] for row in rows[1:]]
        print(f"| {event} | {np.median(values):.2f} | {max(values):.2f} |")


def pipeline_alone_fps(clip: Path, mode: str, changes: dict, frames: int) -> float:
    """FPS of FramePipeline.process on the clip's frames (decoded beforehand), same mode and controls."""
    from silhouette_cam.pipeline import FramePipeline, PipelineSettings
    from silhouette_cam.segmenter import PersonSegmenter

    source = VideoFileSource(clip, loop=True)
    decoded = [source.read()[0] for _ in range(min(frames, 60))]
    source.close()
    settings = PipelineSettings().replace(mode=mode, **{k: v for k, v in changes.items() if k != "model"})
    pipeline = FramePipeline(PersonSegmenter(), settings)
    for frame in decoded[:10]:  # warm-up: buffers, tracker, temporal history
        pipeline.process(frame)
    started = time.perf_counter()
    for frame in decoded:
        pipeline.process(frame)
    return len(decoded) / (time.perf_counter() - started)


def measure_virtual_camera(app, clip: Path, case: str, frames: int, paced: bool, runs: int, tmp: Path) -> None:
    """Shown FPS with the virtual camera off and on, alternating (the machine's load hits both alike)."""
    label, mode, changes = next(c for c in CASES if c[0] == case)
    fps: dict[bool, list[float]] = {False: [], True: []}
    for run in range(runs):
        for on in (False, True) if run % 2 == 0 else (True, False):
            r = run_case(app, clip, mode, changes, frames, paced, tmp / f"camera{run}{on}.ini", virtual_camera=on)
            fps[on].append(r["shown_fps"])
    off, on = np.array(fps[False]), np.array(fps[True])
    print(f"\nvirtual camera, {label}, {runs} alternating runs of {frames} frames each:\n")
    print("| virtual camera | shown fps median | p90 | min |")
    print("|---|--:|--:|--:|")
    for name, values in (("off", off), ("on", on)):
        print(f"| {name} | {np.median(values):.1f} | {np.percentile(values, 90):.1f} | {values.min():.1f} |")
    drop = 100.0 * (1.0 - np.median(on) / np.median(off))
    print(f"\nshown FPS drop with the camera on: {drop:.1f} % of the median (bar: <= 5 %)")


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--startup-child":
        return startup_child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames measured per mode (after warm-up)")
    parser.add_argument("--size", default="1280x720", help="video size WxH")
    parser.add_argument("--paced", action="store_true", help="play at the clip's 30 fps, like a camera")
    parser.add_argument("--source", help="use this video instead of the scaled demo clip")
    parser.add_argument("--startup-runs", type=int, default=3, help="fresh processes timed (0: skip)")
    parser.add_argument("--cases", default=",".join(label for label, _, _ in CASES),
                        help="comma-separated rows to run (default: all; '' for none)")
    parser.add_argument("--virtual-camera", type=int, default=0, metavar="RUNS",
                        help="alternating runs with the virtual camera off / on (default 0: skip)")
    parser.add_argument("--camera-case", default="cutout color", help="the mode row those runs use")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    app = launch_application()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(args.source) if args.source else make_clip(Path(tmp) / "clip.mp4", (width, height), 300)
        print(f"machine: {machine_description()}  (shared with other jobs while measured)")
        print(f"source {clip.name} {width}x{height}, {'paced at 30 fps' if args.paced else 'unpaced'}, "
              f"{args.frames} frames per mode after warm-up, Qt platform {app.platformName()}\n")
        print("| mode | shown fps | pipeline fps | alone fps | GUI ms/frame med | p90 | paint ms med | p90 "
              "| age med | p90 | max | UI timer lag ms p90 | max |")
        print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for label, mode, changes in [case for case in CASES if case[0] in args.cases.split(",")]:
            r = run_case(app, clip, mode, changes, args.frames, args.paced, Path(tmp) / f"{label}.ini")
            gui, paint, age, lag = r["gui"], r["paint"], r["age"], r["lag"]
            alone = pipeline_alone_fps(clip, mode, changes, args.frames)
            cells = [f"{r['shown_fps']:.1f}", f"{r['pipeline_fps']:.1f}", f"{alone:.1f}",
                     f"{np.median(gui):.2f}", f"{np.percentile(gui, 90):.2f}",
                     f"{np.median(paint):.2f}", f"{np.percentile(paint, 90):.2f}",
                     f"{np.median(age):.0f}", f"{np.percentile(age, 90):.0f}", f"{age.max():.0f}",
                     f"{np.percentile(lag, 90):.1f}", f"{lag.max():.1f}"]
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
        if args.virtual_camera:
            measure_virtual_camera(app, clip, args.camera_case, args.frames, args.paced, args.virtual_camera,
                                   Path(tmp))
        if args.startup_runs:
            measure_startup(clip, args.startup_runs, Path(tmp) / "startup.ini")
    return 0


if __name__ == "__main__":
    sys.exit(main())
