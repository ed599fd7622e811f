"""`silhouette-cam gui` for automation: --record / --screenshot / --quit-after-frames, and bad options."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import pytest

from silhouette_cam.cli import main


def test_quit_after_frames_records_n_frames_and_saves_a_screenshot(qtbot, clip: Path, tmp_path: Path) -> None:
    record, shot = tmp_path / "out" / "rec.mp4", tmp_path / "window.png"
    code = main(["gui", "--source", str(clip), "--mode", "silhouette", "--record", str(record),
                 "--screenshot", str(shot), "--quit-after-frames", "12",
                 "--settings", str(tmp_path / "s.ini")])
    assert code == 0
    with av.open(str(record)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 12 and frames[0].shape == (240, 320, 3)
    window = cv2.imread(str(shot))
    assert window is not None and window.shape[0] > 240 and window.shape[1] > 320


def test_default_subcommand_is_the_window(qtbot, clip: Path, tmp_path: Path) -> None:
    shot = tmp_path / "w.png"
    assert main(["--source", str(clip), "--screenshot", str(shot), "--quit-after-frames", "2",
                 "--settings", str(tmp_path / "s.ini")]) == 0
    assert shot.is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (["--quit-after-frames", "0"], "--quit-after-frames must be >= 1, got 0"),
    (["--screenshot", "shot.gif"], "--screenshot must end in .png"),
    (["--weights", "missing.safetensors"], "--weights file not found: missing.safetensors"),
])
def test_bad_options_are_one_line_errors(capsys, argv: list[str], message: str) -> None:
    assert main(["gui", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_no_display_is_one_line_not_a_qt_abort(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["gui", "--source", "demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("silhouette-cam gui: error: no display found") and "\n" not in err


def test_the_windows_command_line_takes_process_render_options(qtbot, clip: Path, tmp_path: Path) -> None:
    """--background COLOR (case-insensitive choices too) reaches the window, and is remembered like a choice
    made in it."""
    from silhouette_cam.gui.settings_store import SettingsStore
    from silhouette_cam.pipeline import PipelineSettings

    shot, settings = tmp_path / "w.png", tmp_path / "s.ini"
    assert main(["--source", str(clip), "--mode", "Cutout", "--background", "#ff0000", "--no-tracking",
                 "--smoothing", "0", "--screenshot", str(shot), "--quit-after-frames", "3",
                 "--settings", str(settings)]) == 0
    image = cv2.imread(str(shot))
    red = (image[..., 2] > 200) & (image[..., 1] < 60) & (image[..., 0] < 60)
    assert red.sum() > 320 * 240 * 0.2  # the cutout's background, in the video view
    store = SettingsStore.at_path(settings)
    remembered, _ = PipelineSettings().with_stored(store.settings)
    assert store.mode == "cutout"
    assert (remembered.render.background, remembered.render.background_color) == ("color", (255, 0, 0))
    assert (remembered.refine.track_people, remembered.refine.temporal_strength) == (False, 0.0)


def test_a_bad_render_option_is_one_line_before_the_window_opens(capsys) -> None:
    assert main(["gui", "--opacity", "3"]) == 2
    assert capsys.readouterr().err == "silhouette-cam gui: error: --opacity must be in 0..1, got 3\n"
