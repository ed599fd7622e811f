"""Tests for silhouette_cam.pipeline and pipeline_runner: the mask belongs to its own frame (also
across threads), live settings, timings, stills, errors from worker threads."""

from __future__ import annotations

import numpy as np
import pytest

from silhouette_cam.pipeline import FramePipeline, PipelineSettings, refine_still
from silhouette_cam.pipeline_runner import PipelineRunner
from silhouette_cam.sources import FrameSource
from tests.fixtures.pipeline_fakes import BrightSegmenter, ClassSegmenter, NearsightedSegmenter, disk_frame, disk_mask


class MovingDiskSource(FrameSource):
    """A bright disk moving 12 px per frame: frame i's truth is known exactly."""

    def __init__(self, frames: int = 12) -> None:
        self.frames, self.i, self.fps, self.size, self.name = frames, 0, 10.0, (320, 120), "moving disk"

    @staticmethod
    def center(i: int) -> tuple[int, int]:
        return (40 + 12 * i, 60)

    def read(self):
        if self.i >= self.frames:
            return None
        frame = disk_frame(320, 120, self.center(self.i), 20)
        self.i += 1
        return frame, (self.i - 1) / self.fps


def iou(a, b) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_process_returns_this_frames_mask_and_timings():
    pipe = FramePipeline(BrightSegmenter())
    out = pipe.process(disk_frame(), timestamp_s=1.5, capture_ms=2.0)
    assert out.image.shape == (120, 160, 3) and out.image.dtype == np.uint8
    assert out.mask.shape == (120, 160) and out.mask.dtype == np.float32
    assert out.rgba is None and out.timestamp_s == 1.5
    assert set(out.timings_ms) >= {"capture", "segment", "refine", "render"}
    assert iou(out.mask > 0.5, disk_mask()) > 0.9
    assert set(pipe.stats.stage_ms) >= {"capture", "segment", "refine", "render"}


@pytest.mark.parametrize("live", [False, True])
def test_threaded_runner_never_pairs_a_frame_with_a_stale_mask(live):
    source = MovingDiskSource(frames=12)
    pipe = FramePipeline(BrightSegmenter(), PipelineSettings().replace(temporal_strength=0.0))
    with PipelineRunner(pipe, source, live=live) as runner:
        outs = [(out.timestamp_s, out.mask.copy()) for out in runner]
    if not live:
        assert len(outs) == 12
    else:  # frames may be dropped, never all of them: the newest one always arrives
        assert len(outs) >= 1 and round(outs[-1][0] * 10) == 11
    for ts, mask in outs:
        i = round(ts * 10)
        assert iou(mask > 0.5, disk_mask(320, 120, MovingDiskSource.center(i), 20)) > 0.85, f"frame {i}"
    assert [ts for ts, _ in outs] == sorted(ts for ts, _ in outs)


def test_update_is_validated_and_applies_to_the_next_frame():
    pipe = FramePipeline(BrightSegmenter())
    pipe.update(mode="cutout", background="transparent", invert=True)
    out = pipe.process(disk_frame())
    assert out.rgba is not None and out.rgba[60, 80, 3] == 0 and out.rgba[5, 5, 3] == 255
    with pytest.raises(ValueError, match="unknown pipeline setting"):
        pipe.update(colour="red")
    with pytest.raises(ValueError, match="mode 'sketch'"):
        pipe.update(mode="sketch")
    assert pipe.settings.render.mode == "cutout"  # a rejected change leaves the settings as they were


def test_worker_errors_reach_the_iterating_thread():
    class Broken(BrightSegmenter):
        def segment_lowres(self, frame):
            raise RuntimeError("network exploded")

    pipe = FramePipeline(Broken())
    with pytest.raises(RuntimeError, match="exploded"), PipelineRunner(pipe, MovingDiskSource()) as runner:
        list(runner)


def test_stop_ends_a_never_ending_source():
    class Endless(MovingDiskSource):
        def read(self):
            self.i = self.i % 10
            return super().read()

    runner = PipelineRunner(FramePipeline(BrightSegmenter()), Endless())
    for count, _ in enumerate(runner, start=1):
        if count == 5:
            break
    runner.stop()
    assert not any(t.is_alive() for t in runner._threads)


def test_multiclass_overlay_uses_the_class_map():
    pipe = FramePipeline(ClassSegmenter())
    out = pipe.process(disk_frame())
    assert out.class_map is not None and set(np.unique(out.class_map)) == {0, 1, 2}


def test_refine_still_zooms_on_a_small_person():
    segmenter = BrightSegmenter(lowres=(32, 32))
    frame, truth = disk_frame(640, 360, (320, 180), 25), disk_mask(640, 360, (320, 180), 25)
    prob = refine_still(segmenter, frame)
    assert prob.shape == (360, 640) and prob.dtype == np.float32
    assert any(h < 360 for h, _ in segmenter.calls)  # a second, zoomed-in pass ran
    coarse = BrightSegmenter(lowres=(32, 32)).segment_lowres(frame)
    assert coarse.shape == (32, 32)
    assert iou(prob > 0.5, truth) > 0.9


def test_refine_still_finds_a_person_too_small_for_the_whole_picture():
    segmenter = NearsightedSegmenter(lowres=(64, 64), min_share=0.005)
    frame, truth = disk_frame(640, 360, (540, 280), 14), disk_mask(640, 360, (540, 280), 14)
    assert segmenter.segment_lowres(frame).max() == 0.0  # 0.27 % of the picture: unseen
    prob = refine_still(segmenter, frame)
    assert iou(prob > 0.5, truth) > 0.9


def test_refine_still_ends_when_only_a_search_tile_sees_somebody():
    """A person the search tile sees but their crop does not would start sweep after sweep."""

    class TileOnlySegmenter(BrightSegmenter):
        def segment_lowres(self, frame_bgr: np.ndarray) -> np.ndarray:
            assert len(self.calls) < 100, "refine_still keeps sweeping"
            out = super().segment_lowres(frame_bgr)
            return out if frame_bgr.shape[:2] == (216, 384) else np.zeros_like(out)  # 60 % of 640x360

    segmenter = TileOnlySegmenter()
    prob = refine_still(segmenter, disk_frame(640, 360, (100, 80), 20))
    assert prob.shape == (360, 640) and len(segmenter.calls) <= 12


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@pytest.mark.slow
@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_steady_memory_over_10000_frames():
    """Issue bar: no growth over 10,000 frames (threaded runner, all refinement, cutout with alpha)."""

    class Looping(MovingDiskSource):
        def read(self):
            self.i = self.i % self.frames
            return super().read()

    pipe = FramePipeline(BrightSegmenter(), PipelineSettings().replace(mode="cutout"))
    samples = {}
    with PipelineRunner(pipe, Looping(), max_frames=10_000) as runner:
        for count, _ in enumerate(runner, start=1):
            if count in (1_000, 10_000):
                samples[count] = _rss_mb()
    assert samples[10_000] - samples[1_000] < 8.0, samples


def test_bad_frame_is_refused_with_got_vs_expected():
    pipe = FramePipeline(BrightSegmenter(), PipelineSettings())
    with pytest.raises(TypeError, match="frame has dtype float32, expected uint8"):
        pipe.process(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"frame has shape \(8, 8\), expected \(H, W, 3\)"):
        pipe.process(np.zeros((8, 8), np.uint8))


def test_stored_settings_apply_one_by_one_and_bad_ones_keep_their_default():
    stored = {"background": "image", "background_path": "/x/beach.png", "overlay_opacity": 3, "mode": "cutout"}
    settings, skipped = PipelineSettings().with_stored(stored)
    assert (settings.render.background, settings.render.background_path) == ("image", "/x/beach.png")
    assert settings.render.mode == "cutout" and settings.render.overlay_opacity == 0.5
    assert skipped == {"overlay_opacity": "--opacity must be in 0..1, got 3"}


def test_smoothing_strength_reaches_the_smoother_through_its_validated_setter():
    from silhouette_cam.refine import MaskRefiner, RefineSettings, TemporalSmoother

    smoother = TemporalSmoother()
    smoother.strength = 0.75
    assert smoother.static_weight == pytest.approx(0.25) and smoother.strength == pytest.approx(0.75)
    with pytest.raises(ValueError, match="smoothing strength must be in 0..1"):
        smoother.strength = 1.0
    refiner = MaskRefiner()
    refiner.run(BrightSegmenter(), disk_frame(160, 120), RefineSettings(temporal_strength=0.6, track_people=False))
    assert refiner.smoother.strength == pytest.approx(0.6)
