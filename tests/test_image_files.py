"""image_files: any file name, a pixel limit from the header, damaged files named, atomic writes."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PIL import Image

from silhouette_cam.image_files import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, max_pixels, read_image, write_image
from tests.media_makers import png_with_header

ODD_NAME = os.fsdecode(b"caf\xe9 \xff\xfe photo")  # Latin-1 bytes: not valid UTF-8


def test_non_utf8_names_round_trip(tmp_path, rng):
    image = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    path = tmp_path / f"{ODD_NAME}.png"
    write_image(path, image)
    assert os.listdir(os.fsencode(tmp_path)) == [os.fsencode(path.name)]
    np.testing.assert_array_equal(read_image(path), image)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16", "LA"])
def test_modes_read_as_bgr_like_opencv(tmp_path, rng, mode):
    rgb = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)
    if mode == "I;16":
        image = Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257)
    else:
        image = Image.fromarray(rgb).convert(mode)
    path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
    image.save(path)
    ours = read_image(path)
    assert ours.shape == (30, 40, 3) and ours.dtype == np.uint8
    tolerance = 40 if mode == "CMYK" else 1  # libjpeg's and Pillow's CMYK conversions differ
    assert np.abs(ours.astype(int) - cv2.imread(str(path)).astype(int)).max() <= tolerance


def test_header_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    path = png_with_header(tmp_path / "huge.png", 30000, 30000)
    with pytest.raises(ValueError, match=r"huge.png is 30000x30000 \(900.0 MP\), over the limit of 12.5 MP "
                                         rf"\(set {MAX_PIXELS_ENV}"):
        read_image(path)
    monkeypatch.setenv(MAX_PIXELS_ENV, "100")
    with pytest.raises(ValueError, match="over the limit of 0.0001 MP"):
        read_image(png_with_header(tmp_path / "small.png", 20, 20))


def test_pixel_limit_setting(monkeypatch):
    monkeypatch.delenv(MAX_PIXELS_ENV, raising=False)
    assert max_pixels() == DEFAULT_MAX_PIXELS
    monkeypatch.setenv(MAX_PIXELS_ENV, "40_000_000")
    assert max_pixels() == 40_000_000
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(ValueError, match=f"{MAX_PIXELS_ENV} must be a positive number of pixels, got 'lots'"):
        max_pixels()


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_truncated_files_are_named_errors(tmp_path, rng, suffix):
    whole = tmp_path / f"whole{suffix}"
    write_image(whole, rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"image .*cut{suffix} (is truncated or corrupt|could not be decoded)"):
        read_image(cut)


def test_lying_header_with_no_data_is_named(tmp_path):
    with pytest.raises(ValueError, match="empty.png is truncated or corrupt"):
        read_image(png_with_header(tmp_path / "empty.png", 200, 100))


def test_tiny_image_names_the_file_and_the_minimum(tmp_path):
    write_image(tmp_path / "dot.png", np.zeros((2, 300, 3), np.uint8))
    with pytest.raises(ValueError, match=r"image .*dot.png is 300x2, expected at least 16x16 pixels"):
        read_image(tmp_path / "dot.png")


def test_garbage_zero_bytes_and_folders(tmp_path):
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "dir.png").mkdir()
    for name in ("zero.png", "text.jpg"):
        with pytest.raises(ValueError, match=f"image .*{name} could not be decoded"):
            read_image(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="dir.png does not exist"):
        read_image(tmp_path / "dir.png")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) to simulate a full disk")
def test_full_disk_is_an_error_and_leaves_the_old_file(tmp_path, monkeypatch, rng):
    target = tmp_path / "mask.png"
    target.write_bytes(b"old contents")
    real_open = open

    def open_full(path, mode="r", *args, **kwargs):  # every temp file lands on a full disk
        if "w" in mode and os.fspath(path).endswith(".tmp.png"):
            return real_open("/dev/full", mode, *args, **kwargs)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", open_full)
    with pytest.raises(OSError, match=r"cannot write mask .*mask.png: no space left on device"):
        write_image(target, rng.integers(0, 255, (64, 64), dtype=np.uint8), what="mask")
    monkeypatch.undo()
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]  # no temp file left behind


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"suffix '.gif' is not one of"):
        write_image(tmp_path / "x.gif", np.zeros((4, 4), np.uint8))


def test_tiff_decoder_messages_are_folded_into_the_files_line(tmp_path, rng, capfd):
    """libtiff prints "tempfile.tif: ..." naming no file; that text ends up in the one line about the file."""
    write_image(tmp_path / "s.tiff", rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    data = np.frombuffer((tmp_path / "s.tiff").read_bytes(), np.uint8)
    messages = []
    for _ in range(60):
        damaged = data.copy()
        damaged[rng.integers(8, len(data), 3)] ^= 0x55
        (tmp_path / "x.tiff").write_bytes(damaged.tobytes())
        try:
            read_image(tmp_path / "x.tiff")
        except ValueError as exc:
            messages.append(str(exc))
    assert any("x.tiff is truncated or corrupt (" in m and "tempfile.tif" in m for m in messages)
    assert capfd.readouterr().err == ""
