"""Threshold / softness / invert: the user's control over how hard the mask's edge is."""

from __future__ import annotations

import numpy as np


def check_unit(name: str, value: float) -> float:
    """Return `value` as float, or raise ValueError unless it lies in 0..1."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in 0..1, got {value}")
    return value


def ramp_coefficients(*, threshold: float = 0.5, softness: float = 1.0, invert: bool = False) -> tuple[float, float]:
    """(gain, offset) so that the ramp of `apply_threshold` is clip(gain * prob + offset, 0, 1).

    Being linear, the ramp can be folded into the guided filter's coefficients at low resolution,
    which saves full-resolution passes. softness 0 becomes a very steep (1e4) ramp.
    """
    threshold, softness = check_unit("threshold", threshold), check_unit("softness", softness)
    gain = 1.0 / max(softness, 1e-4)
    offset = -(threshold - softness / 2.0) * gain if softness > 1e-4 else -threshold * gain
    if invert:
        gain, offset = -gain, 1.0 - offset
    return gain, offset


def apply_threshold(prob: np.ndarray, *, threshold: float = 0.5, softness: float = 1.0,
                    invert: bool = False, out: np.ndarray | None = None) -> np.ndarray:
    """Map a probability [H, W] float32 0..1 through a ramp centred on `threshold`, in place into `out`.

    softness 0 gives a hard 0/1 mask; softness 1 keeps the probability as is when threshold is 0.5
    (the ramp spans the whole 0..1 range); between, the ramp is `softness` wide. invert swaps
    person and background. Returns `out` ([H, W] float32 0..1; a new array when out is None).
    """
    threshold, softness = check_unit("threshold", threshold), check_unit("softness", softness)
    if out is None:
        out = np.empty(prob.shape, np.float32)
    if softness <= 1e-6:
        np.greater(prob, threshold, out=out, casting="unsafe")
    elif softness >= 1.0 and threshold == 0.5:
        np.copyto(out, prob)
    else:
        lo = threshold - softness / 2.0
        np.subtract(prob, lo, out=out)
        np.multiply(out, 1.0 / softness, out=out)
    np.clip(out, 0.0, 1.0, out=out)
    if invert:
        np.subtract(1.0, out, out=out)
    return out
