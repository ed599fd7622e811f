"""The choice lists a user picks from, declared once: the window, the CLI and the settings use these.

Devices are `segmenter.DEVICE_CHOICES`; models are `weight_facts.MODEL_CHOICES`.
"""

from __future__ import annotations

MODES = ("overlay", "cutout", "silhouette", "mask")
BACKGROUNDS = ("transparent", "color", "image", "video", "blur")
# Image files the project reads (image_files.read_image, Pillow): inputs, masks and still backgrounds;
# any other --background file is a video.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
