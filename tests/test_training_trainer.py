"""`fit` end to end on tiny generated data: learns, keeps the best, resumes exactly, fine-tunes selfie."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from silhouette_cam.model import build_model, load_weights
from silhouette_cam.training.checkpoint import read_state
from silhouette_cam.training.config import TrainConfig
from silhouette_cam.training.trainer import fit
from tests.make_shapes_dataset import make_shapes_dataset


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"), count=10, size=64, num_classes=3, seed=1)


def snet_config(shapes, out, **changes) -> TrainConfig:
    options = dict(
        images=shapes / "images",
        masks=shapes / "masks",
        out=out,
        model="snet",
        size=(64, 64),
        epochs=2,
        batch_size=4,
        val_fraction=0.2,
        seed=0,
        progress=False,
        export_onnx=False,  # one test below covers the export (it takes ~2 s)
    )
    options.update(changes)
    return TrainConfig(**options)


def test_snet_run_writes_loadable_weights_and_history(shapes, tmp_path):
    result = fit(snet_config(shapes, tmp_path / "s.safetensors"))
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert all(np.isfinite(h["loss"]) and 0 <= h["val_miou"] <= 1 for h in result.history)
    assert result.best_miou == max(h["val_miou"] for h in result.history)
    module, facts = build_model(weights=tmp_path / "s.safetensors")
    assert facts.architecture == "snet" and facts.classes == ("background", "disc", "square")
    assert (facts.input_height, facts.input_width) == (64, 64) and facts.variant == "s"
    assert facts.extra["training"]["epoch"] == result.best_epoch
    assert (tmp_path / "s.train-state").is_file()


def test_resumed_run_equals_an_uninterrupted_one(shapes, tmp_path):
    straight = fit(snet_config(shapes, tmp_path / "a.safetensors"))
    # tiny time limit: stops after the first epoch, then --resume finishes the second
    first = fit(snet_config(shapes, tmp_path / "b.safetensors", time_limit_min=1e-9))
    assert len(first.history) == 1
    resumed = fit(snet_config(shapes, tmp_path / "b.safetensors", resume=True))
    # Same seed, same draws; multi-threaded CPU kernels may still differ in the last float bits.
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in straight.history], rel=1e-4)
    a = read_state(tmp_path / "a.train-state")["model"]
    b = read_state(tmp_path / "b.train-state")["model"]
    for name in a:
        torch.testing.assert_close(a[name].float(), b[name].float(), atol=1e-4, rtol=1e-3)


def test_resume_refuses_a_different_setup(shapes, tmp_path):
    fit(snet_config(shapes, tmp_path / "c.safetensors", epochs=1))
    with pytest.raises(ValueError, match="cannot resume .* epochs was 1, this run has 2"):
        fit(snet_config(shapes, tmp_path / "c.safetensors", resume=True))
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        fit(snet_config(shapes, tmp_path / "d.safetensors", resume=True))


def test_selfie_fine_tune_smoke(tmp_path):
    data = make_shapes_dataset(tmp_path / "binary", count=5, size=64, num_classes=2, seed=2)
    result = fit(
        TrainConfig(
            images=data / "images",
            masks=data / "masks",
            out=tmp_path / "f.safetensors",
            model="selfie-general",
            epochs=1,
            batch_size=4,
            progress=False,
        )
    )
    module, facts = build_model(weights=tmp_path / "f.safetensors")
    assert facts.architecture == "selfie" and facts.classes == ("background", "person")
    assert (facts.input_height, facts.input_width) == (256, 256) and facts.source_sha256
    # epoch 0 scores the starting weights; by default fine-tuning keeps the last epoch regardless
    assert [h["epoch"] for h in result.history] == [0, 1] and np.isfinite(result.history[1]["loss"])
    assert result.best_epoch == 1 and facts.extra["training"]["kept"] == "last"
    assert_weights_are_the_trained_state(tmp_path / "f.safetensors")
    # the loss temperature was fitted to the starting weights (their logits are far from calibrated)
    assert facts.extra["training"]["loss_temperature"] > 1.0


def assert_weights_are_the_trained_state(out) -> None:
    """The weights written to `out` are the model of the state saved after the last epoch."""
    state = read_state(out.with_suffix(".train-state"))["model"]
    written = load_weights(out)[0]
    assert written.keys() == state.keys()
    for name in state:
        torch.testing.assert_close(written[name], state[name], rtol=0, atol=0)


@pytest.mark.parametrize("keep", ["best", "last"])
def test_keep_chooses_the_best_or_the_last_epoch(shapes, tmp_path, keep):
    out = tmp_path / f"{keep}.safetensors"
    # lr 0.5 on S-Net: validation mIoU jumps around, so the best and the last epoch differ
    result = fit(snet_config(shapes, out, epochs=4, lr=0.5, keep=keep))
    scores = [h["val_miou"] for h in result.history]
    facts = load_weights(out)[1]
    assert facts.extra["training"]["kept"] == keep
    if keep == "last":
        assert result.best_epoch == 4 and result.best_miou == scores[-1]
        assert_weights_are_the_trained_state(out)
    else:
        assert result.best_miou == max(scores) and result.best_epoch == 1 + scores.index(max(scores))
        assert result.best_epoch < 4  # so this run tells the two modes apart
    assert facts.extra["training"]["epoch"] == result.best_epoch


def test_fine_tuning_with_keep_best_counts_the_starting_weights(tmp_path):
    data = make_shapes_dataset(tmp_path / "binary", count=5, size=64, num_classes=2, seed=2)
    config = TrainConfig(images=data / "images", masks=data / "masks", out=tmp_path / "k.safetensors",
                         model="selfie-general", epochs=2, batch_size=4, keep="best", progress=False)
    result = fit(config)
    scores = [h["val_miou"] for h in result.history]  # epoch 0 = the shipped weights
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert result.best_miou == max(scores) and result.best_epoch == scores.index(max(scores))
    assert load_weights(tmp_path / "k.safetensors")[1].extra["training"]["epoch"] == result.best_epoch


def test_selfie_refuses_multi_class_masks(shapes, tmp_path):
    with pytest.raises(ValueError, match="2 classes.*masks have 3 classes; use --model snet"):
        fit(
            TrainConfig(
                images=shapes / "images",
                masks=shapes / "masks",
                out=tmp_path / "x.safetensors",
                model="selfie-general",
                progress=False,
            )
        )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error path")
def test_training_on_cuda_without_a_gpu_is_a_clear_error(shapes, tmp_path):
    with pytest.raises(ValueError, match="'cuda' was requested but CUDA is not available"):
        fit(snet_config(shapes, tmp_path / "c.safetensors", device="cuda"))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU with CUDA")
def test_training_runs_on_cuda_and_the_weights_load_on_the_cpu(shapes, tmp_path):
    result = fit(snet_config(shapes, tmp_path / "g.safetensors", device="auto"))
    assert result.facts.extra["training"]["device"].startswith("cuda")
    assert all(np.isfinite(h["loss"]) for h in result.history)
    module, _ = build_model(weights=tmp_path / "g.safetensors")
    assert next(module.parameters()).device.type == "cpu"


def test_keep_must_be_best_or_last(shapes, tmp_path):
    with pytest.raises(ValueError, match="keep must be 'best' or 'last', got 'first'"):
        snet_config(shapes, tmp_path / "x.safetensors", keep="first")


def test_training_writes_an_onnx_export_that_onnx_runtime_runs_like_torch(shapes, tmp_path):
    pytest.importorskip("onnxscript", reason="exporting needs the [convert] extra: pip install -e '.[convert]'")
    from silhouette_cam.image_files import read_image
    from silhouette_cam.segmenter import PersonSegmenter
    from tests.conftest import FIXTURES

    out = tmp_path / "exported.safetensors"
    result = fit(snet_config(shapes, out, epochs=1, export_onnx=True))
    assert result.onnx == out.with_suffix(".onnx") and result.onnx.is_file()
    fast = PersonSegmenter(weights=out, device="cpu", backend="onnxruntime")
    reference = PersonSegmenter(weights=out, device="cpu", backend="torch")
    assert fast.device_label.startswith("CPU fp32 ONNX Runtime")
    frame = read_image(FIXTURES / "golden" / "inputs" / "astronaut.jpg")
    got, expected = fast.segment_classes(frame), reference.segment_classes(frame)
    assert np.abs(got[0] - expected[0]).max() < 1e-3
    assert np.mean(got[1] == expected[1]) > 0.999
