"""PipelineRunner: source -> FramePipeline on three threads, so both CPU cores stay busy.

    with PipelineRunner(pipe, source, live=False) as runner:
        for out in runner:                 # ProcessedFrame, in source order
            recorder.write(out.image, out.timestamp_s)

A reader thread decodes frame t+1 while an analyzer thread segments frame t and does its stateful
refinement (tracking, temporal smoothing on the grid), and the iterating thread finishes frame t-1's
mask (the edge-aware full-resolution step) and renders (and writes) it: two similar halves. Every
frame travels with its own mask, so a frame is never paired with a stale mask. live=True (cameras)
keeps only the newest unread frame: a slow machine drops frames instead of falling behind. Errors
raised on a worker thread re-raise in the iterating one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from silhouette_cam.pipeline import FramePipeline, ProcessedFrame
from silhouette_cam.sources import FrameSource

_END = object()
_POLL_S = 0.05  # how often a blocked worker re-checks the stop flag


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class PipelineRunner:
    """See the module docstring. max_frames stops after that many source frames (None: to the end)."""

    def __init__(self, pipeline: FramePipeline, source: FrameSource, *, live: bool = False, depth: int = 2,
                 max_frames: int | None = None) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.pipeline, self.source, self.live, self.max_frames = pipeline, source, live, max_frames
        self._frames: queue.Queue = queue.Queue(maxsize=1 if live else depth)
        self._analyses: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self.frames_read = 0
        self.frames_dropped = 0
        self._threads = [threading.Thread(target=self._read_loop, name="silhouette-read", daemon=True),
                         threading.Thread(target=self._analyze_loop, name="silhouette-analyze", daemon=True)]
        self._started = False

    # -- worker threads --------------------------------------------------------------------------
    def _put(self, q: queue.Queue, item: object) -> bool:
        """Put unless stopping; False when the runner was stopped meanwhile."""
        while not self._stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue) -> object:
        while not self._stop.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return _END

    def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                if self.max_frames is not None and self.frames_read >= self.max_frames:
                    break
                start = time.perf_counter()
                item = self.source.read()
                if item is None:
                    break
                capture_ms = (time.perf_counter() - start) * 1000
                self.frames_read += 1
                if self.live:
                    try:  # latest frame wins: replace an unread older frame
                        self._frames.get_nowait()
                        self.frames_dropped += 1
                    except queue.Empty:
                        pass
                if not self._put(self._frames, (item[0], item[1], capture_ms)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the iterating thread
            self._put(self._frames, _Failure(exc))
            return
        self._put(self._frames, _END)

    def _analyze_loop(self) -> None:
        while True:
            item = self._get(self._frames)
            if item is _END or isinstance(item, _Failure):
                self._put(self._analyses, item)
                return
            frame, timestamp_s, capture_ms = item
            try:
                analysis = self.pipeline.analyze(frame, timestamp_s=timestamp_s, capture_ms=capture_ms)
            except BaseException as exc:  # noqa: BLE001 - handed to the iterating thread
                self._put(self._analyses, _Failure(exc))
                return
            if not self._put(self._analyses, analysis):
                return

    # -- the iterating thread --------------------------------------------------------------------
    def start(self) -> PipelineRunner:
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()
        return self

    def __iter__(self) -> Iterator[ProcessedFrame]:
        self.start()
        while True:
            item = self._get(self._analyses)
            if item is _END:
                return
            if isinstance(item, _Failure):
                self.stop()
                raise item.exc
            yield self.pipeline.render(item)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the worker threads to finish and wait for them (flag + join, never killed)."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout_s)

    def __enter__(self) -> PipelineRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
