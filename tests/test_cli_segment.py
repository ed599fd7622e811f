"""`silhouette-cam segment`: masks at each image's size, bad images reported while the rest are done."""

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from silhouette_cam.cli import main
from silhouette_cam.image_files import read_image
from silhouette_cam.segmenter import PersonSegmenter
from tests.conftest import FIXTURES, REPO_ROOT

INPUTS = FIXTURES / "golden" / "inputs"


def test_raw_masks_are_round_255_p_at_image_size(tmp_path):
    out = tmp_path / "masks"
    assert main(["segment", str(INPUTS), "-o", str(out), "--raw", "--model", "general", "--device", "cpu"]) == 0
    segmenter = PersonSegmenter(model="general", device="cpu")
    for image in sorted(INPUTS.glob("*.jpg")):
        mask = cv2.imread(str(out / f"{image.stem}.png"), cv2.IMREAD_UNCHANGED)
        frame = read_image(image)
        assert mask.dtype == np.uint8 and mask.shape == frame.shape[:2]
        expected = np.rint(segmenter.segment(frame) * 255)
        assert np.abs(mask.astype(int) - expected).max() <= 1


def test_one_bad_image_is_reported_and_the_rest_are_done(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(INPUTS / "astronaut.jpg", folder / "good.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py"), "segment", str(folder),
                             str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "out"), "--raw"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "image " + str(folder / "broken.png") + " could not be decoded" in result.stderr
    assert "missing.jpg does not exist" in result.stderr
    assert (tmp_path / "out" / "good.png").is_file()
    assert "wrote 1 mask(s)" in result.stdout and "2 failed" in result.stdout


def test_unwritable_output_folder_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["segment", str(INPUTS / "astronaut.jpg"), "-o", str(blocker / "out"), "--raw"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("silhouette-cam segment: error: output folder") and "\n" not in err


def test_unknown_model_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", str(INPUTS), "-o", "x", "--model", "huge"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def test_refinement_options_reach_the_masks_under_the_windows_names(tmp_path):
    """`segment` takes the window's refinement options (same flags as `process`): --invert swaps person
    and background, --softness 0 gives a hard mask, --no-edge-snap / --no-tracking are accepted."""
    image = INPUTS / "astronaut.jpg"
    runs = {"default": [], "inverted": ["--invert"], "hard": ["--softness", "0", "--no-edge-snap", "--no-tracking"]}
    masks = {}
    for name, flags in runs.items():
        out = tmp_path / name
        assert main(["segment", str(image), "-o", str(out), "--device", "cpu", "--quiet", *flags]) == 0
        masks[name] = cv2.imread(str(out / "astronaut.png"), cv2.IMREAD_UNCHANGED).astype(int)
    person = masks["default"] > 127
    assert 0.05 < person.mean() < 0.95
    assert ((masks["inverted"] > 127) == ~person).mean() > 0.99  # swapped
    assert set(np.unique(masks["hard"])) <= {0, 255}  # softness 0: a hard edge
    assert ((masks["hard"] > 127) == person).mean() > 0.97


def test_raw_with_refinement_options_and_bad_values_are_one_line_errors(tmp_path, capsys):
    image = str(INPUTS / "astronaut.jpg")
    assert main(["segment", image, "-o", str(tmp_path / "a"), "--raw", "--no-edge-snap"]) == 2
    assert capsys.readouterr().err.strip() == ("silhouette-cam segment: error: --raw writes the bare network output: "
                                               "it takes no refinement options (got --edge-snap)")
    assert main(["segment", image, "-o", str(tmp_path / "b"), "--threshold", "2"]) == 2
    assert "--threshold must be in 0..1, got 2" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
