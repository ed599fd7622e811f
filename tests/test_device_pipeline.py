"""DevicePipeline (the frame path as torch ops) held to FramePipeline (numpy/OpenCV/ONNX Runtime, the
reference) on real frames, run on CPU torch: the same math, so the CUDA engine is tested without a GPU."""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest
import torch

from silhouette_cam.device import make_pipeline
from silhouette_cam.device.pipeline import DevicePipeline
from silhouette_cam.inference import TorchRunner
from silhouette_cam.model import build_model, shipped_weights_path
from silhouette_cam.pipeline import FramePipeline, PipelineSettings
from silhouette_cam.refine import RAW_SETTINGS, RefineSettings
from silhouette_cam.segmenter import PersonSegmenter

FRAMES = 10


class CpuTorchSegmenter(PersonSegmenter):
    """The shipped networks as TorchRunners on the CPU in fp32: what DevicePipeline runs on CUDA."""

    def __init__(self) -> None:
        super().__init__(device="cpu", warmup=False)
        self._runners = {variant: TorchRunner(*build_model(weights=shipped_weights_path(variant)),
                                              torch.device("cpu"), "fp32") for variant in ("general", "landscape")}


@pytest.fixture(scope="module")
def segmenters():
    torch.set_num_threads(1)  # the 2-core CI machine: torch's pool only adds waiting here
    return PersonSegmenter(device="cpu"), CpuTorchSegmenter()


@pytest.fixture(scope="module")
def davis(shared_data):
    """The first FRAMES frames of the DAVIS dance-twirl clip (854x480 BGR) and their masks."""
    capture = cv2.VideoCapture(str(shared_data / "davis" / "videos" / "dance-twirl.mp4"))
    frames = []
    while len(frames) < FRAMES:
        ok, frame = capture.read()
        assert ok, "the DAVIS clip has fewer frames than expected"
        frames.append(frame)
    masks = sorted((shared_data / "davis" / "masks" / "dance-twirl").glob("*.png"))[:FRAMES]
    return frames, [cv2.imread(str(m), cv2.IMREAD_GRAYSCALE) > 127 for m in masks]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def run_side_by_side(segmenters, frames, settings, *, shared_tracking: bool = True):
    """-> per-frame (reference ProcessedFrame copy, device ProcessedFrame copy)."""
    reference, device = FramePipeline(segmenters[0], settings), DevicePipeline(segmenters[1], settings)
    pairs = []
    for frame in frames:
        if shared_tracking:
            # The tracker plans crops from the mask it saw last; a 1e-3 difference moves a crop by a pixel
            # and the network's output with it, so the two engines are compared on the same plans.
            device._device_refiner.tracker = copy.deepcopy(reference._refiner.tracker)
        a, b = reference.process(frame), device.process(frame)
        pairs.append(((a.image.copy(), a.mask.copy(), None if a.rgba is None else a.rgba.copy()),
                      (b.image.copy(), b.mask.copy(), None if b.rgba is None else b.rgba.copy())))
    return pairs


@pytest.mark.parametrize("refine", [RAW_SETTINGS, RefineSettings(), RefineSettings(edge_guide="gray"),
                                    RefineSettings(threshold=0.3, softness=0.0, invert=True)],
                         ids=["raw", "default", "gray-guide", "hard-inverted"])
def test_device_masks_match_the_reference_on_a_real_clip(segmenters, davis, refine):
    pairs = run_side_by_side(segmenters, davis[0], PipelineSettings(refine=refine).replace(mode="mask"))
    ious = [iou(a[1] > 0.5, b[1] > 0.5) for a, b in pairs]
    assert min(ious) >= 0.99, ious
    assert np.mean([np.abs(a[1] - b[1]).mean() for a, b in pairs]) < 0.005


@pytest.mark.parametrize("mode,background", [("overlay", "transparent"), ("silhouette", "transparent"),
                                             ("mask", "transparent"), ("cutout", "transparent"),
                                             ("cutout", "color"), ("cutout", "blur"), ("cutout", "image")])
def test_device_renderings_match_the_reference_within_two_levels(segmenters, davis, mode, background, tmp_path):
    changes = {"mode": mode, "background": background}
    if background == "image":
        picture = tmp_path / "background.png"
        cv2.imwrite(str(picture), np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8))
        changes["background_path"] = str(picture)
    pairs = run_side_by_side(segmenters, davis[0][:4], PipelineSettings().replace(**changes))
    for (image_a, _, rgba_a), (image_b, _, rgba_b) in pairs:
        assert image_b.shape == image_a.shape and image_b.dtype == np.uint8
        assert np.abs(image_a.astype(int) - image_b.astype(int)).mean() <= 2.0
        assert (rgba_a is None) == (rgba_b is None)
        if rgba_a is not None:
            assert np.abs(rgba_a.astype(int) - rgba_b.astype(int)).mean() <= 2.0


def test_free_running_device_path_scores_as_the_reference_against_ground_truth(segmenters, davis):
    """Without shared plans the trackers drift apart by pixels; quality against DAVIS's masks must not."""
    frames, truth = davis
    pairs = run_side_by_side(segmenters, frames, PipelineSettings(), shared_tracking=False)
    reference = np.mean([iou(a[1] > 0.5, t) for (a, _), t in zip(pairs, truth, strict=True)])
    device = np.mean([iou(b[1] > 0.5, t) for (_, b), t in zip(pairs, truth, strict=True)])
    assert abs(device - reference) <= 0.01, (device, reference)


def test_make_pipeline_picks_the_engine_by_the_segmenters_device(segmenters):
    assert type(make_pipeline(segmenters[0])) is FramePipeline

    class OnCuda:
        device = "cuda"

        def runner_for(self, width, height):
            return segmenters[1].runner_for(width, height)

    assert isinstance(make_pipeline(OnCuda()), DevicePipeline)


def test_device_pipeline_reports_stage_timings_and_precision(segmenters, davis):
    pipeline = DevicePipeline(segmenters[1])
    out = pipeline.process(davis[0][0])
    assert set(out.timings_ms) >= {"capture", "segment", "refine", "render"}
    assert all(value >= 0 for value in out.timings_ms.values())
    assert pipeline.precision == "fp32"
