"""`silhouette-cam eval` on image folders and on a video, through the real entry point."""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest
import torch

from silhouette_cam.cli import main
from silhouette_cam.model import save_weights
from silhouette_cam.model.snet import build_snet
from tests.make_shapes_dataset import SHAPES_SNET_FACTS, make_shapes_dataset


@pytest.fixture(scope="module")
def snet_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "shapes.safetensors"
    save_weights(path, build_snet(num_classes=3).state_dict(), SHAPES_SNET_FACTS)
    return path


def test_eval_images_prints_a_table_and_writes_json(tmp_path, snet_weights, capsys):
    data = make_shapes_dataset(tmp_path / "shapes", count=3, size=64, num_classes=3, seed=5)
    report_path = tmp_path / "report.json"
    code = main(
        [
            "eval",
            "--images",
            str(data / "images"),
            "--masks",
            str(data / "masks"),
            "--weights",
            str(snet_weights),
            "--device",
            "cpu",
            "--json",
            str(report_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "mean IoU" in out and "boundary F (3 px)" in out and "square" in out
    report = json.loads(report_path.read_text())
    assert report["frames"] == 3 and set(report["iou_per_class"]) == {"background", "disc", "square"}
    assert 0.0 <= report["mean_iou"] <= 1.0 and 0.0 <= report["boundary_f"] <= 1.0
    assert "dtssd" not in report


def write_video_and_masks(tmp_path, frames: int) -> tuple:
    """A moving grey box on black, 64x64, as an mp4, and its 0/255 masks."""
    video = tmp_path / "clip.mp4"
    masks = tmp_path / "masks"
    masks.mkdir()
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(frames):
            mask = np.zeros((64, 64), np.uint8)
            mask[16:48, 10 + 2 * i : 30 + 2 * i] = 255
            cv2.imwrite(str(masks / f"{i:05d}.png"), mask)
            frame = av.VideoFrame.from_ndarray(np.dstack([mask] * 3), format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return video, masks


def test_eval_video_reports_flicker(tmp_path, capsys):
    video, masks = write_video_and_masks(tmp_path, 4)
    report_path = tmp_path / "video.json"
    code = main(
        [
            "eval",
            "--video",
            str(video),
            "--masks",
            str(masks),
            "--device",
            "cpu",
            "--model",
            "general",
            "--json",
            str(report_path),
        ]
    )
    assert code == 0
    assert "flicker (dtSSD)" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["frames"] == 4 and 0.0 <= report["dtssd"] <= 1.0
    assert report["classes"] == ["background", "person"]


def test_eval_video_with_missing_masks_is_a_one_line_error(tmp_path, capsys):
    video, masks = write_video_and_masks(tmp_path, 3)
    (masks / "00002.png").unlink()
    code = main(["eval", "--video", str(video), "--masks", str(masks), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "more frames than the 2 masks" in err


def test_eval_needs_exactly_one_source(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--masks", "m"])
    assert "one of the arguments --images --video is required" in capsys.readouterr().err
