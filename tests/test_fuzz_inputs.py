"""Fuzz: a few hundred damaged images and some damaged videos through `segment` and `process`.

Every run ends with exit 0 or 2, one `silhouette-cam ...` line per problem, never a traceback or a
crash; every good file is still written and every file that was not is named on stderr.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from silhouette_cam.cli import main
from silhouette_cam.image_files import read_image, write_image
from tests.conftest import FIXTURES, REPO_ROOT
from tests.media_makers import png_with_header, write_video

SUFFIXES = (".jpg", ".png", ".webp", ".bmp", ".tiff")


def seed_images(folder: Path) -> list[Path]:
    """Small valid images of each format, the material the damage is done to."""
    photo = read_image(FIXTURES / "golden" / "inputs" / "astronaut.jpg")[::8, ::8].copy()  # 64x64
    return [write_image(folder / f"seed{suffix}", photo) for suffix in SUFFIXES]


def lie_about_size(data: bytes, rng: np.random.Generator) -> bytes:
    """PNG: a new IHDR width/height with a correct CRC; other formats: random bytes in the header."""
    if data.startswith(b"\x89PNG"):
        width, height = (int(v) for v in rng.integers(1, 200_000, 2))
        body = struct.pack(">II", width, height) + data[24:29]
        chunk = b"IHDR" + body
        return data[:16] + body + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF) + data[33:]
    out = bytearray(data)
    for _ in range(4):
        out[int(rng.integers(2, min(64, len(out))))] = int(rng.integers(0, 256))
    return bytes(out)


def damaged(data: bytes, kind: str, rng: np.random.Generator) -> bytes:
    if kind == "truncated":
        return data[: int(rng.integers(0, len(data)))]
    if kind == "bitflip":
        out = np.frombuffer(data, np.uint8).copy()
        spots = rng.integers(0, len(out), int(rng.integers(1, 20)))
        out[spots] ^= rng.integers(1, 256, len(spots)).astype(np.uint8)
        return out.tobytes()
    if kind == "header":
        return lie_about_size(data, rng)
    if kind == "garbage":
        return rng.integers(0, 256, int(rng.integers(0, 4000)), dtype=np.uint8).tobytes()
    return b""  # zero bytes


@pytest.mark.slow
def test_segment_survives_hundreds_of_damaged_images(tmp_path):
    rng = np.random.default_rng(14)
    seeds = seed_images(tmp_path / "seeds")
    folder = tmp_path / "in"
    folder.mkdir()
    good = []
    kinds = ("truncated", "bitflip", "header", "garbage", "zero")
    for index in range(300):
        seed = seeds[(index // len(kinds)) % len(seeds)]  # every kind of damage on every format
        kind = kinds[index % len(kinds)]
        odd = os.fsdecode(b"\xff\xfe") if index % 7 == 0 else ""  # some names that are not UTF-8
        (folder / f"{index:03d}{odd}_{kind}{seed.suffix}").write_bytes(damaged(seed.read_bytes(), kind, rng))
    for index, seed in enumerate(seeds):
        good.append(folder / f"good{index}{seed.suffix}")
        good[-1].write_bytes(seed.read_bytes())
    png_with_header(folder / "liar_huge.png", 60000, 60000)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py"), "segment", os.fsdecode(folder), "-o",
                             os.fsdecode(out), "--raw", "--quiet", "--device", "cpu"],
                            capture_output=True, timeout=600)
    stderr = result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode in (0, 2), stderr[-2000:]
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert all(line.startswith("silhouette-cam segment: error: image ") for line in lines), lines[:5]
    written = {p.name for p in out.iterdir()}
    for path in good:
        assert f"{path.stem}.png" in written
    # Every input is either written or named (names print with backslash escapes for non-UTF-8 bytes).
    named = "\n".join(lines)
    for path in folder.iterdir():
        if f"{path.stem}.png" not in written:
            printable = os.fsdecode(path.name).encode("utf-8", "backslashreplace").decode()
            assert printable in named, path.name
    assert any("liar_huge.png is 60000x60000" in line for line in lines)
    assert f"wrote {len(written)} mask(s)" in result.stdout.decode("utf-8", "backslashreplace")


def damaged_videos(folder: Path, rng: np.random.Generator) -> list[Path]:
    whole = write_video(folder / "whole.mp4", [(64, 48)] * 30, options={"movflags": "faststart"})
    data = whole.read_bytes()
    videos = []
    for index in range(24):
        kind = ("truncated", "bitflip", "header", "garbage")[index % 4]
        path = folder / f"{index:02d}_{kind}{('.mp4', '.mkv', '.webm')[index % 3]}"
        path.write_bytes(damaged(data, kind, rng))
        videos.append(path)
    return videos


@pytest.mark.slow
def test_process_survives_damaged_videos_and_image_folders(tmp_path, capsys):
    rng = np.random.default_rng(17)
    videos = damaged_videos(tmp_path, rng)
    frames = tmp_path / "frames"
    seeds = seed_images(frames)
    (frames / "zz_cut.png").write_bytes(seeds[1].read_bytes()[:300])
    for index, source in enumerate([*videos, frames]):
        out = tmp_path / f"out{index}.mp4"
        code = main(["process", str(source), "-o", str(out), "--quiet", "--device", "cpu", "--max-frames", "40"])
        captured = capsys.readouterr()
        assert code in (0, 2)
        lines = [line for line in captured.err.splitlines() if line.strip()]
        assert all(line.startswith("silhouette-cam") for line in lines), lines
        if code == 2:
            assert len([line for line in lines if ": error: " in line]) == 1
            assert source.name in captured.err
        else:
            assert f"-> {out}" in captured.out
