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
