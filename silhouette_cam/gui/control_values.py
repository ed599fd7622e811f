"""ControlValues: every setting the user can change live, validated, with the defaults of a first run.

Stored in the settings (as a dict) and sent to the worker as {name: value} changes; the names are
the pipeline's own flat PipelineSettings fields except `model` (engine.py translates the rest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from silhouette_cam.refine import RefineSettings

from .control_widgets import RGB, check_rgb
from .model_catalog import VARIANTS, choice_problem, is_weights_choice

BACKGROUNDS = ("transparent", "color", "image", "video", "blur")


@dataclass(frozen=True)
class ControlValues:
    """Everything the user can change live. Names are the pipeline's (PipelineSettings flat fields)
    except `model` (the segmenter's variant or weights file); colors are RGB 0..255, fractions 0..1."""

    overlay_color: RGB = (0, 170, 255)  # overlay: person tint
    overlay_opacity: float = 0.5  # 0 = invisible, 1 = opaque
    background: str = "blur"  # cutout: one of BACKGROUNDS
    background_color: RGB = (0, 177, 64)  # cutout "color"
    background_path: str = ""  # cutout "image" / "video" file
    blur_sigma: float = 12.0  # cutout "blur": Gaussian sigma in frame pixels, 1..60
    person_color: RGB = (255, 255, 255)  # silhouette
    silhouette_background: RGB = (0, 0, 0)
    threshold: float = 0.5  # person probability at the middle of the edge ramp
    softness: float = 0.5  # width of the edge ramp: 0 = hard edge, 1 = the probability as is
    edge_refine: bool = True  # snap the mask to the image's edges (guided filter)
    temporal_strength: float = RefineSettings.temporal_strength  # flicker damping: 0 = off .. 0.95 = heavy
    invert: bool = False
    track_people: bool = True  # segment a zoomed-in crop around small / distant people
    model: str = "auto"  # one of VARIANTS, or the absolute path of a weights file

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> ControlValues:
        """Values from a settings dict; unknown keys and malformed values fall back to the defaults."""
        values = cls()
        for spec in fields(cls):
            if spec.name not in stored:
                continue
            try:
                values = values.with_changes(**{spec.name: stored[spec.name]})
            except (ValueError, TypeError):
                continue  # one bad stored value must not cost the user the others
        return values

    def with_changes(self, **changes: Any) -> ControlValues:
        """A copy with `changes` applied, each validated (ValueError names the control and the value)."""
        known = {spec.name for spec in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown control {name!r}; expected one of {', '.join(sorted(known))}")
            checked[name] = _check(name, value)
        return replace(self, **checked)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def changes_from_defaults(self) -> dict[str, Any]:
        """Only the values that differ from the defaults: what the settings keep, so a default
        improved in a later version reaches every control the user never touched."""
        defaults = asdict(ControlValues())
        return {name: value for name, value in self.to_dict().items() if value != defaults[name]}


RANGES = {  # name -> (min, max) of the numeric controls
    "overlay_opacity": (0.0, 1.0), "blur_sigma": (1.0, 60.0), "threshold": (0.0, 1.0),
    "softness": (0.0, 1.0), "temporal_strength": (0.0, 0.95),
}


def _check(name: str, value: Any) -> Any:
    if name.endswith("_color") or name == "silhouette_background":
        return check_rgb(tuple(value) if isinstance(value, list) else value, name)
    if name in RANGES:
        low, high = RANGES[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{name} must be a number in {low:g}..{high:g}, got {value!r}")
        return float(value)
    if name in ("edge_refine", "invert", "track_people"):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
        return value
    if name == "model" and isinstance(value, str) and is_weights_choice(value):
        if not Path(value).is_absolute():
            raise ValueError(f"model must be one of {', '.join(VARIANTS)} or the absolute path of a "
                             f"weights file, got {value!r}")
        return value
    choices = {"background": BACKGROUNDS, "model": VARIANTS}.get(name)
    if choices is not None and value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def restore_model_choice(values: ControlValues) -> tuple[ControlValues, str]:
    """Stored values whose weights file is gone or unreadable fall back to "auto" -> (values, why or "")."""
    problem = choice_problem(values.model)
    if not problem:
        return values, ""
    return values.with_changes(model="auto"), f"Saved model {values.model}: {problem} — using auto"
