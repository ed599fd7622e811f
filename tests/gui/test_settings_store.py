"""SettingsStore: values round-trip through a real INI file; a version change resets cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings

from silhouette_cam.gui.control_values import ControlValues
from silhouette_cam.gui.settings_store import SETTINGS_VERSION, SettingsStore


def test_values_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    store = SettingsStore.at_path(path)
    controls = ControlValues().with_changes(overlay_color=(1, 2, 3), threshold=0.25, invert=True).to_dict()
    store.mode, store.controls, store.source = "silhouette", controls, "/videos/a.mp4"
    store.output_folder, store.hud_visible = tmp_path / "out", False
    store.geometry = QByteArray(b"\x01\x02geometry")
    store.sync()

    again = SettingsStore.at_path(path)
    assert again.mode == "silhouette"
    assert ControlValues.from_dict(again.controls) == ControlValues.from_dict(controls)
    assert ControlValues.from_dict(again.controls).overlay_color == (1, 2, 3)
    assert again.source == "/videos/a.mp4"
    assert again.output_folder == tmp_path / "out"
    assert again.hud_visible is False
    assert again.geometry == QByteArray(b"\x01\x02geometry")


def test_a_weights_file_choice_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    weights = str(tmp_path / "models" / "my model, v2.safetensors")  # spaces and commas survive INI
    store = SettingsStore.at_path(path)
    store.controls = ControlValues().with_changes(model=weights).to_dict()
    store.sync()
    assert ControlValues.from_dict(SettingsStore.at_path(path).controls).model == weights


def test_first_run_gives_defaults(tmp_path: Path) -> None:
    store = SettingsStore.at_path(tmp_path / "new.ini")
    assert (store.mode, store.source, store.controls, store.hud_visible) == ("overlay", None, {}, True)
    assert store.output_folder.name == "silhouette_cam"


def test_other_version_is_dropped_not_half_applied(tmp_path: Path) -> None:
    path = tmp_path / "old.ini"
    old = QSettings(str(path), QSettings.Format.IniFormat)
    old.setValue("settings_version", SETTINGS_VERSION + 7)
    old.setValue("view/mode", "mask")
    old.sync()
    store = SettingsStore.at_path(path)
    assert store.mode == "overlay"
    store.sync()
    stored = QSettings(str(path), QSettings.Format.IniFormat).value("settings_version")
    assert str(stored) == str(SETTINGS_VERSION)


def test_malformed_values_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    raw.setValue("settings_version", SETTINGS_VERSION)
    raw.setValue("view/mode", "sepia")
    raw.setValue("view/controls", '{"threshold": 7, "invert": true, "overlay_color": [1, 2]}')
    raw.sync()
    store = SettingsStore.at_path(path)
    assert store.mode == "overlay"
    values = ControlValues.from_dict(store.controls)
    assert values.invert is True  # the good value survives the bad ones
    assert values.threshold == ControlValues().threshold
    assert values.overlay_color == ControlValues().overlay_color
    with pytest.raises(ValueError, match="mode must be one of"):
        store.mode = "sepia"
