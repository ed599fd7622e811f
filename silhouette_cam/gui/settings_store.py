"""What the window remembers between runs, in QSettings, behind a version key.

Only window/UI state lives here (geometry, mode, control values, source, output folder, HUD); a
layout change bumps SETTINGS_VERSION and the old values are dropped instead of half-applied (only
the keys UPGRADES names, for an upgrade it knows; everything, for any other version).
Control values are stored as one JSON string so every QSettings backend (registry, plist, INI —
which returns everything as str) reads back the same types.

    store = SettingsStore.for_user()                  # the user's settings
    store = SettingsStore.at_path(tmp / "s.ini")      # tests, portable installs, --settings
    store.mode = "cutout"; store.controls = {...}; store.sync()
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

SETTINGS_VERSION = 2
# Older version -> the keys whose meaning changed on the way to SETTINGS_VERSION; the rest is kept.
UPGRADES = {
    # 2: controls hold only the user's changes from the defaults (improved defaults reach them), and
    # the smoothing control became certainty-led: version 1's full control dicts froze the old defaults.
    "1": ("view/controls",),
}
MODES = ("overlay", "cutout", "silhouette", "mask")
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
            if str(stored) in UPGRADES:
                for key in UPGRADES[str(stored)]:
                    settings.remove(key)
            else:  # an unknown layout: start clean rather than apply values whose meaning changed
                settings.clear()
        settings.setValue("settings_version", SETTINGS_VERSION)

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
    def controls(self) -> dict[str, Any]:
        """The user's control values by name (ControlValues.changes_from_defaults); {} when none
        stored or unreadable."""
        raw = self._settings.value("view/controls")
        try:
            value = json.loads(str(raw)) if raw is not None else {}
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

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
    def output_folder(self) -> Path:
        value = self._settings.value("output/folder")
        return Path(str(value)) if value not in (None, "") else default_output_folder()

    @output_folder.setter
    def output_folder(self, value: str | Path) -> None:
        self._settings.setValue("output/folder", str(value))


def _as_bool(value: object, *, default: bool) -> bool:
    """QSettings gives bools back as bool (native) or "true"/"false" (INI)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")
