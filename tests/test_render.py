"""Tests for silhouette_cam.render: each mode's pixels, real alpha, no bleed in the blur, reuse of buffers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from silhouette_cam.render import FrameRenderer, RenderSettings, mask_weighted_blur, parse_color


@pytest.fixture
def scene():
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[:] = (255, 0, 0)  # BGR blue background
    frame[10:30, 20:40] = (0, 0, 255)  # BGR red person
    mask = np.zeros((40, 60), np.float32)
    mask[10:30, 20:40] = 1.0
    return frame, mask


def test_overlay_tints_only_the_person(scene):
    frame, mask = scene
    image, rgba = FrameRenderer().render(frame, mask, RenderSettings(mode="overlay", overlay_color=(0, 255, 0),
                                                                     overlay_opacity=0.5))
    assert rgba is None and image.shape == (40, 60, 3)
    np.testing.assert_allclose(image[20, 30], (128, 128, 0), atol=1)  # red * 0.5 + green * 0.5, RGB
    np.testing.assert_array_equal(image[0, 0], (0, 0, 255))  # background untouched (RGB blue)


def test_cutout_transparent_has_real_alpha_and_checkerboard_on_screen(scene):
    frame, mask = scene
    image, rgba = FrameRenderer().render(frame, mask, RenderSettings(mode="cutout", background="transparent"))
    assert rgba.shape == (40, 60, 4)
    assert rgba[20, 30, 3] == 255 and rgba[0, 0, 3] == 0
    np.testing.assert_array_equal(rgba[20, 30, :3], (255, 0, 0))
    assert image[0, 0, 0] == image[0, 0, 1] == image[0, 0, 2] in (153, 204)  # grey checker square


def test_cutout_color_and_silhouette_and_mask(scene):
    frame, mask = scene
    renderer = FrameRenderer()
    image, _ = renderer.render(frame, mask, RenderSettings(mode="cutout", background="color",
                                                           background_color=(10, 20, 30)))
    np.testing.assert_array_equal(image[0, 0], (10, 20, 30))
    np.testing.assert_array_equal(image[20, 30], (255, 0, 0))
    image, _ = renderer.render(frame, mask, RenderSettings(mode="silhouette", person_color=(1, 2, 3),
                                                           silhouette_background=(200, 200, 200)))
    np.testing.assert_array_equal(image[20, 30], (1, 2, 3))
    np.testing.assert_array_equal(image[0, 0], (200, 200, 200))
    half = np.full((40, 60), 0.5, np.float32)
    image, _ = renderer.render(frame, half, RenderSettings(mode="mask"))
    assert abs(int(image[5, 5, 0]) - 128) <= 1


def test_blur_background_does_not_bleed_the_person():
    rgb = np.zeros((80, 120, 3), np.uint8)
    rgb[20:60, 40:80] = 255  # a white person on black
    mask = np.zeros((80, 120), np.float32)
    mask[20:60, 40:80] = 1.0
    blurred = mask_weighted_blur(rgb, mask, sigma=12)
    plain = cv2.GaussianBlur(rgb, (0, 0), 12)
    just_outside = (slice(20, 60), slice(84, 90))
    assert blurred[just_outside].max() < 20  # no white halo around the person
    assert plain[just_outside].mean() > 40


@pytest.mark.parametrize("sigma", [1.0, 12.0, 40.0])
def test_blur_background_falls_back_to_the_plain_blur_where_the_person_covers_everything(sigma):
    """Inside a big person the weighted blur has no background to average: there it must be the
    plain blur of the (downscaled) image, computed only around those pixels but equal to blurring
    all of it."""
    rng = np.random.default_rng(5)
    rgb = cv2.GaussianBlur(rng.integers(0, 255, (360, 640, 3), np.uint8), (0, 0), 2)
    mask = np.zeros((360, 640), np.float32)
    cv2.circle(mask, (300, 200), 150, 1.0, -1)
    blurred = mask_weighted_blur(rgb, mask, sigma=sigma)
    # The same computation with the plain blur of the whole small image (what the fallback equals);
    # downscaled by two halvings, as mask_weighted_blur does.
    def quarter(x):
        return cv2.resize(cv2.resize(x, (320, 180), interpolation=cv2.INTER_AREA), (160, 90),
                          interpolation=cv2.INTER_AREA)

    small, weight = quarter(rgb).astype(np.float32), 1.0 - quarter(mask)
    s = max(0.5, sigma / 4)
    num = cv2.GaussianBlur(small * weight[..., None], (0, 0), s)
    den = cv2.GaussianBlur(weight, (0, 0), s)
    covered = den <= 1e-3
    num /= np.maximum(den, 1e-3)[..., None]
    num[covered] = cv2.GaussianBlur(small, (0, 0), s)[covered]
    expected = cv2.resize(cv2.convertScaleAbs(num), (640, 360), interpolation=cv2.INTER_LINEAR)
    assert covered.any()  # the case under test
    assert np.abs(blurred.astype(int) - expected).max() <= 1


def test_background_image_and_bad_path(tmp_path, scene):
    frame, mask = scene
    path = tmp_path / "bg.png"
    cv2.imwrite(str(path), np.full((10, 10, 3), (0, 255, 0), np.uint8))
    image, _ = FrameRenderer().render(frame, mask, RenderSettings(mode="cutout", background="image",
                                                                  background_path=str(path)))
    np.testing.assert_array_equal(image[0, 0], (0, 255, 0))
    with pytest.raises(ValueError, match="missing.png"):
        FrameRenderer().render(frame, mask, RenderSettings(mode="cutout", background="image",
                                                           background_path=str(tmp_path / "missing.png")))


def test_buffers_are_reused_across_frames_and_modes_but_never_while_held(scene):
    frame, mask = scene
    renderer = FrameRenderer(ring=2)
    first = renderer.render(frame, mask, RenderSettings(mode="overlay"))[0]
    first_buffer = id(first.base)  # an id: holding the buffer itself would keep it from reuse
    del first
    second = renderer.render(frame, mask, RenderSettings(mode="silhouette"))[0]
    third = renderer.render(frame, mask, RenderSettings(mode="mask"))[0]
    assert id(third.base) == first_buffer != id(second.base)  # a ring of two, nobody held the first
    assert not third.flags.writeable  # a shown frame is not drawn into
    # Frames that are kept (a writer thread's queue) are never drawn over, however many follow.
    kept = [renderer.render(frame, np.full_like(mask, i / 10), RenderSettings(mode="mask"))[0] for i in range(8)]
    assert [int(image[0, 0, 0]) for image in kept] == [round(255 * i / 10) for i in range(8)]
    assert len({id(image.base) for image in kept}) == 8


def test_multiclass_overlay_colors_classes_and_draws_a_legend(scene):
    frame, mask = scene
    classes = np.zeros((40, 60), np.uint8)
    classes[10:30, 20:30] = 1
    classes[10:30, 30:40] = 2
    image, _ = FrameRenderer().render(frame, mask, RenderSettings(mode="overlay", overlay_opacity=1.0),
                                      classes, ("background", "a", "b"))
    assert not np.array_equal(image[20, 25], image[20, 35])


def test_validation_and_colors():
    with pytest.raises(ValueError, match="mode 'sketch'"):
        RenderSettings(mode="sketch").validate()
    with pytest.raises(ValueError, match="background 'fog'"):
        RenderSettings(background="fog").validate()
    assert parse_color("#ff8000") == (255, 128, 0)
    assert parse_color("1, 2, 3") == (1, 2, 3)
    assert parse_color("white") == (255, 255, 255)
    with pytest.raises(ValueError, match="not a color"):
        parse_color("chartreuse-ish")


@pytest.mark.parametrize("mode", ["overlay", "silhouette", "cutout"])
def test_uint8_blending_is_within_one_level_of_the_exact_blend(mode):
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, (36, 50, 3), dtype=np.uint8)
    mask = rng.random((36, 50), dtype=np.float32)
    mask[:4] = 0.0
    mask[-4:] = 1.0
    settings = RenderSettings(mode=mode, background="color", background_color=(10, 200, 30),
                              overlay_color=(250, 20, 90), overlay_opacity=0.6,
                              person_color=(240, 230, 5), silhouette_background=(3, 40, 120))
    image, _ = FrameRenderer().render(frame, mask, settings)
    rgb = frame[..., ::-1].astype(np.float64)
    alpha = mask[..., None].astype(np.float64)
    if mode == "overlay":
        expected = rgb * (1 - 0.6 * alpha) + np.array((250, 20, 90)) * 0.6 * alpha
    elif mode == "silhouette":
        expected = np.array((3, 40, 120)) * (1 - alpha) + np.array((240, 230, 5)) * alpha
    else:
        expected = np.array((10, 200, 30)) * (1 - alpha) + rgb * alpha
    assert np.abs(image - expected).max() <= 1.5   # 8-bit alpha + two roundings
    np.testing.assert_allclose(image[-4:], np.rint(expected[-4:]), atol=1 if mode == "overlay" else 0)
    np.testing.assert_allclose(image[:4], np.rint(expected[:4]), atol=0)


@pytest.mark.parametrize("mode", ["overlay", "silhouette", "cutout", "transparent"])
def test_blending_only_around_the_person_equals_blending_the_whole_frame(mode):
    """The renderer blends only in the box around the mask's nonzero pixels: the image must be the
    whole-frame blend (the same uint8 arithmetic over every pixel), also for an empty and a full
    mask, and after a frame whose box was elsewhere (the output buffers are reused)."""
    rng = np.random.default_rng(8)
    settings = RenderSettings(mode="cutout" if mode == "transparent" else mode,
                              background="transparent" if mode == "transparent" else "color",
                              background_color=(10, 200, 30), overlay_color=(250, 20, 90), overlay_opacity=0.6,
                              person_color=(240, 230, 5), silhouette_background=(3, 40, 120))
    renderer = FrameRenderer(ring=2)
    for box in ((5, 20, 8, 30), (22, 36, 30, 50), None, (0, 36, 0, 50)):
        frame = rng.integers(0, 256, (36, 50, 3), dtype=np.uint8)
        mask = np.zeros((36, 50), np.float32)
        if box is not None:
            mask[box[0]:box[1], box[2]:box[3]] = rng.random((box[1] - box[0], box[3] - box[2]), dtype=np.float32)
        image, _ = renderer.render(frame, mask, settings)
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        opacity = 0.6 if mode == "overlay" else 1.0
        alpha3 = cv2.cvtColor(cv2.convertScaleAbs(mask, alpha=255.0 * opacity), cv2.COLOR_GRAY2RGB)
        if mode == "silhouette":
            level = np.arange(256)[:, None] / 255.0
            lut = np.rint(np.array((3, 40, 120)) * (1 - level) + np.array((240, 230, 5)) * level)
            expected = cv2.LUT(alpha3, lut.astype(np.uint8).reshape(256, 1, 3))
        else:
            solid = np.full_like(rgb, (250, 20, 90) if mode == "overlay" else (10, 200, 30))
            background, foreground = (rgb, solid) if mode == "overlay" else (solid, rgb)
            if mode == "transparent":
                from silhouette_cam.render.renderer import checkerboard

                background = checkerboard(36, 50, settings.checker_size)
            expected = cv2.add(cv2.multiply(background, cv2.bitwise_not(alpha3), scale=1 / 255),
                               cv2.multiply(foreground, alpha3, scale=1 / 255))
        np.testing.assert_array_equal(image, expected)


def test_reused_buffers_draw_the_same_frames_as_fresh_ones_across_modes_colors_and_boxes():
    """A buffer that held a solid background outside an earlier box is painted only where that box
    leaves the new one (see _paint_outside): across switches of mode, color and person box, every
    frame must equal what a fresh renderer draws."""
    rng = np.random.default_rng(11)
    # A ring of two with the last frame still held: each frame draws into the buffer of the one
    # two steps back, so most steps find a known background (same mode and color) and some do not.
    a, b = (10, 200, 30), (200, 10, 90)
    steps = [("silhouette", a, (2, 30, 5, 40)), ("silhouette", a, (10, 36, 20, 58)), ("silhouette", a, (0, 12, 30, 60)),
             ("silhouette", a, None), ("silhouette", a, (5, 38, 2, 20)), ("color", a, (0, 20, 0, 20)),
             ("color", a, (8, 30, 10, 45)), ("color", a, (20, 40, 5, 60)), ("silhouette", b, (12, 28, 12, 48)),
             ("overlay", a, (3, 33, 3, 50)), ("silhouette", b, (0, 40, 25, 35)), ("mask", a, (1, 2, 1, 2)),
             ("color", a, (0, 40, 0, 60)), ("silhouette", b, (6, 9, 6, 9)), ("transparent", a, (3, 20, 3, 30)),
             ("transparent", a, (10, 38, 20, 50)), ("transparent", a, (0, 9, 0, 9)), ("color", a, (5, 25, 5, 25))]
    renderer = FrameRenderer(ring=2)
    for index, (mode, color, box) in enumerate(steps):
        frame = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
        mask = np.zeros((40, 60), np.float32)
        if box is not None:
            mask[box[0]:box[1], box[2]:box[3]] = rng.random((box[1] - box[0], box[3] - box[2]), dtype=np.float32)
            mask[box[0], box[2]] = mask[box[1] - 1, box[3] - 1] = 1.0  # the box is the mask's own
        settings = RenderSettings(mode="cutout" if mode in ("color", "transparent") else mode,
                                  background="transparent" if mode == "transparent" else "color",
                                  background_color=color, silhouette_background=color, person_color=(240, 230, 5))
        image, rgba = renderer.render(frame, mask, settings)
        expected, expected_rgba = FrameRenderer().render(frame, mask, settings)
        np.testing.assert_array_equal(image, expected, err_msg=f"step {index}: {mode} {box}")
        assert (rgba is None) == (mode != "transparent")
        if rgba is not None:
            np.testing.assert_array_equal(rgba, expected_rgba, err_msg=f"step {index}: {mode} {box}")
