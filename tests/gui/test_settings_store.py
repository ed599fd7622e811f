"""SettingsStore: values round-trip through a real INI file; a version change resets cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings

from silhouette_cam.gui.control_values import ControlValues
from silhouette_cam.gui.settings_store import SETTINGS_VERSION, SettingsStore
from silhouette_cam.pipeline import PipelineSettings


def stored(settings: dict) -> PipelineSettings:
    result, _ = PipelineSettings().with_stored(settings)
    return result


def test_values_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    store = SettingsStore.at_path(path)
    settings = PipelineSettings().replace(overlay_color=(1, 2, 3), threshold=0.25, invert=True)
    store.mode, store.settings, store.source = "silhouette", settings.changes_from_defaults(), "/videos/a.mp4"
    store.output_folder, store.hud_visible = tmp_path / "out", False
    store.geometry = QByteArray(b"\x01\x02geometry")
    store.sync()

    again = SettingsStore.at_path(path)
    assert again.mode == "silhouette"
    assert stored(again.settings) == settings
    assert stored(again.settings).render.overlay_color == (1, 2, 3)
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
    assert (store.mode, store.source, store.settings, store.controls, store.hud_visible) == (
        "overlay", None, {}, {}, True)
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
    assert (store.mode, store.output_folder, store.controls, store.settings) == (
        "mask", tmp_path / "recordings", {}, {"background": "blur"})  # blur: the window's old default


def test_version_2_controls_are_split_into_settings_and_ui_state(tmp_path: Path) -> None:
    """Version 2 kept the pipeline's values and the model in one dict, and the window's background
    default was blur: the upgrade moves the model to the controls, the rest to the settings, and
    keeps the blur the user saw."""
    path = tmp_path / "v2.ini"
    old = QSettings(str(path), QSettings.Format.IniFormat)
    old.setValue("settings_version", 2)
    old.setValue("view/mode", "cutout")
    old.setValue("view/controls", '{"model": "general", "invert": true, "temporal_strength": 0.0, '
                                  '"overlay_color": [1, 2, 3]}')
    old.sync()
    store = SettingsStore.at_path(path)
    assert store.mode == "cutout" and ControlValues.from_dict(store.controls).model == "general"
    settings = stored(store.settings)
    assert (settings.refine.invert, settings.refine.temporal, settings.render.overlay_color) == (True, False, (1, 2, 3))
    assert settings.render.background == "blur"


def test_an_old_temporal_switch_becomes_strength_zero(tmp_path: Path) -> None:
    path = tmp_path / "v2.ini"
    old = QSettings(str(path), QSettings.Format.IniFormat)
    old.setValue("settings_version", 2)
    old.setValue("view/controls", '{"temporal": false, "background": "color"}')
    old.sync()
    settings = stored(SettingsStore.at_path(path).settings)
    assert settings.refine.temporal_strength == 0.0 and settings.render.background == "color"


def test_only_changed_settings_are_stored() -> None:
    settings = PipelineSettings().replace(invert=True, softness=0.2)
    assert settings.changes_from_defaults() == {"invert": True, "softness": 0.2}
    assert stored(settings.changes_from_defaults()) == settings
    assert ControlValues(model="general").changes_from_defaults() == {"model": "general"}


def test_malformed_values_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    raw.setValue("settings_version", SETTINGS_VERSION)
    raw.setValue("view/mode", "sepia")
    raw.setValue("view/settings", '{"threshold": 7, "invert": true, "overlay_color": [1, 2], '
                                  '"background": "image", "hue": 3}')
    raw.setValue("view/controls", '{"model": 7}')
    raw.sync()
    store = SettingsStore.at_path(path)
    assert store.mode == "overlay"
    settings, skipped = PipelineSettings().with_stored(store.settings)
    assert settings.refine.invert is True  # the good value survives the bad ones
    assert settings == PipelineSettings().replace(invert=True)
    assert set(skipped) == {"threshold", "overlay_color", "background", "hue"}
    assert ControlValues.from_dict(store.controls) == ControlValues()
    with pytest.raises(ValueError, match="mode must be one of"):
        store.mode = "sepia"
