"""The CPU fast path: ONNX exports tied to their weights, chosen only when they match."""

import dataclasses
import shutil

import numpy as np
import pytest

from silhouette_cam.cli import main
from silhouette_cam.image_files import read_image
from silhouette_cam.model import load_weights, save_weights, shipped_weights_path
from silhouette_cam.onnx_runner import onnx_path_for, open_onnx_session
from silhouette_cam.segmenter import PersonSegmenter
from tests.conftest import FIXTURES

ASTRONAUT = FIXTURES / "golden" / "inputs" / "astronaut.jpg"


@pytest.mark.parametrize("variant", ["general", "landscape"])
def test_shipped_exports_match_the_shipped_weights(variant):
    path = shipped_weights_path(variant)
    session = open_onnx_session(onnx_path_for(path), load_weights(path)[1], threads=1)
    assert session.get_inputs()[0].shape == [1, 3, *{"general": [256, 256], "landscape": [144, 256]}[variant]]


def test_onnx_runtime_and_torch_agree():
    frame = read_image(ASTRONAUT)
    fast = PersonSegmenter(model="general", device="cpu", backend="onnxruntime").segment(frame)
    reference = PersonSegmenter(model="general", device="cpu", backend="torch").segment(frame)
    assert np.abs(fast - reference).max() < 1e-3


@pytest.fixture
def retrained_weights(tmp_path):
    """A copy of the general weights with one changed tensor, next to the (now stale) general export."""
    tensors, facts = load_weights(shipped_weights_path("general"))
    tensors["head.bias"] = tensors["head.bias"] + 0.5
    path = tmp_path / "retrained.safetensors"
    save_weights(path, tensors, dataclasses.replace(facts, variant="retrained"))
    shutil.copy(onnx_path_for(shipped_weights_path("general")), onnx_path_for(path))
    return path


def test_stale_export_is_never_used(retrained_weights):
    segmenter = PersonSegmenter(weights=retrained_weights, device="cpu")
    assert "PyTorch" in segmenter.device_label  # auto fell back to the weights themselves
    with pytest.raises(ValueError, match="retrained.onnx was exported from weights .* expected"):
        PersonSegmenter(weights=retrained_weights, device="cpu", backend="onnxruntime")


def test_missing_export_under_auto_uses_torch(tmp_path):
    path = tmp_path / "general.safetensors"
    shutil.copy(shipped_weights_path("general"), path)
    assert "PyTorch" in PersonSegmenter(weights=path, device="cpu", warmup=False).device_label


def test_cli_exports_onnx_that_matches_torch(retrained_weights, capsys):
    pytest.importorskip("onnxscript", reason="exporting needs the [convert] extra: pip install -e '.[convert]'")
    onnx_path_for(retrained_weights).unlink()
    assert main(["convert-weights", str(retrained_weights)]) == 0
    assert "retrained.onnx" in capsys.readouterr().out
    fast = PersonSegmenter(weights=retrained_weights, device="cpu", backend="onnxruntime")
    reference = PersonSegmenter(weights=retrained_weights, device="cpu", backend="torch")
    frame = read_image(ASTRONAUT)
    assert fast.device_label.startswith("CPU fp32 ONNX Runtime")
    got, expected = fast.segment_lowres(frame), reference.segment_lowres(frame)
    assert got.shape == expected.shape == (256, 256)
    assert np.abs(got - expected).max() < 1e-3
