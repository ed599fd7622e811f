"""PersonSegmenter: held to MediaPipe's own outputs (goldens), frame validation, variants, devices."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from silhouette_cam.errors import DeviceError
from silhouette_cam.image_files import read_image
from silhouette_cam.segmenter import PersonSegmenter, resolve_device
from tests.conftest import FIXTURES

GOLDEN = FIXTURES / "golden"
GOLDEN_INPUTS = sorted((GOLDEN / "inputs").glob("*.jpg"))


@pytest.fixture(scope="module")
def segmenters():
    return {variant: PersonSegmenter(model=variant, device="cpu") for variant in ("general", "landscape")}


@pytest.fixture(scope="module")
def torch_segmenters():
    return {variant: PersonSegmenter(model=variant, device="cpu", backend="torch")
            for variant in ("general", "landscape")}


def mediapipe_reference(variant: str, image: Path) -> np.ndarray:
    """MediaPipe 0.10.14's probability for `image` (16-bit PNG written by scripts/make_goldens.py)."""
    return cv2.imread(str(GOLDEN / f"mediapipe_{variant}" / f"{image.stem}.png"), cv2.IMREAD_UNCHANGED) / 65535.0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
@pytest.mark.parametrize("variant", ["general", "landscape"])
def test_port_matches_mediapipe_on_goldens(segmenters, torch_segmenters, variant, backend):
    segmenter = (segmenters if backend == "onnxruntime" else torch_segmenters)[variant]
    assert ("ONNX Runtime" if backend == "onnxruntime" else "PyTorch") in segmenter.device_label
    ious, errors = [], []
    for image in GOLDEN_INPUTS:
        prob = segmenter.segment(read_image(image))
        ref = mediapipe_reference(variant, image)
        assert prob.shape == ref.shape
        ious.append(iou(prob > 0.5, ref > 0.5))
        errors.append(np.abs(prob - ref).mean())
    assert len(ious) == 4
    assert np.mean(ious) >= 0.995, ious
    assert min(ious) >= 0.98, ious
    assert np.mean(errors) <= 0.01, errors


def test_output_is_float32_probability_at_frame_size(segmenters, rng):
    frame = rng.integers(0, 256, (123, 77, 3), dtype=np.uint8)
    prob = segmenters["general"].segment(frame)
    assert prob.shape == (123, 77) and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0


def test_lowres_output_is_at_network_resolution(segmenters, rng):
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    assert segmenters["general"].segment_lowres(frame).shape == (256, 256)
    assert segmenters["landscape"].segment_lowres(frame).shape == (144, 256)


def test_auto_picks_landscape_for_wide_frames_only():
    segmenter = PersonSegmenter(model="auto", device="cpu", warmup=False)
    assert segmenter.runner_for(1280, 720).facts.variant == "landscape"
    assert segmenter.runner_for(640, 480).facts.variant == "general"
    assert segmenter.runner_for(480, 640).facts.variant == "general"
    segmenter.model = "landscape"  # live switch applies to the next frame
    assert segmenter.runner_for(640, 480).facts.variant == "landscape"


def test_segment_reports_variant_and_device(rng):
    segmenter = PersonSegmenter(device="cpu", warmup=False)
    segmenter.segment(rng.integers(0, 256, (90, 160, 3), dtype=np.uint8))
    assert segmenter.variant == "landscape"
    assert segmenter.device_label.startswith("CPU fp32")


def test_class_map_agrees_with_probability(segmenters):
    frame = read_image(GOLDEN_INPUTS[0])
    prob, classes = segmenters["general"].segment_classes(frame)
    assert classes.dtype == np.uint8 and set(np.unique(classes)) <= {0, 1}
    assert np.mean((prob > 0.5) == (classes == 1)) > 0.999


@pytest.mark.parametrize("frame,error,message", [
    (np.zeros((10, 10, 3), np.float32), TypeError, "dtype float32, expected uint8"),
    (np.zeros((10, 10), np.uint8), ValueError, r"shape \(10, 10\), expected \(H, W, 3\)"),
    (np.zeros((10, 10, 4), np.uint8), ValueError, r"shape \(10, 10, 4\), expected \(H, W, 3\)"),
    ([[0, 0, 0]], TypeError, "is a list, expected a numpy array"),
])
def test_bad_frames_are_refused_with_got_vs_expected(segmenters, frame, error, message):
    with pytest.raises(error, match=message):
        segmenters["general"].segment(frame)


def test_bad_arguments_name_the_choices():
    with pytest.raises(ValueError, match="model 'portrait' is not one of auto, general, landscape"):
        PersonSegmenter(model="portrait")
    with pytest.raises(ValueError, match="device 'tpu' is not one of auto, cpu, cuda"):
        PersonSegmenter(device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error path")
def test_cuda_without_gpu_fails_loudly():
    with pytest.raises(ValueError, match="'cuda' was requested but CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto")[1] == "no GPU found"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU with CUDA")
@pytest.mark.parametrize("variant", ["general", "landscape"])
def test_cuda_matches_mediapipe_on_goldens(variant):
    segmenter = PersonSegmenter(model=variant, device="cuda")
    assert segmenter.device_label.startswith(f"CUDA {segmenter.precision}")
    for image in GOLDEN_INPUTS:
        prob = segmenter.segment(read_image(image))
        ref = mediapipe_reference(variant, image)
        assert iou(prob > 0.5, ref > 0.5) >= 0.98
        assert np.abs(prob - ref).mean() <= 0.01


def test_raw_network_quality_on_real_portraits(shared_data, segmenters):
    """Regression guard against ground truth (not MediaPipe): the raw network scores ~0.953 here."""
    images = sorted((shared_data / "portraits" / "images").glob("*.jpg"))
    scores = []
    for image in images:
        gt = cv2.imread(str(shared_data / "portraits" / "masks" / f"{image.stem}.png"), cv2.IMREAD_GRAYSCALE) > 127
        scores.append(iou(segmenters["general"].segment(read_image(image)) > 0.5, gt))
    assert len(scores) >= 200
    assert np.mean(scores) >= 0.945


def test_all_torch_path_used_on_cuda_meets_the_golden_bar_too():
    """The CUDA runner's grid_sample stretch and torch resize, run here on the CPU in fp32.

    It interpolates in float where OpenCV rounds to uint8, so it is held to the goldens, not to CpuRunner.
    """
    from silhouette_cam.inference import TorchRunner
    from silhouette_cam.model import build_model, shipped_weights_path

    for variant in ("general", "landscape"):
        runner = TorchRunner(*build_model(weights=shipped_weights_path(variant)), torch.device("cpu"), "fp32")
        ious, errors = [], []
        for image in GOLDEN_INPUTS:
            prob = runner.person_probability(read_image(image), full_size=True)
            ref = mediapipe_reference(variant, image)
            ious.append(iou(prob > 0.5, ref > 0.5))
            errors.append(np.abs(prob - ref).mean())
        assert np.mean(ious) >= 0.995 and min(ious) >= 0.98, (variant, ious)
        assert np.mean(errors) <= 0.01, (variant, errors)


class BrokenCudaRunner:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("CUDA error: no kernel image is available for execution on the device\nmore")


def fake_gpu(monkeypatch):
    monkeypatch.setattr("silhouette_cam.segmenter.has_cuda_gpu", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake GPU")
    monkeypatch.setattr("silhouette_cam.inference.TorchRunner", BrokenCudaRunner)


def test_broken_cuda_under_auto_falls_back_to_cpu_and_says_why(monkeypatch):
    fake_gpu(monkeypatch)
    segmenter = PersonSegmenter(device="auto", warmup=False)
    assert segmenter.device == "cpu" and segmenter.precision == "fp32"
    assert segmenter.device_label == "CPU fp32 ONNX Runtime — CUDA failed: CUDA error: no kernel image is " \
                                     "available for execution on the device"


def test_broken_cuda_when_asked_for_is_an_error(monkeypatch):
    fake_gpu(monkeypatch)
    with pytest.raises(DeviceError, match="device 'cuda': CUDA failed: CUDA error: no kernel image"):
        PersonSegmenter(device="cuda", warmup=False)


def test_auto_without_a_driver_gpu_stays_on_the_cpu_without_asking_torch(monkeypatch):
    monkeypatch.setattr("silhouette_cam.segmenter.has_cuda_gpu", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: pytest.fail("torch was asked"))
    assert resolve_device("auto") == ("cpu", "no GPU found")


def test_precision_is_validated_and_exposed():
    with pytest.raises(ValueError, match="precision 'fp8' is not one of auto, fp32, tf32, fp16, bf16"):
        PersonSegmenter(precision="fp8")
    segmenter = PersonSegmenter(device="cpu", warmup=False)
    assert segmenter.precision == "fp32" and segmenter.device == "cpu"
