"""`setting(...)`: a settings dataclass field that also says how a user sets it (flag, label, range).

    @dataclass(frozen=True)
    class RenderSettings:
        overlay_opacity: float = setting(0.5, flag="--opacity", label="Opacity", minimum=0.0, maximum=1.0,
                                         help="overlay opacity", group="overlay")

The CLI (cli/options.py) and the window's control panel (gui/controls.py) are generated from these
fields, and `check_settings` validates them, so a name, a default and a range are written once.
Fields without `setting(...)` are internal tuning (not offered to the user).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

KINDS = ("number", "integer", "bool", "choice", "color", "path")


@dataclass(frozen=True)
class Setting:
    """How a user sees one settings field. `flag` is its command-line option (a bool gets --x and
    --no-x); `label` names its control in the window; `group` is the panel page it sits on
    ("overlay", "cutout", "silhouette", "mask refinement"; None: not a panel control of its own)."""

    kind: str
    flag: str | None
    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""                   # "%": shown as a percent of 0..1; else shown as is with this unit
    group: str | None = None
    parse: Callable[..., Any] | None = None  # color kind: parse(value, name=...) -> (r, g, b)

    @property
    def user_name(self) -> str:
        """The name messages use: the flag where there is one, else the control's label."""
        return self.flag or self.label


def setting(default: Any, *, kind: str, label: str, help: str, flag: str | None = None,  # noqa: A002
            minimum: float | None = None, maximum: float | None = None, choices: tuple[str, ...] = (),
            unit: str = "", group: str | None = None, parse: Callable[..., Any] | None = None) -> Any:
    """A dataclass field with default `default` and its Setting in `metadata["setting"]`."""
    if kind not in KINDS:
        raise ValueError(f"setting kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "color" and parse is None:
        raise ValueError("a color setting needs parse=")
    spec = Setting(kind=kind, flag=flag, label=label, help=help, minimum=minimum, maximum=maximum,
                   choices=tuple(choices), unit=unit, group=group, parse=parse)
    return dataclasses.field(default=default, metadata={"setting": spec})


def settings_of(cls_or_obj: Any) -> Iterator[tuple[str, Setting]]:
    """(field name, Setting) of every user-facing field, in declaration order."""
    for spec in dataclasses.fields(cls_or_obj):
        if "setting" in spec.metadata:
            yield spec.name, spec.metadata["setting"]


def check_value(spec: Setting, value: Any) -> Any:
    """`value` checked against `spec` and normalised (ints to float for numbers, lists to tuples,
    colors to (r, g, b)); ValueError / TypeError naming the flag or control, got vs expected."""
    name = spec.user_name
    if spec.kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if spec.kind == "integer" and int(value) != value:
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if not spec.minimum <= value <= spec.maximum:
            raise ValueError(f"{name} must be in {spec.minimum:g}..{spec.maximum:g}, got {value:g}")
        return int(value) if spec.kind == "integer" else float(value)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be true or false, got {value!r}")
        return value
    if spec.kind == "choice":
        if value not in spec.choices:
            raise ValueError(f"{name} {value!r} is not one of {', '.join(spec.choices)}")
        return value
    if spec.kind == "color":
        return spec.parse(tuple(value) if isinstance(value, list) else value, name=name)
    if value is not None and not isinstance(value, str):  # path
        raise TypeError(f"{name} must be a file path, got {value!r}")
    return value or None


def check_settings(obj: Any) -> Any:
    """A copy of the settings dataclass `obj` with every user-facing field checked and normalised."""
    changes = {name: check_value(spec, getattr(obj, name)) for name, spec in settings_of(obj)}
    return dataclasses.replace(obj, **changes)
