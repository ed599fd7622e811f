"""Issue 17 for segment / eval / train / convert-weights: help texts with defaults, files that follow the umask,
and issue 14's one-line refusals of weights that would need unpickling."""

from __future__ import annotations

import importlib.util
import os
import stat

import pytest
import torch
import torchvision

from silhouette_cam.cli import build_parser, main
from tests.make_shapes_dataset import make_shapes_dataset


def help_text(name: str) -> str:
    return " ".join(build_parser([name])[0].format_help().split())  # argparse wraps lines


@pytest.mark.parametrize("name", ["segment", "eval", "train"])
def test_device_is_described(name):
    assert "--device {auto,cpu,cuda} where" in help_text(name) and "CUDA GPU" in help_text(name)


def test_train_run_options_have_help_and_defaults():
    text = help_text("train")
    text = text[text.index("options:"):]  # past the usage line
    for option, default in [("--epochs N", "(default 20)"), ("--batch-size N", "(default 8)"),
                            ("--seed SEED", "(default 0)"), ("--workers N", "(default 0)"),
                            ("--out FILE", "(default weights/custom.safetensors)")]:
        start = text.index(option)
        assert default in text[start:start + 300], option
    assert "--encoder-weights FILE ImageNet weights for the S-Net encoder as .safetensors" in text


def test_convert_help_says_output_is_required_for_tflite():
    assert "required for a .tflite source" in help_text("convert-weights")


def test_segment_help_shows_defaults_and_quiet():
    text = help_text("segment")
    assert "(default: auto)" in text and "--quiet" in text and "SILHOUETTE_CAM_MAX_PIXELS" in text


@pytest.fixture
def umask_002():
    saved = os.umask(0o002)
    yield 0o664
    os.umask(saved)


def test_convert_from_torchvision_follows_the_umask(tmp_path, umask_002, capsys):
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), tmp_path / "m.pth")
    out = tmp_path / "m.safetensors"
    assert main(["convert-weights", "--from-torchvision", str(tmp_path / "m.pth"), "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == umask_002
    assert "use it with train --encoder-weights" in capsys.readouterr().out


def test_convert_refuses_bad_checkpoints_in_one_line(tmp_path, capsys):
    (tmp_path / "junk.pth").write_bytes(b"junk")
    assert main(["convert-weights", "--from-torchvision", str(tmp_path / "junk.pth"), "-o",
                 str(tmp_path / "o.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "torchvision checkpoint" in err and "junk.pth cannot be read as a weights-only state dict" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o.safetensors").exists()
    torch.save({"model": [1, 2]}, tmp_path / "list.pth")
    assert main(["convert-weights", "--from-torchvision", str(tmp_path / "list.pth"), "-o",
                 str(tmp_path / "o.safetensors")]) == 2
    assert "is not a state dict of tensors" in capsys.readouterr().err


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"), count=6, size=64, num_classes=3, seed=4)


def train_argv(shapes, out, *extra: str) -> list[str]:
    return ["train", "--images", str(shapes / "images"), "--masks", str(shapes / "masks"), "--model", "snet",
            "--size", "64", "--epochs", "1", "--batch-size", "4", "--out", str(out), "--quiet", *extra]


def test_train_outputs_follow_the_umask_and_resume_state_is_not_a_pickle(shapes, tmp_path, umask_002):
    out = tmp_path / "w.safetensors"
    assert main(train_argv(shapes, out)) == 0
    state = out.with_suffix(".train-state")
    # The ONNX export beside the weights needs the [convert] extra (without it: a note, no file).
    exported = [out.with_suffix(".onnx")] if importlib.util.find_spec("onnxscript") else []
    for path in (out, state, *exported):
        assert stat.S_IMODE(path.stat().st_mode) == umask_002, path
    assert not state.read_bytes().startswith(b"PK")  # torch.save writes a zip of pickles
    expected = sorted(["w.safetensors", "w.train-state", *(p.name for p in exported)])
    assert sorted(p.name for p in tmp_path.iterdir()) == expected  # no temp files


@pytest.mark.parametrize(("extra", "message"), [
    (["--encoder-weights", "mnv3.pth"], "--encoder-weights mnv3.pth: expected a .safetensors file"),
    (["--resume"], "is not a silhouette-cam training state"),
])
def test_weights_that_would_need_unpickling_are_one_line_errors(shapes, tmp_path, capsys, extra, message):
    out = tmp_path / "w.safetensors"
    torch.save({"epoch": 1}, out.with_suffix(".train-state"))  # a pickle where the state should be
    assert main(train_argv(shapes, out, *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
