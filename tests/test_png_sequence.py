"""Tests for silhouette_cam.png_encoder and png_sequence: exact round trips (two decoders), file order
with a pool finishing out of order, reused render buffers, and failures (a full disk, a failed fsync,
a short write, a worker error) that are raised once, name the file and leave no partial PNG counted."""

from __future__ import annotations

import errno
import io
import os
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from silhouette_cam import atomic_file, png_encoder, png_sequence
from silhouette_cam.atomic_file import write_bytes
from silhouette_cam.png_encoder import encode_png
from silhouette_cam.png_sequence import PngSequenceWriter
from silhouette_cam.render import FrameRenderer, RenderSettings

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "inputs"


def read_rgba(path: Path) -> np.ndarray:
    """Decode with OpenCV from bytes (any path), back to RGB(A)."""
    image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def random_frames(count: int, shape=(37, 53, 4), seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1, 4), (2, 3, 4), (31, 17, 3), (48, 64, 4), (300, 1201, 4)])
def test_encode_png_is_exact_for_opencv_and_pillow(shape):
    image = random_frames(1, shape, seed=shape[1])[0]
    data = encode_png(image)
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    back = cv2.cvtColor(back, cv2.COLOR_BGRA2RGBA if shape[2] == 4 else cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(back.reshape(shape), image)
    with Image.open(io.BytesIO(data)) as pil:
        assert pil.mode == ("RGBA" if shape[2] == 4 else "RGB")
        np.testing.assert_array_equal(np.asarray(pil).reshape(shape), image)


def test_encode_png_takes_views_and_falls_back_to_zlib(monkeypatch):
    image = random_frames(1, (40, 90, 4))[0][:, ::3]  # not contiguous
    expected = cv2.imdecode(np.frombuffer(encode_png(image), np.uint8), cv2.IMREAD_UNCHANGED)
    monkeypatch.setattr(png_encoder, "_deflate", png_encoder.zlib)
    assert png_encoder.deflate_backend() == "zlib"
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(encode_png(image), np.uint8), cv2.IMREAD_UNCHANGED),
                                  expected)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((4, 4, 4), np.float32), np.zeros((0, 4, 4), np.uint8), "image"])
def test_encode_png_refuses_what_is_not_an_image(bad):
    with pytest.raises(ValueError, match=r"got "):
        encode_png(bad)


def test_rendered_cutouts_round_trip_exactly_while_the_renderer_reuses_its_buffers(tmp_path):
    photo = cv2.imread(str(sorted(GOLDEN.glob("*.jpg"))[0]))
    photo = cv2.resize(photo, (160, 120), interpolation=cv2.INTER_AREA)
    renderer = FrameRenderer(ring=2)  # each output buffer is overwritten two frames later
    rendered = []
    with PngSequenceWriter(tmp_path / "seq", workers=2, depth=8) as writer:
        for i in range(10):
            mask = np.zeros(photo.shape[:2], np.float32)
            mask[:, 8 * i:8 * i + 70] = np.linspace(0, 1, 70, dtype=np.float32)  # soft edges: alpha 0..255
            _, rgba = renderer.render(photo, mask, RenderSettings(mode="cutout", background="transparent"))
            rendered.append(rgba.copy())
            writer.write(rgba, i / 30)
    assert writer.frames_written == 10
    assert listing(tmp_path / "seq") == [f"{i:06d}.png" for i in range(10)]
    for i, expected in enumerate(rendered):
        np.testing.assert_array_equal(read_rgba(tmp_path / "seq" / f"{i:06d}.png"), expected)
    assert len(np.unique(rendered[3][..., 3])) > 20


def test_names_follow_write_order_when_workers_finish_out_of_order(tmp_path, monkeypatch):
    second_done = threading.Event()
    encode = png_sequence.png_from_filtered_rows
    order: list[int] = []

    def first_waits_for_second(rows, channels):
        frame_id = int(rows[0, 1])  # the first pixel's red value tells which frame this is
        if frame_id == 0:
            assert second_done.wait(10), "frame 1 never finished"
        data = encode(rows, channels)
        order.append(frame_id)
        if frame_id == 1:
            second_done.set()
        return data

    monkeypatch.setattr(png_sequence, "png_from_filtered_rows", first_waits_for_second)
    frames = random_frames(6)
    for i, frame in enumerate(frames):
        frame[0, 0, 0] = i
    with PngSequenceWriter(tmp_path, workers=2) as writer:
        for frame in frames:
            writer.write(frame)
    assert order[:2] == [1, 0]
    assert writer.frames_written == 6
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(read_rgba(tmp_path / f"{i:06d}.png"), frame)


def test_write_blocks_while_depth_frames_wait_and_close_waits_for_all(tmp_path, monkeypatch):
    release = threading.Event()
    encode = png_sequence.png_from_filtered_rows

    def held_until_released(rows, channels):
        assert release.wait(10), "never released"
        return encode(rows, channels)

    monkeypatch.setattr(png_sequence, "png_from_filtered_rows", held_until_released)
    writer = PngSequenceWriter(tmp_path, workers=1, depth=2)
    frames = random_frames(3)
    writer.write(frames[0])  # in work (held)
    writer.write(frames[1])  # queued: depth 2 reached
    third = threading.Thread(target=writer.write, args=(frames[2],))
    third.start()
    third.join(0.3)
    assert third.is_alive(), "a third frame was accepted while two were waiting"
    assert writer.frames_written == 0 and listing(tmp_path) == []
    release.set()
    third.join(10)
    writer.close()
    assert writer.frames_written == 3 and len(listing(tmp_path)) == 3


def failing_open_at(failing_name: str):
    """An `open` for atomic_file that fails like a full disk for one file: half written, then ENOSPC."""
    real_open = open

    def fake_open(path, mode="r", *args, **kwargs):
        file = real_open(path, mode, *args, **kwargs)
        if not Path(path).name.startswith(f".{failing_name}."):  # the temporary file beside it
            return file

        class FullDisk(io.BufferedWriter):
            def write(self, data):
                super().write(bytes(data)[: len(data) // 2])
                self.flush()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        file.close()
        return FullDisk(real_open(path, "wb", buffering=0))

    return fake_open


def test_a_full_disk_is_an_error_naming_the_file_and_nothing_partial_is_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic_file, "open", failing_open_at("000003.png"), raising=False)
    frames = random_frames(8)
    writer = PngSequenceWriter(tmp_path, workers=1)
    with pytest.raises(OSError, match=r"cannot write PNG frame .*000003\.png: no space left on device$") as caught:
        for frame in frames:
            writer.write(frame)
        writer.close()
    assert caught.value.errno == errno.ENOSPC and "\n" not in str(caught.value) and "Errno" not in str(caught.value)
    writer.close()  # reported once: closing again (a `finally`) does not raise it a second time
    assert writer.frames_written == 3
    assert listing(tmp_path) == ["000000.png", "000001.png", "000002.png"]  # no partial, nothing after the gap
    for i in range(3):
        np.testing.assert_array_equal(read_rgba(tmp_path / f"{i:06d}.png"), frames[i])
    with pytest.raises(ValueError, match="closed"):
        writer.write(frames[0])


def test_a_failed_fsync_or_short_write_leaves_the_target_untouched(tmp_path, monkeypatch):
    target = tmp_path / "000000.png"
    target.write_bytes(b"earlier")

    def failing_fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(atomic_file.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match=r"000000\.png: input/output error$"):
        write_bytes(target, b"new bytes", what="PNG frame")
    monkeypatch.undo()
    assert target.read_bytes() == b"earlier" and listing(tmp_path) == ["000000.png"]

    class ShortFile(io.BufferedWriter):
        def write(self, data):
            return super().write(bytes(data)[:3])

    monkeypatch.setattr(atomic_file, "open", lambda path, mode: ShortFile(io.FileIO(path, "w")), raising=False)
    with pytest.raises(OSError, match=r"000000\.png: 3 of 9 bytes written$"):
        write_bytes(target, b"new bytes", what="PNG frame")
    assert target.read_bytes() == b"earlier" and listing(tmp_path) == ["000000.png"]


def test_a_worker_error_is_raised_by_the_next_write_or_by_close(tmp_path, monkeypatch):
    real_write = png_sequence.write_bytes

    def fail_on(name):
        def write(path, data, **options):
            if path.name == name:
                raise OSError(f"cannot write {path}: Read-only file system")
            real_write(path, data, **options)
        return write

    monkeypatch.setattr(png_sequence, "write_bytes", fail_on("000001.png"))
    writer = PngSequenceWriter(tmp_path / "a", workers=1, depth=1)
    writer.write(random_frames(1)[0])
    writer.write(random_frames(1)[0])
    with pytest.raises(OSError, match=r"000001\.png: Read-only"):  # depth 1: frame 1 is done before frame 3 queues
        for frame in random_frames(3):
            writer.write(frame)
    assert writer.frames_written == 1 and listing(tmp_path / "a") == ["000000.png"]

    monkeypatch.setattr(png_sequence, "write_bytes", fail_on("000004.png"))
    writer = PngSequenceWriter(tmp_path / "b", workers=2, depth=8)
    for frame in random_frames(5):
        writer.write(frame)  # the last frame's failure can only be reported by close()
    with pytest.raises(OSError, match=r"000004\.png"):
        writer.close()
    assert writer.frames_written == 4 and len(listing(tmp_path / "b")) == 4


def test_frames_finished_after_a_failed_one_are_removed_so_the_sequence_has_no_gap(tmp_path, monkeypatch):
    real_write = png_sequence.write_bytes
    later_frame_written = threading.Event()

    def write(path, data, **options):
        if path.name == "000001.png":  # fails only once frame 2 is complete on disk
            assert later_frame_written.wait(10), "frame 2 never finished"
            raise OSError(f"cannot write {path}: No space left on device")
        real_write(path, data, **options)
        if path.name == "000002.png":
            later_frame_written.set()

    monkeypatch.setattr(png_sequence, "write_bytes", write)
    writer = PngSequenceWriter(tmp_path, workers=2, depth=4)
    for frame in random_frames(3):
        writer.write(frame)
    with pytest.raises(OSError, match=r"000001\.png: No space"):
        writer.close()
    assert writer.frames_written == 1 and listing(tmp_path) == ["000000.png"]


def test_a_frame_in_work_when_an_earlier_one_fails_is_removed_too(tmp_path, monkeypatch):
    real_write = png_sequence.write_bytes
    failure_recorded, second_started = threading.Event(), threading.Event()

    def write(path, data, **options):
        if path.name == "000001.png":  # fails once frame 2 is in work
            assert second_started.wait(10), "frame 2 never started"
            raise OSError(f"cannot write {path}: No space left on device")
        if path.name == "000002.png":  # lands after frame 1's failure is recorded
            second_started.set()
            assert failure_recorded.wait(10), "frame 1's failure was never recorded"
        real_write(path, data, **options)

    monkeypatch.setattr(png_sequence, "write_bytes", write)
    writer = PngSequenceWriter(tmp_path, workers=2, depth=4)
    real_finished = writer._finished

    def finished(index, future):
        real_finished(index, future)
        if index == 1:
            failure_recorded.set()

    writer._finished = finished
    for frame in random_frames(3):
        writer.write(frame)
    with pytest.raises(OSError, match=r"000001\.png"):
        writer.close()
    assert writer.frames_written == 1 and listing(tmp_path) == ["000000.png"]


def test_write_checks_the_image_on_the_callers_thread(tmp_path):
    with PngSequenceWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"\[H, W, 3\|4\] uint8"):
            writer.write(np.zeros((4, 4), np.uint8))
        writer.write(np.zeros((4, 4, 3), np.uint8))
    assert writer.frames_written == 1 and listing(tmp_path) == ["000000.png"]
    with pytest.raises(ValueError, match="workers"):
        PngSequenceWriter(tmp_path, workers=0)


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux file systems take names that are not UTF-8")
def test_a_folder_name_that_is_not_utf8_works(tmp_path):
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9-\xff"))
    frames = random_frames(2, (20, 30, 3))
    with PngSequenceWriter(folder) as writer:
        for frame in frames:
            writer.write(frame)
    names = sorted(os.listdir(bytes(folder)))
    assert names == [b"000000.png", b"000001.png"]
    np.testing.assert_array_equal(read_rgba(folder / "000001.png"), frames[1])
