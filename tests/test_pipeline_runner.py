"""PipelineRunner and SinkWriter: pacing, latest-frame-wins, display back-pressure, switches, sinks,
clean stop and errors. Waits are on events with timeouts, never sleeps."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from silhouette_cam.frame_sinks import ImageSink, SinkWriter, frame_pixels
from silhouette_cam.pacing import SourcePacer
from silhouette_cam.pipeline import FramePipeline, PipelineSettings
from silhouette_cam.pipeline_runner import PipelineRunner
from silhouette_cam.sources import FrameSource
from tests.fixtures.pipeline_fakes import BrightSegmenter
from tests.fixtures.virtualcam_backend import ManualClock

WAIT_S = 10.0


class CountingSource(FrameSource):
    """Frames whose pixels hold their index (mod 256); `fail_after`: raise like an unplugged camera."""

    def __init__(self, frames: int, *, fps: float = 30.0, fail_after: int | None = None, value: int | None = None):
        self.fps, self.size, self.name = fps, (16, 12), "counting"
        self.frames, self.fail_after, self.value, self.index = frames, fail_after, value, 0
        self.exhausted, self.closed = threading.Event(), False

    def read(self):
        if self.fail_after is not None and self.index >= self.fail_after:
            raise OSError("device unplugged")
        if self.index >= self.frames:
            self.exhausted.set()
            return None
        frame = np.full((12, 16, 3), self.index % 256 if self.value is None else self.value, np.uint8)
        self.index += 1
        return frame, (self.index - 1) / self.fps

    def close(self) -> None:
        self.closed = True


def raw_pipeline() -> FramePipeline:
    """Mode "mask" of a BrightSegmenter: out.timestamp_s tells the frame; no history to blur it."""
    return FramePipeline(BrightSegmenter(), PipelineSettings().replace(temporal_strength=0.0, track_people=False))


class ListSink:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.timestamps: list[float] = []
        self.images: list[np.ndarray] = []
        self.closed, self.gate = False, gate

    def write(self, frame) -> None:
        if self.gate is not None:
            assert self.gate.wait(WAIT_S)
        self.timestamps.append(frame.timestamp_s)
        self.images.append(frame.image)

    def close(self) -> None:
        self.closed = True


def test_every_frame_in_order_to_the_sinks_which_are_closed_at_the_end():
    sink = ListSink()
    with PipelineRunner(raw_pipeline(), CountingSource(40), sinks=[sink]) as runner:
        shown = [out.timestamp_s for out in runner]
    assert shown == [i / 30 for i in range(40)]
    assert sink.timestamps == shown and sink.closed  # stop() wrote every frame before closing
    assert set(runner.pipeline.stats.stage_ms) >= {"capture", "segment", "refine", "render", "write"}


def test_sink_frames_keep_their_pixels_while_rendering_goes_on():
    sink = ListSink()
    with PipelineRunner(raw_pipeline(), CountingSource(20), sinks=[sink]) as runner:
        list(runner)
    assert [int(image[0, 0, 0]) for image in sink.images] == list(range(20))


def test_paced_releases_frames_at_the_source_rate():
    clock = ManualClock()
    source = CountingSource(30, fps=25.0)
    runner = PipelineRunner(raw_pipeline(), source, paced=True, pacer=SourcePacer(clock=clock, sleep=clock.sleep))
    with runner:
        assert len(list(runner)) == 30
    assert sum(clock.slept) == pytest.approx(29 / 25)  # the clock moved only by the pacer's waits


def test_live_keeps_only_the_newest_frame_for_a_slow_consumer():
    source = CountingSource(200)
    with PipelineRunner(raw_pipeline(), source, live=True) as runner:
        frames = runner.frames(idle_s=0.05)
        first = next(frames)  # stall here: the reader finishes the source meanwhile
        assert source.exhausted.wait(WAIT_S)
        shown = [out.timestamp_s for out in [first, *frames] if out is not None]
    assert shown[-1] == pytest.approx(199 / 30)  # the newest frame always arrives
    assert len(shown) <= 4 and runner.frames_dropped >= 190  # at most one per queue, never a backlog


def test_display_ahead_reads_no_further_than_the_shown_frame_allows():
    source = CountingSource(25)
    with PipelineRunner(raw_pipeline(), source, display_ahead=1) as runner:
        frames = runner.frames(idle_s=0.3)
        first = next(frames)
        assert first is not None and runner.last_read_index == 0
        assert next(frames).timestamp_s == pytest.approx(1 / 30)
        assert next(frames) is None and runner.frames_read == 2  # frame 2 waits for frame 0 on screen
        assert runner.frame_shown(0) == 1  # its age: one newer frame read
        ages = []
        for out in frames:
            if out is None:
                continue
            ages.append(runner.frame_shown(runner.last_read_index))
            if runner.last_read_index == 24:
                break
    assert max(ages) <= 1


def test_switch_source_closes_the_old_one_and_resets_history():
    first, second = CountingSource(10_000, value=10), CountingSource(5, value=200)
    pipeline = raw_pipeline()
    resets = []
    original_reset = pipeline.reset
    pipeline.reset = lambda: (resets.append(1), original_reset())
    with PipelineRunner(pipeline, first) as runner:
        values = []
        for out in runner:
            values.append(round(out.timestamp_s * 30))
            if len(values) == 3:
                runner.switch_source(second)
    assert first.closed and resets == [1]
    assert values[:3] == [0, 1, 2] and values[-5:] == [0, 1, 2, 3, 4]  # every frame of the new source


def test_a_segmenter_swap_applies_from_the_next_frames():
    class Nobody(BrightSegmenter):
        def segment_lowres(self, frame):
            return np.zeros_like(super().segment_lowres(frame))

    pipeline = raw_pipeline()
    masks = []
    with PipelineRunner(pipeline, CountingSource(10_000, value=255)) as runner:
        for out in runner:
            masks.append(float(out.mask.mean()))
            if len(masks) == 3:
                pipeline.segmenter = Nobody()
            if len(masks) == 12:
                break
    assert masks[0] > 0.9 and masks[-1] < 0.1


def test_a_slow_sink_does_not_stall_rendering_when_live():
    gate = threading.Event()
    sink = ListSink(gate)
    writer = SinkWriter(max_pending=2, drop_when_full=True)  # what live=True makes
    writer.add(sink)
    with PipelineRunner(raw_pipeline(), CountingSource(30), writer=writer) as runner:
        rendered = sum(1 for _ in runner)  # the sink is stuck for the whole run
    gate.set()
    assert writer.close()
    assert rendered == 30 and writer.frames_dropped == 28 and len(sink.timestamps) == 2


def test_sinks_added_and_removed_while_running_get_exactly_the_frames_between():
    sink = ListSink()
    with PipelineRunner(raw_pipeline(), CountingSource(30)) as runner:
        for out in runner:
            index = round(out.timestamp_s * 30)
            if index == 4:
                runner.add_sink(sink)
            if index == 9:
                runner.remove_sink(sink)
    assert sink.closed and [round(t * 30) for t in sink.timestamps] == [5, 6, 7, 8, 9]


def test_a_failing_sink_is_closed_reported_and_the_others_go_on():
    class Unplugged(ListSink):
        def write(self, frame):
            if len(self.timestamps) == 3:
                raise OSError("device gone")
            super().write(frame)

    errors, broken, fine = [], Unplugged(), ListSink()
    writer = SinkWriter(on_error=lambda sink, exc: errors.append((sink, str(exc))))
    writer.add(broken)
    writer.add(fine)
    with PipelineRunner(raw_pipeline(), CountingSource(10), writer=writer) as runner:
        list(runner)
    assert writer.close()
    assert errors == [(broken, "device gone")] and broken.closed and writer.sinks == []
    assert len(broken.timestamps) == 3 and len(fine.timestamps) == 10 and fine.closed


def test_source_errors_re_raise_in_the_iterating_thread_with_the_stage():
    runner = PipelineRunner(raw_pipeline(), CountingSource(100, fail_after=3))
    got = []
    with pytest.raises(OSError, match="device unplugged"):
        for out in runner:
            got.append(out.timestamp_s)
    assert runner.failed_stage == "read" and len(got) == 3
    assert not any(thread.is_alive() for thread in runner._threads)


def test_stop_interrupts_a_display_wait():
    runner = PipelineRunner(raw_pipeline(), CountingSource(100), display_ahead=0)
    frames = runner.frames(idle_s=0.2)
    got = [next(frames) for _ in range(2)]  # display_ahead=0: frame 1 waits for frame 0 on screen
    assert got[0] is not None and got[1] is None
    assert runner.stop(timeout_s=1.0)


def test_frame_pixels_is_the_one_alpha_choice():
    rgb = np.zeros((4, 6, 3), np.uint8)
    out = raw_pipeline().process(np.zeros((12, 16, 3), np.uint8))
    assert frame_pixels(out, False) is out.image
    assert frame_pixels(out, True).shape == (12, 16, 4) and frame_pixels(out, True)[..., 3].min() == 255
    assert frame_pixels(out, True, pad=False) is out.image  # a camera takes RGB as it is: no matting
    written = []

    class Target:
        def write(self, image, timestamp_s):
            written.append(image.shape)

        def close(self):
            written.append("closed")

    sink = ImageSink(Target(), alpha=True)
    sink.write(out)
    sink.close()
    assert written == [(12, 16, 4), "closed"] and rgb.shape == (4, 6, 3)
