"""The window's actions (toolbar buttons, menu items, shortcuts) in one place.

Modes are 1-4 (controls.ModeActions); R records, S saves a snapshot, V sends to the virtual camera,
H toggles the HUD, F11 fullscreen (Esc leaves it). Single-key shortcuts do not fire while a spin box or combo box has
focus and wants the key, so typing into a control never switches modes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from silhouette_cam.live.virtual_camera import SIZE_CHOICES

from .controls import ModeActions

VIRTUAL_CAMERA_TIP = "Send what is rendered to a virtual camera, for video calls (V)"


class WindowActions:
    """Creates the actions on `window` and lays them out in a toolbar and File / View menus."""

    def __init__(self, window: QMainWindow, modes: ModeActions, source_picker: QWidget) -> None:
        def make(text: str, shortcut: Any, tip: str = "", checkable: bool = False) -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(tip or text)
            action.setCheckable(checkable)
            return action

        self.record = make("● Record", "R", "Record the rendered output (R)", checkable=True)
        self.snapshot = make("Snapshot", "S", "Save a PNG of the current frame (S)")
        self.virtual_camera = make("Virtual camera", "V", VIRTUAL_CAMERA_TIP, checkable=True)
        self.mirror = make("Mirror preview", None, "Mirror the preview (a self-view); the virtual camera, "
                           "recordings and snapshots are never mirrored", checkable=True)
        self.matte_color = make("Virtual camera matte color…", None,
                                "The color a transparent cutout is sent on (a camera carries no alpha)")
        sizes = QActionGroup(window)
        self.camera_sizes: dict[tuple[int, int] | None, QAction] = {}
        for size in SIZE_CHOICES:
            action = make(f"{size[0]}x{size[1]} (letterboxed)" if size else "The source's size", None,
                          checkable=True)
            action.setData(size)
            sizes.addAction(action)
            self.camera_sizes[size] = action
        self.camera_sizes[None].setChecked(True)
        self.hud = make("HUD", "H", "Show FPS, stage timings, device and model (H)", checkable=True)
        self.fullscreen = make("Fullscreen", "F11", "Toggle fullscreen (F11)", checkable=True)
        self.leave_fullscreen = make("Leave fullscreen", "Esc")
        self.open_video = make("Open video…", QKeySequence.StandardKey.Open)
        self.output_folder = make("Output folder…", None, "Where recordings and snapshots go")
        self.quit = make("Quit", QKeySequence.StandardKey.Quit)
        window.addAction(self.leave_fullscreen)  # works with the toolbar hidden in fullscreen

        toolbar = QToolBar("Main", window)
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        for action in modes.actions.values():
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addWidget(source_picker)
        toolbar.addSeparator()
        for action in (self.record, self.snapshot, self.virtual_camera, self.hud, self.fullscreen):
            toolbar.addAction(action)
        window.addToolBar(toolbar)
        self.toolbar = toolbar

        file_menu = window.menuBar().addMenu("&File")
        for action in (self.open_video, self.output_folder, self.quit):
            file_menu.addAction(action)
        view_menu: QMenu = window.menuBar().addMenu("&View")
        for action in modes.actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.hud, self.fullscreen, self.mirror, self.record, self.snapshot):
            view_menu.addAction(action)
        self.view_menu = view_menu
        camera_menu: QMenu = window.menuBar().addMenu("Virtual &camera")
        camera_menu.addAction(self.virtual_camera)
        camera_menu.addSeparator()
        for action in self.camera_sizes.values():
            camera_menu.addAction(action)
        camera_menu.addSeparator()
        camera_menu.addAction(self.matte_color)
        self.camera_menu = camera_menu
