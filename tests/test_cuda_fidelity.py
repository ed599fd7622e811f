"""Masks against MediaPipe's own on full-body and small-person frames (tests/fixtures/golden/fullbody),
for the CPU path, for the CUDA math on CPU torch, and (marked `cuda`) for the CUDA engine itself.

Bars (issue #12): portraits mean IoU >= 0.995, worst >= 0.98; full-body/small-person frames mean
>= 0.99, worst >= 0.85 (the CPU path reaches 0.974 worst here, so the CPU tests hold it to 0.95).
"""

from __future__ import annotations

import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from silhouette_cam.image_files import read_image
from silhouette_cam.inference import TorchRunner
from silhouette_cam.model import build_model, shipped_weights_path
from silhouette_cam.segmenter import PersonSegmenter
from tests.conftest import FIXTURES

PORTRAITS = FIXTURES / "golden"
FULLBODY = FIXTURES / "golden" / "fullbody"
VARIANTS = ("general", "landscape")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU with CUDA")


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def golden_ious(segment, golden_set: Path, variant: str) -> list[float]:
    """IoU at 0.5 of segment(frame) -> [H, W] probability against MediaPipe's, per input of the set."""
    inputs = sorted((golden_set / "inputs").glob("*.jpg"))
    assert inputs, f"no golden inputs in {golden_set}"
    scores = []
    for image in inputs:
        reference = cv2.imread(str(golden_set / f"mediapipe_{variant}" / f"{image.stem}.png"), cv2.IMREAD_UNCHANGED)
        scores.append(iou(segment(read_image(image)) > 0.5, reference / 65535.0 > 0.5))
    return scores


@pytest.mark.parametrize("variant", VARIANTS)
def test_cpu_path_meets_the_fullbody_goldens(variant):
    scores = golden_ious(PersonSegmenter(model=variant, device="cpu").segment, FULLBODY, variant)
    assert len(scores) == 7
    assert np.mean(scores) >= 0.99 and min(scores) >= 0.95, scores


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_cuda_math_on_cpu_torch_meets_the_fullbody_goldens(variant):
    runner = TorchRunner(*build_model(weights=shipped_weights_path(variant)), torch.device("cpu"), "fp32")
    scores = golden_ious(lambda frame: runner.person_probability(frame, full_size=True), FULLBODY, variant)
    assert np.mean(scores) >= 0.99 and min(scores) >= 0.95, scores


# -- on an NVIDIA GPU ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cuda_segmenters():
    return {variant: PersonSegmenter(model=variant, device="cuda") for variant in VARIANTS}


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("variant", VARIANTS)
def test_cuda_meets_the_fidelity_bars(cuda_segmenters, variant):
    segmenter = cuda_segmenters[variant]
    assert segmenter.device_label.startswith(f"CUDA {segmenter.precision} ")
    portraits = golden_ious(segmenter.segment, PORTRAITS, variant)
    fullbody = golden_ious(segmenter.segment, FULLBODY, variant)
    assert np.mean(portraits) >= 0.995 and min(portraits) >= 0.98, (segmenter.precision, portraits)
    assert np.mean(fullbody) >= 0.99 and min(fullbody) >= 0.85, (segmenter.precision, fullbody)


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("variant", VARIANTS)
def test_cuda_masks_match_the_cpu_path(cuda_segmenters, variant):
    cpu = PersonSegmenter(model=variant, device="cpu")
    for image in sorted((FULLBODY / "inputs").glob("*.jpg")) + sorted((PORTRAITS / "inputs").glob("*.jpg")):
        frame = read_image(image)
        assert iou(cuda_segmenters[variant].segment(frame) > 0.5, cpu.segment(frame) > 0.5) >= 0.95, image.name


@pytest.mark.cuda
@needs_cuda
def test_cuda_graph_replays_equal_the_eager_network():
    from silhouette_cam.device.graphs import GraphedNetwork

    module, _ = build_model(weights=shipped_weights_path("general"))
    module = module.cuda().to(memory_format=torch.channels_last)
    torch.backends.cudnn.allow_tf32 = False
    graphed = GraphedNetwork(module, device=torch.device("cuda"), dtype=torch.float32)
    for batch in (1, 3, 1):
        x = torch.rand(batch, 3, 256, 256, device="cuda")
        with torch.inference_mode():
            expected = module(x)
        assert torch.allclose(graphed(x), expected, atol=1e-4)
    assert sorted(graphed.captured_shapes) == [(1, 3, 256, 256), (3, 3, 256, 256)]


@pytest.mark.cuda
@needs_cuda
def test_make_pipeline_on_cuda_matches_the_cpu_pipeline_on_a_real_clip(shared_data):
    from silhouette_cam.device import make_pipeline
    from silhouette_cam.device.pipeline import DevicePipeline
    from silhouette_cam.pipeline import FramePipeline, PipelineSettings

    capture = cv2.VideoCapture(str(shared_data / "davis" / "videos" / "dance-twirl.mp4"))
    frames = [capture.read()[1] for _ in range(20)]
    settings = PipelineSettings().replace(mode="cutout", background="blur")
    reference = FramePipeline(PersonSegmenter(device="cpu"), settings)
    device = make_pipeline(PersonSegmenter(device="cuda"), settings)
    assert isinstance(device, DevicePipeline)
    for frame in frames:
        device._device_refiner.tracker = copy.deepcopy(reference._refiner.tracker)  # same crop plans
        a, b = reference.process(frame), device.process(frame)
        assert iou(a.mask > 0.5, b.mask > 0.5) >= 0.99
        assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() <= 2.0
