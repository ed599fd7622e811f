"""ControlValues: the window's UI state that is not a pipeline setting, validated (today: the model).

The pipeline's own settings (mode, colors, background, refinement) are a PipelineSettings
(pipeline.py), the one schema the control panel and the command line are generated from; the panel
sends both as {name: value} changes to the worker.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from silhouette_cam.live.model_catalog import check_model_choice, choice_problem


@dataclass(frozen=True)
class ControlValues:
    """UI state kept between runs: `model` is one of VARIANTS or the absolute path of a weights file."""

    model: str = "auto"

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
        for name in changes:
            if name not in known:
                raise ValueError(f"unknown control {name!r}; expected one of {', '.join(sorted(known))}")
        return replace(self, **{name: check_model_choice(value) for name, value in changes.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def changes_from_defaults(self) -> dict[str, Any]:
        """Only the values that differ from the defaults (what the settings keep)."""
        defaults = asdict(ControlValues())
        return {name: value for name, value in self.to_dict().items() if value != defaults[name]}



def restore_model_choice(values: ControlValues) -> tuple[ControlValues, str]:
    """Stored values whose weights file is gone or unreadable fall back to "auto" -> (values, why or "")."""
    problem = choice_problem(values.model)
    if not problem:
        return values, ""
    return values.with_changes(model="auto"), f"Saved model {values.model}: {problem} — using auto"
