"""What the window remembers between runs, in QSettings, behind a version key.

Only window/UI state lives here (geometry, mode, pipeline settings, model choice, source, output
folder, virtual camera options, HUD); a layout change bumps SETTINGS_VERSION and upgrades what it
knows how to (`_upgrade`) instead of half-applying old values; an unknown version starts clean.
Pipeline settings (PipelineSettings.changes_from_defaults) and the UI's ControlValues are stored as
JSON strings so every QSettings backend (registry, plist, INI — which returns everything as str)
reads back the same types.

    store = SettingsStore.for_user()                  # the user's settings
    store = SettingsStore.at_path(tmp / "s.ini")      # tests, portable installs, --settings
    store.mode = "cutout"; store.settings = {...}; store.controls = {...}; store.sync()
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from silhouette_cam.choices import MODES

SETTINGS_VERSION = 3
# Version history (what `_upgrade` does on the way to SETTINGS_VERSION):
# 2: controls hold only the user's changes from the defaults (improved defaults reach them), and the
#    smoothing control became certainty-led: version 1's full control dicts are dropped.
# 3: the pipeline's settings ("view/settings", PipelineSettings field names) are stored apart from the
#    UI's ("view/controls": the model); smoothing is one strength (0 = off, no `temporal` switch);
#    the cutout background's default became "transparent" (it was "blur" in the window).
V2_BACKGROUND_DEFAULT = "blur"
ORGANIZATION = "silhouette_cam"
APPLICATION = "silhouette_cam"


def default_output_folder() -> Path:
    """Where recordings and snapshots go unless the user picks another folder: ~/Videos/silhouette_cam."""
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    base = Path(movies) if movies else Path.home() / "Videos"
    return base / "silhouette_cam"


class SettingsStore:
    """Typed accessors over a QSettings; reading a missing or malformed value gives the default."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings
        stored = settings.value("settings_version")
        if stored is not None and str(stored) != str(SETTINGS_VERSION):
            self._upgrade(str(stored))
        settings.setValue("settings_version", SETTINGS_VERSION)

    def _upgrade(self, version: str) -> None:
        if version == "1":
            self._settings.remove("view/controls")  # froze version 1's defaults; the rest is kept
            self.settings = {"background": V2_BACKGROUND_DEFAULT}  # the cutout the user saw
        elif version == "2":
            controls = _json_dict(self._settings.value("view/controls"))
            model = {"model": controls.pop("model")} if "model" in controls else {}
            if "temporal" in controls:  # a switch next to the strength, in older dicts
                if controls.pop("temporal") is False:
                    controls["temporal_strength"] = 0.0
            # What the user saw in cutout mode stays: the window's old default background.
            controls.setdefault("background", V2_BACKGROUND_DEFAULT)
            self.settings, self.controls = controls, model
        else:  # an unknown layout: start clean rather than apply values whose meaning changed
            self._settings.clear()

    @classmethod
    def for_user(cls) -> SettingsStore:
        return cls(QSettings(ORGANIZATION, APPLICATION))

    @classmethod
    def at_path(cls, path: str | Path) -> SettingsStore:
        """Settings in an INI file at `path` (created on first sync)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def sync(self) -> None:
        self._settings.sync()

    # -- window ---------------------------------------------------------------------------------
    def _byte_array(self, key: str) -> QByteArray | None:
        """A stored Qt blob (geometry, dock state); None when absent, empty or of another type."""
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @property
    def geometry(self) -> QByteArray | None:
        return self._byte_array("window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._settings.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        return self._byte_array("window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._settings.setValue("window/state", value)

    @property
    def hud_visible(self) -> bool:
        return _as_bool(self._settings.value("window/hud_visible"), default=True)

    @hud_visible.setter
    def hud_visible(self, value: bool) -> None:
        self._settings.setValue("window/hud_visible", bool(value))

    # -- what is shown --------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        value = str(self._settings.value("view/mode", "overlay"))
        return value if value in MODES else "overlay"

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {value!r}")
        self._settings.setValue("view/mode", value)

    @property
    def settings(self) -> dict[str, Any]:
        """The user's pipeline settings by flat field name (PipelineSettings.changes_from_defaults,
        mode aside: see `mode`); {} when none stored or unreadable. Apply with
        PipelineSettings.with_stored, which skips values that no longer validate."""
        return _json_dict(self._settings.value("view/settings"))

    @settings.setter
    def settings(self, value: dict[str, Any]) -> None:
        self._settings.setValue("view/settings", json.dumps(value, sort_keys=True))

    @property
    def controls(self) -> dict[str, Any]:
        """The UI's own values (ControlValues.changes_from_defaults: the model); {} when none
        stored or unreadable."""
        return _json_dict(self._settings.value("view/controls"))

    @controls.setter
    def controls(self, value: dict[str, Any]) -> None:
        self._settings.setValue("view/controls", json.dumps(value, sort_keys=True))

    @property
    def source(self) -> str | None:
        """The last source spec ("demo", a camera index, a video path), or None for first runs."""
        value = self._settings.value("input/source")
        return str(value) if value not in (None, "") else None

    @source.setter
    def source(self, value: str) -> None:
        self._settings.setValue("input/source", str(value))

    @property
    def virtual_camera(self) -> dict[str, Any]:
        """The virtual camera's options (VirtualCameraOptions.to_dict); {} when none stored or unreadable."""
        return _json_dict(self._settings.value("output/virtual_camera"))

    @virtual_camera.setter
    def virtual_camera(self, value: dict[str, Any]) -> None:
        self._settings.setValue("output/virtual_camera", json.dumps(value, sort_keys=True))

    @property
    def output_folder(self) -> Path:
        value = self._settings.value("output/folder")
        return Path(str(value)) if value not in (None, "") else default_output_folder()

    @output_folder.setter
    def output_folder(self, value: str | Path) -> None:
        self._settings.setValue("output/folder", str(value))


def _json_dict(raw: object) -> dict[str, Any]:
    """A JSON object stored as a string -> dict; {} when absent or unreadable."""
    try:
        value = json.loads(str(raw)) if raw is not None else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _as_bool(value: object, *, default: bool) -> bool:
    """QSettings gives bools back as bool (native) or "true"/"false" (INI)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")
