"""PipelineRunner: source -> FramePipeline -> sinks on reader / analyzer / writer threads; the one
harness behind the window, the CLI and the tests.

    with PipelineRunner(pipe, source, sinks=[ImageSink(recorder, alpha=False)]) as runner:
        for out in runner:                 # ProcessedFrame, in source order; sinks got it already
            show(out.image)

A reader thread decodes frame t+1 while an analyzer thread segments frame t and does its stateful
refinement (tracking, temporal smoothing on the grid), and the iterating thread finishes frame t-1's
mask (the edge-aware full-resolution step) and renders it: two similar halves for two cores. Every
frame travels with its own mask, so a frame is never paired with a stale mask. Sinks run on a
SinkWriter thread (frame_sinks.py), so a slow encoder never stalls rendering.

How frames are let through:
- live=True (cameras): only the newest unread frame is kept: a slow machine drops frames instead
  of falling behind. live=False: every frame, in order.
- paced=True (files played like a camera): the reader releases frames at the source's own rate
  (SourcePacer). Cameras need no pacing: their frames come on the camera's clock.
- display_ahead=N: the reader reads frame k only once frame k - N - 1 was shown (`frame_shown`),
  so a display that shows every frame never sees one more than N frames older than the newest read.

Switches apply from the next frame: `switch_source` (the reader closes the old source; temporal
history is reset), `pipeline.segmenter = ...` (read once per frame) and `pipeline.update(...)`.
Stop is a flag + join, never a kill. An error on a worker thread re-raises in the iterating thread,
with `failed_stage` saying where ("read", "analyze", "render", "write": a sink of the runner's own
writer failed; a caller's writer reports through its own on_error instead).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from silhouette_cam.frame_sinks import SinkWriter
from silhouette_cam.pacing import SourcePacer
from silhouette_cam.pipeline import FramePipeline, PipelineSettings, ProcessedFrame
from silhouette_cam.sources import FrameSource

_END = object()
_POLL_S = 0.05  # how often a blocked thread re-checks the stop flag


class _Failure:
    def __init__(self, exc: BaseException, stage: str) -> None:
        self.exc, self.stage = exc, stage


class PipelineRunner:
    """See the module docstring.

    depth: analysed frames queued for rendering (live: 1); max_frames: stop after that many source
    frames (None: to the end); sinks: attached before the first frame (closed by stop()); writer: a
    SinkWriter the caller owns and keeps across runners (sinks then outlive this runner);
    pacer: a SourcePacer (default: one with the stop-aware sleep).
    """

    def __init__(self, pipeline: FramePipeline, source: FrameSource, *, live: bool = False, paced: bool = False,
                 display_ahead: int | None = None, depth: int = 2, max_frames: int | None = None,
                 sinks: Iterable[Any] = (), writer: SinkWriter | None = None,
                 pacer: SourcePacer | None = None) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if display_ahead is not None and display_ahead < 0:
            raise ValueError(f"display_ahead must be >= 0 or None, got {display_ahead}")
        self.pipeline, self.source, self.live, self.max_frames = pipeline, source, live, max_frames
        self.paced, self.display_ahead = paced, display_ahead
        self._stop = threading.Event()
        self._pacer = pacer or SourcePacer(sleep=self._stop.wait)
        self._frames: queue.Queue = queue.Queue(maxsize=1 if live else depth)
        self._analyses: queue.Queue = queue.Queue(maxsize=1 if live else depth)
        self._shown = threading.Condition()
        self._shown_index = -1
        self._next_source: FrameSource | None = None
        self._generation = 0  # bumped per source switch; the analyzer resets the pipeline on a change
        self._owns_writer = writer is None
        self._sink_failure: BaseException | None = None
        self.writer = writer or SinkWriter(timer=pipeline.timer, drop_when_full=live, on_error=self._on_sink_error)
        for sink in sinks:
            self.writer.add(sink)
        self.frames_read = 0
        self.frames_dropped = 0
        self.failed_stage = ""
        self.last_read_index = -1  # read index of the frame last yielded (iterating thread)
        self.last_settings: PipelineSettings | None = None  # the settings that frame was drawn with
        self._threads = [threading.Thread(target=self._read_loop, name="silhouette-read", daemon=True),
                         threading.Thread(target=self._analyze_loop, name="silhouette-analyze", daemon=True)]
        self._started = False

    # -- any thread ------------------------------------------------------------------------------
    def add_sink(self, sink: Any) -> None:
        """Attach a sink (a FrameSink): it gets every frame rendered from now on."""
        self.writer.add(sink)

    def remove_sink(self, sink: Any, *, close: bool = True) -> None:
        """Detach a sink after the frames already handed to it; closed on the writer thread."""
        self.writer.remove(sink, close=close)

    def switch_source(self, source: FrameSource) -> None:
        """Read from `source` from the next frame on; the reader closes the old one."""
        with self._shown:
            unread, self._next_source = self._next_source, source
            self._shown.notify_all()
        if unread is not None:
            unread.close()  # switched away from before the reader got to it: never read, ours to close

    def frame_shown(self, read_index: int) -> int:
        """The display shows the frame read as `read_index` (lets display_ahead reads go on).
        Returns its age: the newest frame read - read_index, now."""
        with self._shown:
            if read_index > self._shown_index:
                self._shown_index = read_index
                self._shown.notify_all()
            return self.frames_read - 1 - read_index

    def _on_sink_error(self, sink: Any, exc: BaseException) -> None:
        # The writer thread: keep the first failure for the iterating thread (a disk that filled up).
        if self._sink_failure is None:
            self._sink_failure = exc

    def _raise_sink_failure(self) -> None:
        if self._sink_failure is not None:
            self.failed_stage = "write"
            self.stop()
            raise self._sink_failure

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

    def _get(self, q: queue.Queue, timeout_s: float | None = None) -> object:
        """The next item, _END when stopping, None after timeout_s without one."""
        deadline = None if timeout_s is None else time.perf_counter() + timeout_s
        while not self._stop.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                if deadline is not None and time.perf_counter() >= deadline:
                    return None
        return _END

    def _wait_for_display(self, index: int) -> bool:
        """display_ahead: block until frame `index` may be read; False when stopping instead."""
        if self.display_ahead is None:
            return True
        with self._shown:
            while index - self._shown_index > self.display_ahead + 1 and self._next_source is None:
                if self._stop.is_set():
                    return False
                self._shown.wait(_POLL_S)
        return not self._stop.is_set()

    def _switch_if_asked(self) -> None:
        with self._shown:
            source, self._next_source = self._next_source, None
        if source is None:
            return
        old, self.source = self.source, source
        old.close()
        self._generation += 1
        self._pacer.reset()

    def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._switch_if_asked()
                if self.max_frames is not None and self.frames_read >= self.max_frames:
                    break
                if not self._wait_for_display(self.frames_read):
                    return
                self._switch_if_asked()
                start = time.perf_counter()
                item = self.source.read()
                if item is None:
                    break
                capture_ms = (time.perf_counter() - start) * 1000
                if self.paced:
                    self._pacer.wait(item[1])
                    if self._stop.is_set():
                        return
                read_index = self.frames_read
                with self._shown:
                    self.frames_read += 1
                if self.live:
                    try:  # latest frame wins: replace an unread older frame
                        self._frames.get_nowait()
                        self.frames_dropped += 1
                    except queue.Empty:
                        pass
                if not self._put(self._frames, (item[0], item[1], capture_ms, read_index, self._generation)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the iterating thread
            self._put(self._frames, _Failure(exc, "read"))
            return
        self._put(self._frames, _END)

    def _analyze_loop(self) -> None:
        generation = 0
        while True:
            item = self._get(self._frames)
            if item is _END or isinstance(item, _Failure):
                self._put(self._analyses, item)
                return
            frame, timestamp_s, capture_ms, read_index, frame_generation = item
            try:
                if frame_generation != generation:  # a new source: no history carried over
                    generation = frame_generation
                    self.pipeline.reset()
                analysis = self.pipeline.analyze(frame, timestamp_s=timestamp_s, capture_ms=capture_ms)
            except BaseException as exc:  # noqa: BLE001 - handed to the iterating thread
                self._put(self._analyses, _Failure(exc, "analyze"))
                return
            if not self._put(self._analyses, (analysis, read_index)):
                return

    # -- the iterating thread --------------------------------------------------------------------
    def start(self) -> PipelineRunner:
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()
        return self

    def __iter__(self) -> Iterator[ProcessedFrame]:
        for out in self.frames():
            if out is not None:
                yield out

    def frames(self, idle_s: float | None = None) -> Iterator[ProcessedFrame | None]:
        """Like iterating, but yields None after `idle_s` without a frame (the caller may check its
        own requests, then go on iterating). Ends at the source's end, max_frames or stop()."""
        self.start()
        while True:
            item = self._get(self._analyses, idle_s)
            if item is None:
                yield None
                continue
            if item is _END:
                if self._owns_writer:
                    self.writer.close()  # every frame written: a failure at the very end still counts
                self._raise_sink_failure()
                return
            if isinstance(item, _Failure):
                self.failed_stage = item.stage
                self.stop()
                raise item.exc
            analysis, read_index = item
            try:
                out = self.pipeline.render(analysis)
            except BaseException:
                self.failed_stage = "render"
                self.stop()
                raise
            self.last_read_index, self.last_settings = read_index, analysis.settings
            self._raise_sink_failure()
            self.writer.submit(out)
            yield out

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Ask the threads to finish and wait for them (flag + join, never killed); closes the sinks
        (after the frames handed to them) unless the writer is the caller's. True when all ended."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout_s)
        done = not any(thread.is_alive() for thread in self._threads)
        with self._shown:
            pending, self._next_source = self._next_source, None
        if pending is not None and done:
            pending.close()  # handed over by switch_source but never read
        if self._owns_writer:
            done = self.writer.close() and done
        return done

    def __enter__(self) -> PipelineRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
