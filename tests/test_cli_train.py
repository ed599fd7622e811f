"""`silhouette-cam train`: a tiny S-Net run through the real entry point, and one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from silhouette_cam.cli import main
from silhouette_cam.model import build_model
from tests.make_shapes_dataset import make_shapes_dataset


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"), count=6, size=64, num_classes=3, seed=4)


def snet_train_argv(shapes: Path, out: Path, *extra: str) -> list[str]:
    """`silhouette-cam train` on the shapes set with S-Net, quietly, writing `out`."""
    return ["train", "--images", str(shapes / "images"), "--masks", str(shapes / "masks"),
            "--model", "snet", "--out", str(out), "--quiet", *extra]


def test_train_snet_writes_weights_the_app_can_load(shapes, tmp_path, capsys):
    out = tmp_path / "shapes.safetensors"
    code = main(snet_train_argv(shapes, out, "--size", "64", "--epochs", "1", "--batch-size", "4",
                                "--class-weights", "1,2,2", "--no-flip"))
    assert code == 0
    assert "kept epoch" in capsys.readouterr().out
    _, facts = build_model(weights=out)
    assert facts.classes == ("background", "disc", "square")
    assert facts.extra["training"]["class_weights"] == [1.0, 2.0, 2.0]
    assert facts.extra["training"]["loss_temperature"] == 1.0  # auto: calibration is for fine-tuning only


def test_temperature_option_reaches_the_loss(shapes, tmp_path):
    out = tmp_path / "t.safetensors"
    code = main(snet_train_argv(shapes, out, "--size", "64", "--epochs", "1", "--batch-size", "4",
                                "--temperature", "2.5"))
    assert code == 0
    assert build_model(weights=out)[1].extra["training"]["loss_temperature"] == 2.5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.pt"], "--out must end in .safetensors"),
        (["--size", "100"], "multiples of 32"),
        (["--temperature", "0"], "--temperature must be a number > 0 or auto"),
        (["--keep", "first"], "invalid choice: 'first'"),
        (["--class-weights", "1,2"], "needs 3 non-negative numbers"),
        (["--classes", "5"], "--classes 5 disagrees"),
        (["--model", "selfie-general"], "use --model snet"),
    ],
)
def test_bad_arguments_are_one_line_errors(shapes, tmp_path, capsys, extra, message):
    argv = snet_train_argv(shapes, tmp_path / "y.safetensors", *extra)
    if extra[0] in ("--size", "--temperature", "--keep"):  # argparse rejects them while parsing
        with pytest.raises(SystemExit, match="2"):
            main(argv)
    else:
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("model", "extra", "expected"),
    [
        ("snet", [], ("median", True, 0.0, "best", 5e-3)),  # from scratch: the weighted loss, best epoch
        # fine-tuning: plain cross-entropy + Dice, a small step, the last epoch (measured, docs/training.md)
        ("selfie-general", [], ("none", False, 1.0, "last", 5e-5)),
        ("selfie-general",
         ["--class-weights", "median", "--border-weights", "--dice", "0", "--keep", "best", "--lr", "3e-4"],
         ("median", True, 0.0, "best", 3e-4)),
        ("snet", ["--keep", "last"], ("median", True, 0.0, "last", 5e-3)),
    ],
)
def test_defaults_follow_the_model_and_options_override_them(tmp_path, model, extra, expected):
    from silhouette_cam.cli.train import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    images, masks = tmp_path / "images", tmp_path / "masks"
    masks.mkdir()
    args = parser.parse_args(["--images", str(images), "--masks", str(masks), "--model", model,
                              "--out", str(tmp_path / "m.safetensors"), *extra])
    config = config_from_args(args)
    chosen = (config.class_weights, config.border_weights, config.dice_weight, config.keep, config.learning_rate)
    assert chosen == expected
