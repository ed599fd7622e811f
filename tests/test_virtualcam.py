"""Tests for VirtualCamera through the real pyvirtualcam API, with a recording backend as the device."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest

from silhouette_cam import virtualcam
from silhouette_cam.pipeline import FramePipeline, PipelineSettings
from silhouette_cam.render import parse_color
from silhouette_cam.virtualcam import (
    VirtualCamera,
    VirtualCameraError,
    VirtualCameraLost,
    VirtualCameraUnavailable,
    letterbox_rect,
)
from tests.fixtures.pipeline_fakes import BrightSegmenter, disk_frame
from tests.fixtures.virtualcam_backend import ManualClock, MissingDevice, register, unregister

GREEN = parse_color("green")


@pytest.fixture
def backend():
    yield register("recording")
    unregister("recording")


@pytest.fixture
def missing_device():
    import pyvirtualcam

    pyvirtualcam.register_backend("missing", MissingDevice)
    yield "missing"
    unregister("missing")


def gradient(width: int, height: int) -> np.ndarray:
    """[H, W, 3] RGB uint8 with distinct values per row/column (catches flips, swaps and offsets)."""
    ys, xs = np.indices((height, width))
    return np.stack([xs * 255 // (width - 1), ys * 255 // (height - 1), (xs + ys) % 256], -1).astype(np.uint8)


@pytest.mark.parametrize(("pixel_format", "tolerance"), [("RGB", 0), ("BGR", 0), ("I420", 12)])
def test_frames_arrive_in_the_negotiated_format_and_size(backend, pixel_format, tolerance):
    image = gradient(64, 48)
    with VirtualCamera(size=(64, 48), fps=30, pixel_format=pixel_format, backend="recording") as camera:
        camera.write(image, 0.0)
        assert (camera.size, camera.pixel_format, camera.device, camera.backend) == \
            ((64, 48), pixel_format, "/dev/video42", "recording")
    device = backend.instances[0]
    assert (device.width, device.height, device.fps, str(device.pixel_format)) == (64, 48, 30, pixel_format)
    assert len(device.frames) == 1
    error = np.abs(device.image(0).astype(int) - image).max()
    assert error <= tolerance


def test_a_transparent_cutout_is_sent_on_the_matte_color(backend):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)
    rgba[:, 10:20, 3] = 255  # the person
    rgba[:, 20:, 3] = 128    # an edge, half transparent
    with VirtualCamera(size=(30, 20), fps=25, matte_color="green", backend="recording") as camera:
        camera.write(rgba, 0.0)
    sent = backend.instances[0].image(0).astype(int)
    assert (sent[:, :10] == GREEN).all()
    assert (sent[:, 10:20] == (200, 100, 50)).all()
    half = (np.array((200, 100, 50)) * 128 + np.array(GREEN) * 127) / 255
    assert np.abs(sent[:, 20:] - half).max() <= 1


@pytest.mark.parametrize(("source", "camera", "rect"), [
    ((160, 120), (320, 180), (40, 0, 240, 180)),    # 4:3 into 16:9: bars left and right
    ((320, 180), (160, 120), (0, 15, 160, 90)),     # 16:9 into 4:3: bars top and bottom
    ((64, 48), (128, 96), (0, 0, 128, 96)),         # same shape: scaled, no bars
])
def test_letterbox_keeps_the_shape_with_bars(backend, source, camera, rect):
    assert letterbox_rect(source, camera) == rect
    frame = np.full((source[1], source[0], 3), 200, np.uint8)
    cv2.circle(frame, (source[0] // 2, source[1] // 2), min(source) // 3, (255, 0, 0), -1)
    with VirtualCamera(size=camera, fps=30, bar_color=(0, 0, 255), backend="recording") as cam:
        cam.write(frame, 0.0)
    sent = backend.instances[0].image(0)
    assert sent.shape == (camera[1], camera[0], 3)
    x, y, w, h = rect
    bars = np.ones(sent.shape[:2], bool)
    bars[y:y + h, x:x + w] = False
    assert (sent[bars] == (0, 0, 255)).all()
    inside = sent[y:y + h, x:x + w]
    assert (inside[0, 0] == 200).all() and (inside[h // 2, w // 2] == (255, 0, 0)).all()
    red = np.argwhere((inside == (255, 0, 0)).all(-1))
    extent = red.max(0) - red.min(0) + 1
    assert abs(int(extent[0]) - int(extent[1])) <= 2  # the disk stays round: never stretched


def test_each_mode_is_sent_as_rendered(backend):
    """cutout-transparent on the matte, cutout on a color, silhouette, overlay: the right colors."""
    frame = disk_frame(160, 120)  # dark background 40, bright disk (the "person") at the centre
    pipeline = FramePipeline(BrightSegmenter(), PipelineSettings().replace(temporal_strength=0.0, track_people=False))
    cases = [
        ({"mode": "cutout", "background": "transparent"}, (220, 220, 220), GREEN),
        ({"mode": "cutout", "background": "color", "background_color": (0, 0, 255)}, (220, 220, 220), (0, 0, 255)),
        ({"mode": "silhouette", "person_color": (255, 255, 0)}, (255, 255, 0), (0, 0, 0)),
        ({"mode": "overlay", "overlay_opacity": 0.0}, (220, 220, 220), (40, 40, 40)),
    ]
    with VirtualCamera(size=(160, 120), fps=30, matte_color="green", backend="recording") as camera:
        for changes, _, _ in cases:
            pipeline.update(**changes)
            out = pipeline.process(frame)
            camera.write(out.rgba if out.rgba is not None else out.image, out.timestamp_s)
    device = backend.instances[0]
    for i, (changes, person, background) in enumerate(cases):
        sent = device.image(i)
        assert tuple(sent[60, 80]) == person, changes
        assert tuple(sent[5, 5]) == background, changes


def test_frames_of_a_new_size_are_letterboxed_into_the_same_camera(backend):
    """A source switch in the window must not reopen the camera (a call would lose it)."""
    with VirtualCamera(size=(64, 48), fps=30, backend="recording") as camera:
        camera.write(np.full((48, 64, 3), 10, np.uint8))
        camera.write(np.full((20, 80, 3), 90, np.uint8))
        camera.write(np.full((48, 64, 3), 30, np.uint8))
    device = backend.instances[0]
    assert [device.image(i)[24, 32, 0] for i in range(3)] == [10, 90, 30]
    assert device.image(1)[0, 0, 0] == 0 and device.image(2)[0, 0, 0] == 30  # bars, then none again


def test_frames_sent_per_second_from_the_injected_clock(backend):
    clock = ManualClock()
    with VirtualCamera(size=(8, 8), fps=25, backend="recording", clock=clock) as camera:
        for _ in range(10):
            camera.write(np.zeros((8, 8, 3), np.uint8))
            clock.now += 0.04
        assert camera.frames_sent == 10
        assert camera.fps_sent == pytest.approx(25.0)


@pytest.mark.parametrize(("image", "error", "message"), [
    (np.zeros((8, 8, 3), np.float32), TypeError, "unexpected frame type: float32 != uint8"),
    ([[0, 0, 0]], TypeError, "unexpected frame type: list != uint8"),
    (np.zeros((8, 8), np.uint8), ValueError, r"unexpected frame shape: \(8, 8\) != \(H, W, 3\)"),
    (np.zeros((8, 8, 2), np.uint8), ValueError, r"unexpected frame shape: \(8, 8, 2\)"),
])
def test_bad_frames_say_what_they_got_and_what_was_expected(backend, image, error, message):
    with VirtualCamera(size=(8, 8), fps=30, backend="recording") as camera:
        with pytest.raises(error, match=message):
            camera.write(image)
    assert backend.instances[0].frames == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"size": (1, 8)}, "size must be at least 2x2, got 1x8"),
    ({"fps": 0}, "fps must be > 0, got 0"),
    ({"pixel_format": "NV21"}, "pixel format 'NV21' is not one of RGB, BGR, I420"),
    ({"size": (9, 8), "pixel_format": "I420"}, "I420 needs an even width and height, got 9x8"),
    ({"matte_color": "fog"}, "matte color 'fog' is not a color"),
    ({"backend": "nope"}, "virtual camera backend 'nope' is not one of: .*recording"),
])
def test_bad_arguments_are_one_line_value_errors(backend, kwargs, message):
    arguments = {"size": (8, 8), "fps": 30, "backend": "recording", **kwargs}
    with pytest.raises(ValueError, match=message):
        VirtualCamera(**arguments)
    assert backend.instances == []


def test_an_unplugged_device_stops_sending_with_one_error_and_the_caller_goes_on(backend):
    backend.fail_at = 3
    camera = VirtualCamera(size=(8, 8), fps=30, backend="recording", device="/dev/video7")
    recorded = []  # what a recording beside the camera gets: every frame, before and after
    lost = []
    for i in range(6):
        image = np.full((8, 8, 3), i, np.uint8)
        recorded.append(i)
        if camera.closed:
            continue
        try:
            camera.write(image)
        except OSError as exc:  # the caller reports sink failures (recorder, camera) alike
            lost.append(exc)
    assert recorded == list(range(6))
    assert len(lost) == 1 and isinstance(lost[0], VirtualCameraLost)
    assert str(lost[0]) == "virtual camera /dev/video7 stopped after 2 frames: device unplugged"
    device = backend.instances[0]
    assert [f[0] for f in device.frames] == [0, 1] and device.close_calls == 1
    with pytest.raises(ValueError, match="virtual camera /dev/video7 is closed"):
        camera.write(np.zeros((8, 8, 3), np.uint8))
    camera.close()
    assert device.sends_after_close == 0 and device.close_calls == 1


def test_close_is_idempotent_and_nothing_is_sent_after_it(backend):
    camera = VirtualCamera(size=(8, 8), fps=30, backend="recording")
    camera.write(np.zeros((8, 8, 3), np.uint8))
    camera.close()
    camera.close()
    with pytest.raises(ValueError, match="is closed"):
        camera.write(np.zeros((8, 8, 3), np.uint8))
    device = backend.instances[0]
    assert len(device.frames) == 1 and device.close_calls == 1 and device.sends_after_close == 0


@pytest.mark.parametrize(("system", "names"), [
    ("Linux", ['modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="silhouette_cam"', "v4l2loopback-dkms"]),
    ("Windows", ["OBS Studio 26 or later", "virtual camera"]),
    ("Darwin", ["OBS Studio 26 or later", "virtual camera"]),
    ("FreeBSD", ["no virtual camera for FreeBSD"]),
])
def test_no_device_is_one_line_naming_what_to_install(missing_device, monkeypatch, system, names):
    monkeypatch.setattr(virtualcam.platform, "system", lambda: system)
    with pytest.raises(VirtualCameraUnavailable) as caught:
        VirtualCamera(size=(8, 8), fps=30, backend=missing_device)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("no virtual camera to send to")
    assert "No virtual camera device found." in message  # pyvirtualcam's own reason stays
    assert all(name in message for name in names)
    assert isinstance(caught.value, VirtualCameraError) and isinstance(caught.value, OSError)


def test_a_named_device_that_does_not_open_is_named(missing_device):
    with pytest.raises(VirtualCameraUnavailable, match="cannot open virtual camera '/dev/video9'"):
        VirtualCamera(size=(8, 8), fps=30, backend=missing_device, device="/dev/video9")


def test_without_pyvirtualcam_the_message_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import fails as if not installed
    with pytest.raises(VirtualCameraUnavailable, match=r"pip install 'silhouette_cam\[virtualcam\]'"):
        VirtualCamera(size=(8, 8), fps=30)


def test_virtual_camera_options_round_trip_and_bad_stored_values_give_the_defaults():
    from silhouette_cam.live.virtual_camera import DEFAULT_MATTE, VirtualCameraOptions

    options = VirtualCameraOptions(size=(1920, 1080), matte_color=(1, 2, 3))
    assert VirtualCameraOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options
    assert VirtualCameraOptions.from_dict({}) == VirtualCameraOptions()
    bad = VirtualCameraOptions.from_dict({"size": [1000, 1000], "matte_color": [0, 300, 0]})
    assert bad == VirtualCameraOptions(size=None, matte_color=DEFAULT_MATTE)
    assert VirtualCameraOptions.from_dict({"size": None, "matte_color": [True, 0, 0]}).matte_color == DEFAULT_MATTE
    assert VirtualCameraOptions.from_dict({"size": "640x480", "matte_color": [9, 9]}) == VirtualCameraOptions()
