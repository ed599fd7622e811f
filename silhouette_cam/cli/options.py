"""The command-line options of `process`, `virtualcam` and the window, generated from the settings
schema (PipelineSettings.user_settings(): the same names, defaults and ranges as the window's controls).

    add_setting_arguments(parser)               # --mode, --opacity, --background, --smoothing, ...
    add_model_arguments(parser)                 # --model, --weights, --device
    settings = build_settings(args)             # PipelineSettings, validated (errors name the flag)

Every option defaults to None ("not given"): `settings_changes(args)` holds only what the user typed,
so the window can apply it over the settings it remembers. Choices are case-insensitive.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from silhouette_cam.choices import IMAGE_SUFFIXES
from silhouette_cam.setting import Setting
from silhouette_cam.weight_facts import MODEL_CHOICES

BACKGROUND_KEYWORDS = ("transparent", "blur")  # --background values that need no color or file


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors (`prog: error: ...`, exit 2): no usage lines before them; and
    case-insensitive `choices=` of strings, for every subcommand's options (`--mode Cutout`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        choices = action.choices
        if action.type is None and choices and all(isinstance(c, str) for c in choices):
            return choice(tuple(choices))(arg_string) if arg_string.lower() in {c.lower() for c in choices} \
                else arg_string  # argparse's own message for a wrong one
        return super()._get_value(action, arg_string)


def choice(choices: Sequence[str]) -> Callable[[str], str]:
    """An argparse `type`: a case-insensitive pick from `choices` -> its canonical spelling."""
    canonical = {c.lower(): c for c in choices}

    def parse(text: str) -> str:
        try:
            return canonical[text.lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}") from None

    parse.__name__ = "choice"  # argparse names the type in some messages
    return parse


def _user_settings() -> tuple[tuple[str, Setting], ...]:
    from silhouette_cam.pipeline import PipelineSettings  # numpy / OpenCV: only when a parser is built

    return PipelineSettings.user_settings()


def flag_of(name: str) -> str:
    """The command-line flag of setting `name` (e.g. "edge_refine" -> "--edge-snap")."""
    return dict(_user_settings())[name].flag or f"--{name.replace('_', '-')}"


def _dest(spec: Setting) -> str:
    return spec.flag.lstrip("-").replace("-", "_")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return "#{:02x}{:02x}{:02x}".format(*value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def add_setting_arguments(parser: argparse.ArgumentParser, *, defaults_note: str = "",
                          presets: bool = True, refine_only: bool = False, exclude: tuple[str, ...] = ()) -> None:
    """Add one option per user-facing setting, in two groups (rendering, mask refinement).

    defaults_note: how a missing option is decided, shown before the schema's default (the window:
    "the last one used, else"). presets: also --raw and the deprecated --no-temporal. refine_only:
    only the mask refinement group (`segment` writes masks: nothing is rendered). exclude: setting
    names left out.
    """
    from silhouette_cam.pipeline import PipelineSettings

    defaults = PipelineSettings()
    groups = {"refine": parser.add_argument_group("mask refinement")}
    if not refine_only:
        groups["render"] = parser.add_argument_group("rendering")
    for name, spec in _user_settings():
        if spec.flag is None or name in exclude:
            continue  # set through another option (--background COLOR|IMAGE|VIDEO), or not wanted here
        kind = "render" if hasattr(defaults.render, name) else "refine"
        if kind not in groups:
            continue
        default = _shown(defaults.value(name))
        suffix = f" (default: {defaults_note + ' ' if defaults_note else ''}{default})"
        group = groups[kind]
        if name == "background":
            group.add_argument(spec.flag, dest="background", default=None,
                               metavar="blur|transparent|COLOR|IMAGE|VIDEO",
                               help="cutout: what replaces the background: blur, transparent (alpha where the "
                                    "output has it), a color (#rrggbb, r,g,b or a name) or an image or video "
                                    f"file{suffix}")
        elif spec.kind == "bool":
            group.add_argument(spec.flag, dest=_dest(spec), default=None, action=argparse.BooleanOptionalAction,
                               help=f"{spec.help}{suffix}")
        elif spec.kind == "choice":
            group.add_argument(spec.flag, dest=_dest(spec), default=None, type=choice(spec.choices),
                               metavar="{" + ",".join(spec.choices) + "}", help=f"{spec.help}{suffix}")
        elif spec.kind in ("number", "integer"):
            group.add_argument(spec.flag, dest=_dest(spec), default=None, metavar="N",
                               type=float if spec.kind == "number" else int,
                               help=f"{spec.help}, {spec.minimum:g}..{spec.maximum:g}{suffix}")
        else:
            group.add_argument(spec.flag, dest=_dest(spec), default=None, metavar=spec.kind.upper(),
                               help=f"{spec.help}{suffix}")
    if presets:
        groups["refine"].add_argument("--raw", action="store_true", help="no refinement: the bare network "
                                      "output; refinement options given as well still apply (default: off)")
        groups["refine"].add_argument("--no-temporal", action="store_true",
                                      help="deprecated, the same as --smoothing 0 (default: off)")


def add_model_arguments(parser: argparse.ArgumentParser, *, model_default: str | None = "auto",
                        defaults_note: str = "") -> None:
    """--model, --weights and --device. The device is checked when the network loads (its list lives
    in segmenter.py, which imports torch: not worth it for --help)."""
    note = f"{defaults_note} " if defaults_note else ""
    group = parser.add_argument_group("model")
    group.add_argument("--model", type=choice(MODEL_CHOICES), default=model_default,
                       metavar="{" + ",".join(MODEL_CHOICES) + "}",
                       help=f"network variant: auto picks by the frame's shape (default: {note}auto)")
    group.add_argument("--weights", default=None, metavar="PATH",
                       help="custom weights file (from `silhouette-cam train`); overrides --model (default: none)")
    group.add_argument("--device", type=str.lower, default="auto",
                       help="where the network runs: auto (a GPU when there is one), cpu or cuda (default: auto)")


def check_device(device: str) -> None:
    """ValueError naming --device unless it is one of segmenter.DEVICE_CHOICES (imports torch)."""
    from silhouette_cam.segmenter import DEVICE_CHOICES

    if device not in DEVICE_CHOICES:
        raise ValueError(f"--device {device!r} is not one of {', '.join(DEVICE_CHOICES)}")


def add_max_frames(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-frames", type=int, default=None, metavar="N",
                        help="stop after N frames (default: all of them)")


def check_max_frames(args: argparse.Namespace) -> None:
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")


def background_changes(value: str) -> dict[str, object]:
    """--background value -> RenderSettings fields; ValueError / FileNotFoundError naming the value."""
    if value.lower() in BACKGROUND_KEYWORDS:
        return {"background": value.lower()}
    path = Path(value)
    if path.suffix:
        if not path.is_file():
            raise FileNotFoundError(f"--background file not found: {value}")
        kind = "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"
        return {"background": kind, "background_path": str(path)}
    from silhouette_cam.render import parse_color

    try:
        return {"background": "color", "background_color": parse_color(value, name="--background")}
    except ValueError:
        raise ValueError(f"--background {value!r} is not one of {', '.join(BACKGROUND_KEYWORDS)}, a color "
                         "(#rrggbb, r,g,b or a name) or an existing image or video file") from None


def settings_changes(args: argparse.Namespace) -> dict[str, object]:
    """The settings the user gave on the command line, as flat PipelineSettings changes (plus a
    whole `refine=` for --raw, which the flat ones then amend)."""
    changes: dict[str, object] = {}
    if getattr(args, "raw", False):
        from silhouette_cam.refine import RAW_SETTINGS

        changes["refine"] = RAW_SETTINGS
    for name, spec in _user_settings():
        value = getattr(args, _dest(spec), None) if spec.flag else None
        if value is None:
            continue
        changes.update(background_changes(value) if name == "background" else {name: value})
    if getattr(args, "no_temporal", False) and "temporal_strength" not in changes:
        changes["temporal_strength"] = 0.0
    return changes


def build_settings(args: argparse.Namespace):
    """PipelineSettings from the schema's defaults and the options given (validated: ValueError
    naming the flag, e.g. "--opacity must be in 0..1, got 2")."""
    from silhouette_cam.pipeline import PipelineSettings

    return PipelineSettings().replace(**settings_changes(args))


__all__ = ["OneLineParser", "add_max_frames", "add_model_arguments", "add_setting_arguments",
           "background_changes", "build_settings", "check_device", "check_max_frames", "choice", "flag_of",
           "settings_changes"]
