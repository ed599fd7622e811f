"""The command line generated from the settings schema: one help, suggestions, case-insensitive
choices, one-line errors, and the same names and ranges in every command."""

from __future__ import annotations

import argparse

import pytest

from silhouette_cam.cli import build_parser, main
from silhouette_cam.cli.options import build_settings, settings_changes
from silhouette_cam.pipeline import PipelineSettings
from silhouette_cam.sources import demo_clip_path

SETTING_COMMANDS = ("process", "virtualcam", "gui")


def parse(command: str, *args: str) -> argparse.Namespace:
    parser, _ = build_parser([command])
    required = [str(demo_clip_path()), "-o", "out.mp4"] if command == "process" else []
    return parser.parse_args([*required, *args])


def test_top_level_help_shows_the_subcommands_and_the_windows_options(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("process", "virtualcam", "segment", "eval", "train", "convert-weights"):
        assert f"\n  {name} " in out
    for flag in ("--source", "--record", "--mode", "--background", "--smoothing", "--quit-after-frames"):
        assert flag in out


@pytest.mark.parametrize(("word", "suggestion"), [("proces", "process"), ("virtualcma", "virtualcam"),
                                                  ("segmnet", "segment")])
def test_a_misspelled_subcommand_suggests_the_close_one(capsys, word: str, suggestion: str) -> None:
    assert main([word, "a.mp4", "-o", "o.mp4"]) == 2
    err = capsys.readouterr().err
    assert err == f"silhouette-cam: error: unknown subcommand {word!r}: did you mean {suggestion!r}?\n"


def test_a_subcommand_ignores_case(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse's --help exits 0
        main(["Process", "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: silhouette-cam process")


def test_an_unknown_word_lists_the_subcommands(capsys) -> None:
    assert main(["xyzzy"]) == 2
    err = capsys.readouterr().err
    assert "unknown subcommand 'xyzzy': choose from gui, process" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", SETTING_COMMANDS)
def test_choices_are_case_insensitive(command: str) -> None:
    args = parse(command, "--mode", "Cutout", "--background", "BLUR", "--model", "General")
    assert (args.mode, args.model) == ("cutout", "general")
    assert build_settings(args).render.background == "blur"


def test_choices_of_the_other_subcommands_are_case_insensitive_too() -> None:
    parser, _ = build_parser(["segment"])
    assert parser.parse_args(["a.jpg", "-o", "out", "--model", "LANDSCAPE", "--device", "CPU"]).device == "cpu"


@pytest.mark.parametrize("argv", [["process", "a.mp4"], ["process", "a.mp4", "-o", "o.mp4", "--mode", "sketch"],
                                  ["--bogus"], ["virtualcam", "--opacity", "half"]])
def test_parse_errors_are_one_line_exit_2(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "usage" not in err, err


@pytest.mark.parametrize("command", SETTING_COMMANDS)
def test_every_option_has_help_with_its_default(command: str) -> None:
    parser, _ = build_parser([command])
    text = parser.format_help()
    for action in parser._actions:  # noqa: SLF001 — the parser's own list is what --help prints
        if action.option_strings and action.dest not in ("help", "output"):
            assert action.help and "default" in action.help, (command, action.option_strings)
    assert "--smoothing" in text


@pytest.mark.parametrize("command", SETTING_COMMANDS)
def test_every_user_setting_with_a_flag_is_an_option_of_every_command(command: str) -> None:
    parser, _ = build_parser([command])
    flags = {flag for action in parser._actions for flag in action.option_strings}  # noqa: SLF001
    for name, spec in PipelineSettings.user_settings():
        if spec.flag:
            assert spec.flag in flags, (command, name)


@pytest.mark.parametrize(("args", "message"), [
    (["--opacity", "2"], "--opacity must be in 0..1, got 2"),
    (["--smoothing", "0.99"], "--smoothing must be in 0..0.95, got 0.99"),
    (["--blur", "0"], "--blur must be in 1..60, got 0"),
    (["--person-color", "fog"], "--person-color 'fog' is not a color"),
    (["--background", "fog"], "--background 'fog' is not one of transparent, blur"),
])
@pytest.mark.parametrize("command", SETTING_COMMANDS)
def test_out_of_range_values_name_the_flag(command: str, args: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_settings(parse(command, *args))


def test_only_given_options_become_changes_and_aliases_map_to_the_schema() -> None:
    assert settings_changes(parse("process")) == {}
    changes = settings_changes(parse("process", "--no-temporal", "--no-tracking", "--opacity", "0.3"))
    assert changes == {"temporal_strength": 0.0, "track_people": False, "overlay_opacity": 0.3}
    settings = build_settings(parse("process", "--raw", "--smoothing", "0.5", "--background", "#102030"))
    assert (settings.refine.edge_refine, settings.refine.temporal_strength) == (False, 0.5)
    assert (settings.render.background, settings.render.background_color) == ("color", (16, 32, 48))
    assert build_settings(parse("virtualcam", "--smoothing", "0")).refine.temporal is False


def test_the_window_takes_a_background_image(tmp_path) -> None:
    image = tmp_path / "beach.JPG"
    image.write_bytes(b"")
    settings = build_settings(parse("gui", "--mode", "cutout", "--background", str(image)))
    assert (settings.render.background, settings.render.background_path) == ("image", str(image))


def test_a_background_file_is_an_image_by_the_same_suffixes_the_image_reader_reads(tmp_path) -> None:
    from silhouette_cam.cli.options import background_changes
    from silhouette_cam.image_files import IMAGE_SUFFIXES

    for suffix in IMAGE_SUFFIXES:  # e.g. a .tif was taken for a video and decoded again every frame
        picture = tmp_path / f"bg{suffix}"
        picture.write_bytes(b"")
        assert background_changes(str(picture)) == {"background": "image", "background_path": str(picture)}
    clip = tmp_path / "bg.mp4"
    clip.write_bytes(b"")
    assert background_changes(str(clip))["background"] == "video"
