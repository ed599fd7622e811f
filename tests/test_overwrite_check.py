"""overwrite_check: an output that is an input is refused, however the path is spelled."""

from __future__ import annotations

import os

import pytest

from silhouette_cam.overwrite_check import check_output_file, check_output_folder, check_output_not_inside_input


def test_same_file_by_any_spelling(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    (tmp_path / "sub").mkdir()
    os.symlink(clip, tmp_path / "link.mp4")
    os.link(clip, tmp_path / "hard.mp4")
    for spelling in (clip, tmp_path / "sub" / ".." / "clip.mp4", tmp_path / "link.mp4", tmp_path / "hard.mp4"):
        with pytest.raises(ValueError, match="is the input .*clip.mp4: it would be overwritten"):
            check_output_file(spelling, [str(clip)])
    check_output_file(tmp_path / "other.mp4", [clip])


def test_folder_that_would_replace_inputs(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes(b"png")
    (photos / "b.jpg").write_bytes(b"jpg")
    with pytest.raises(ValueError, match=r"output folder .*photos would overwrite the input .*a.png with a.png"):
        check_output_folder(photos, ["a.png", "b.png"], [photos / "a.png", photos / "b.jpg"])
    check_output_folder(photos, ["b.png"], [photos / "b.jpg"])  # b.png is new: nothing replaced
    check_output_folder(tmp_path / "masks", ["a.png"], [photos / "a.png"])


def test_output_folder_that_is_the_input_folder(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    with pytest.raises(ValueError, match="is the input folder .*frames"):
        check_output_not_inside_input(tmp_path / "." / "frames", frames)
    check_output_not_inside_input(tmp_path / "out", frames)
