"""The choice lists a user picks from, declared once: the window, the CLI and the settings use these.

Devices are `segmenter.DEVICE_CHOICES`; models are `weight_facts.MODEL_CHOICES`.
"""

from __future__ import annotations

MODES = ("overlay", "cutout", "silhouette", "mask")
BACKGROUNDS = ("transparent", "color", "image", "video", "blur")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")  # a background file that is a still image
