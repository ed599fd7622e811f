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


def test_known_upgrade_drops_only_what_changed_meaning(tmp_path: Path) -> None:
    """Version 1 stored every control, freezing that version's defaults (smoothing 0.65): the
    upgrade drops the controls and keeps the rest (window, mode, source, output folder)."""
    path = tmp_path / "v1.ini"
    old = QSettings(str(path), QSettings.Format.IniFormat)
    old.setValue("settings_version", 1)
    old.setValue("view/mode", "mask")
    old.setValue("output/folder", str(tmp_path / "recordings"))
    old.setValue("view/controls", '{"temporal_strength": 0.65, "invert": false}')
    old.sync()
    store = SettingsStore.at_path(path)
    assert (store.mode, store.output_folder, store.controls) == ("mask", tmp_path / "recordings", {})
    assert ControlValues.from_dict(store.controls).temporal_strength == ControlValues().temporal_strength


def test_only_changed_controls_are_stored() -> None:
    values = ControlValues().with_changes(invert=True, softness=0.2)
    assert values.changes_from_defaults() == {"invert": True, "softness": 0.2}
    assert ControlValues.from_dict(values.changes_from_defaults()) == values


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
