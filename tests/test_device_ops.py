"""The device engine's building blocks against the OpenCV calls they stand for (CPU torch), and the GPU probe."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from silhouette_cam.device import ops
from silhouette_cam.gpu_probe import PROBE_ENV, cuda_device_count


@pytest.fixture
def image(rng) -> np.ndarray:
    return rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)


@pytest.mark.parametrize("radius", [1, 4])
def test_box_filter_is_cv2_boxfilter_with_reflected_borders(rng, radius):
    planes = rng.random((2, 30, 41), dtype=np.float32)
    got = ops.box_filter(torch.from_numpy(planes), radius).numpy()
    for plane, result in zip(planes, got, strict=True):
        expected = cv2.boxFilter(plane, cv2.CV_32F, (2 * radius + 1,) * 2, borderType=cv2.BORDER_REFLECT)
        np.testing.assert_allclose(result, expected, atol=1e-5)


def test_gaussian_3x3_and_gray_match_opencv_on_uint8(image):
    chw = torch.from_numpy(image).permute(2, 0, 1).float()
    blurred = ops.gaussian3x3_u8(chw).permute(1, 2, 0).numpy()
    assert np.abs(blurred - cv2.GaussianBlur(image, (3, 3), 0)).max() <= 1
    gray = ops.bgr_to_gray_u8(chw).numpy()
    assert np.abs(gray - cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)).max() <= 1


def test_gaussian_blur_matches_opencv_on_float(rng):
    planes = rng.random((1, 45, 80), dtype=np.float32)
    got = ops.gaussian_blur(torch.from_numpy(planes), 3.0)[0].numpy()
    np.testing.assert_allclose(got, cv2.GaussianBlur(planes[0], (0, 0), 3.0), atol=1e-4)


def test_area_downscale_at_an_integer_factor_matches_inter_area(image):
    tiled = image[:36, :52]
    got = ops.area_downscale_u8(torch.from_numpy(tiled).permute(2, 0, 1).float(), 4).permute(1, 2, 0).numpy()
    assert np.abs(got - cv2.resize(tiled, (13, 9), interpolation=cv2.INTER_AREA)).max() <= 1


def test_warp_affine_replicate_matches_opencv(rng):
    src = rng.random((16, 16), dtype=np.float32)
    matrix = ((2.5, 0.0, -3.25), (0.0, 1.75, 1.5))
    got = ops.warp_affine_replicate(torch.from_numpy(src), matrix, (40, 30)).numpy()
    expected = cv2.warpAffine(src, np.array(matrix), (40, 30), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    np.testing.assert_allclose(got, expected, atol=2e-3)  # OpenCV quantizes coordinates to 1/32 pixel


def test_stretch_matches_the_cpu_paths_warp_within_a_level(image):
    from silhouette_cam.frames import stretch_matrix

    grid = ops.stretch_grid(53, 37, 32, 24, device=torch.device("cpu"))
    got = ops.stretch_to_network(torch.from_numpy(image), grid)[0].permute(1, 2, 0).numpy() * 255  # RGB
    expected = cv2.warpAffine(image, stretch_matrix(53, 37, 32, 24), (32, 24), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)[..., ::-1]
    assert np.abs(got - expected).max() <= 1.01


def test_gpu_probe_can_be_switched_off_and_never_raises(monkeypatch):
    monkeypatch.setenv(PROBE_ENV, "0")
    assert cuda_device_count() == 0
    monkeypatch.delenv(PROBE_ENV)
    assert cuda_device_count() >= 0  # 0 here (no driver); the GPU machine's count there
