"""ProcessingWorker on its own: latest frame wins, the display back-pressure, clean stop, errors as
signals, exact recordings, source and model switches (the worker iterates the PipelineRunner)."""

from __future__ import annotations

import threading
from pathlib import Path

import av
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage

from silhouette_cam.gui.worker import ProcessingWorker
from silhouette_cam.live.engine import EngineOptions
from silhouette_cam.pipeline import FramePipeline, PipelineSettings
from silhouette_cam.sources import demo_clip_path
from tests.fixtures.pipeline_fakes import BrightSegmenter

TIMEOUT_MS = 30_000
RUNNER_THREADS = ("silhouette-read", "silhouette-analyze", "silhouette-write")


class FakeEngine:
    """The worker's engine over a FramePipeline with a fake segmenter: fast, and breakable."""

    device_label, variant = "fake device", "fake"

    def __init__(self, options: EngineOptions | None = None, *, fail_after: int | None = None) -> None:
        segmenter = BrightSegmenter()
        if fail_after is not None:
            calls = []
            original = segmenter.segment_lowres

            def segment_lowres(frame):
                calls.append(1)
                if len(calls) > fail_after:
                    raise RuntimeError("network exploded")
                return original(frame)

            segmenter.segment_lowres = segment_lowres
        self.pipeline = FramePipeline(segmenter, PipelineSettings())
        self.applied: list[dict] = []

    def apply(self, changes: dict) -> None:
        self.applied.append(dict(changes))
        mode = changes.get("mode")
        if mode is not None:
            self.pipeline.update(mode=mode)

    def stats(self):
        stats = self.pipeline.stats
        return stats.fps, dict(stats.stage_ms)


def make_worker(paced: bool = False, source: str | None = None, **kwargs) -> ProcessingWorker:
    kwargs.setdefault("engine_factory", FakeEngine)
    worker = ProcessingWorker(source=source or str(demo_clip_path()), options=EngineOptions(), paced=paced, **kwargs)
    worker.set_target_size(QSize(320, 180))
    return worker


def runner_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in RUNNER_THREADS]


def test_a_gui_that_does_not_take_frames_gets_one_signal_and_then_the_newest(qtbot) -> None:
    worker = make_worker(paced=True)  # a live source goes on whether or not frames are shown
    emitted = []
    first_frame = threading.Event()

    def on_ready() -> None:  # runs in the worker thread: counts emissions, not deliveries
        emitted.append(1)
        first_frame.set()

    worker.frame_ready.connect(on_ready, Qt.ConnectionType.DirectConnection)
    worker.start()
    try:
        assert first_frame.wait(TIMEOUT_MS / 1000)
        qtbot.waitUntil(lambda: worker._slot is not None and worker._slot[1].index >= 5, timeout=TIMEOUT_MS)
        assert len(emitted) == 1  # four newer frames replaced the slot's frame without queueing signals
        image, info = worker.take_frame()
        assert info.index >= 5 and worker.take_frame() is None
        assert isinstance(image, QImage) and image.size() == QSize(320, 180)  # fitted to the view, 16:9
        qtbot.waitUntil(lambda: len(emitted) == 2, timeout=TIMEOUT_MS)  # the next frame signals again
    finally:
        assert worker.stop(2000)


def test_an_unpaced_source_waits_for_frames_to_be_shown(qtbot) -> None:
    worker = make_worker()
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT_MS):
        worker.start()
    try:
        shown = []
        while len(shown) < 6:  # as the window does: take, show; the newest read stays <= 1 ahead
            qtbot.waitUntil(lambda: worker._slot is not None, timeout=TIMEOUT_MS)
            _, info = worker.take_frame()
            shown.append(info.capture_index)
            assert info.age <= 1
            assert info.index == info.capture_index  # unpaced: every frame processed, none dropped
        # A frame the GUI did not take in time is replaced by the next (latest wins), never queued.
        assert shown == sorted(set(shown))
    finally:
        assert worker.stop(2000)


def test_stop_is_a_flag_and_a_wait_and_no_runner_thread_is_left(qtbot) -> None:
    worker = make_worker()
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT_MS):
        worker.start()
    assert worker.stop(2000)
    assert worker.isFinished() and worker.take_frame() is not None  # the last frame is still there
    assert runner_threads() == []  # reader, analyzer and writer joined, not abandoned


def test_frame_limit_stops_after_exactly_n_frames_and_the_recording_holds_them(qtbot, tmp_path: Path) -> None:
    record = tmp_path / "rec.mp4"
    worker = make_worker(max_frames=7, record_path=str(record))
    shown = []
    worker.frame_ready.connect(lambda: shown.append(worker.take_frame()[1].index))
    with qtbot.waitSignal(worker.recording_stopped, timeout=TIMEOUT_MS) as stopped, \
            qtbot.waitSignal(worker.frame_limit_reached, timeout=TIMEOUT_MS) as reached:
        worker.start()
    assert reached.args == [7] and stopped.args == [str(record), 7, ""]
    assert worker.wait(2000)
    qtbot.waitUntil(lambda: 6 in shown, timeout=TIMEOUT_MS)  # the last frame is delivered, too
    assert shown == sorted(shown)
    with av.open(str(record)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 7


def test_a_failing_pipeline_is_signalled_and_retried(qtbot) -> None:
    engines = []

    def factory(options):
        engines.append(FakeEngine(fail_after=3))
        return engines[-1]

    worker = make_worker(engine_factory=factory)
    shown = []
    worker.frame_ready.connect(lambda: shown.append(worker.take_frame()))
    with qtbot.waitSignal(worker.error, timeout=TIMEOUT_MS) as failed:
        worker.start()
    try:
        assert failed.args[0].startswith("processing failed: RuntimeError: network exploded — retrying")
        assert worker.isRunning() and len(engines) == 1  # the engine is kept; the stream restarts
    finally:
        assert worker.stop(2000)
    assert runner_threads() == []


def test_source_switch_continues_in_the_same_worker(qtbot, clip: Path) -> None:
    worker = make_worker()
    names = []
    worker.source_opened.connect(lambda name, fps, w, h: names.append((name, w, h)))
    worker.frame_ready.connect(lambda: worker.take_frame())
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT_MS):
        worker.start()
    try:
        with qtbot.waitSignal(worker.source_opened, timeout=TIMEOUT_MS):
            worker.request_source(str(clip))
        qtbot.waitUntil(lambda: worker._slot is None or worker._slot[1].frame_size == (320, 240), timeout=TIMEOUT_MS)
        frames = []
        worker.frame_ready.connect(lambda: frames.append(1))
        qtbot.waitUntil(lambda: len(frames) >= 3, timeout=TIMEOUT_MS)
    finally:
        assert worker.stop(2000)
    assert [n for n, _, _ in names] == ["demo_person.mp4", "moving.mp4"] and names[1][1:] == (320, 240)


def test_mode_changes_reach_the_engine_and_the_frames(qtbot) -> None:
    worker = make_worker()
    infos = []
    worker.frame_ready.connect(lambda: infos.append(worker.take_frame()[1]))
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT_MS):
        worker.start()
    try:
        worker.update_controls({"mode": "mask"})
        qtbot.waitUntil(lambda: bool(infos) and infos[-1].mode == "mask", timeout=TIMEOUT_MS)
    finally:
        assert worker.stop(2000)
