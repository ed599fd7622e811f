"""ProcessingWorker on its own: latest frame wins, stop is prompt and clean, owned images."""

from __future__ import annotations

import threading

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage

from silhouette_cam.gui.engine import EngineOptions
from silhouette_cam.gui.worker import ProcessingWorker
from silhouette_cam.sources import demo_clip_path

TIMEOUT_MS = 30_000


def make_worker(paced: bool = False, **kwargs) -> ProcessingWorker:
    worker = ProcessingWorker(source=str(demo_clip_path()), options=EngineOptions(), paced=paced, **kwargs)
    worker.set_target_size(QSize(320, 180))
    return worker


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


def test_stop_is_a_flag_and_a_wait(qtbot) -> None:
    worker = make_worker()
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT_MS):
        worker.start()
    assert worker.stop(2000)
    assert worker.isFinished() and worker.take_frame() is not None  # the last frame is still there
    assert worker._grabber is None  # the capture thread is gone too


def test_frame_limit_stops_after_exactly_n_frames(qtbot) -> None:
    worker = make_worker(max_frames=7)
    shown = []
    worker.frame_ready.connect(lambda: shown.append(worker.take_frame()[1].index))
    with qtbot.waitSignal(worker.frame_limit_reached, timeout=TIMEOUT_MS) as reached:
        worker.start()
    assert reached.args == [7]
    assert worker.wait(2000)
    qtbot.waitUntil(lambda: 6 in shown, timeout=TIMEOUT_MS)  # the last frame is delivered, too
    assert shown == sorted(shown)
