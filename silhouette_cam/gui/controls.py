"""Mode switching (toolbar actions, keys 1-4) and the per-mode control panel.

The panel edits a ControlValues and emits only what changed (`values_changed({"overlay_opacity": 0.4})`);
the window forwards that to the worker, which applies it on the next frame. Nothing here touches
frames or the pipeline.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .control_values import BACKGROUNDS, RANGES, ControlValues
from .control_widgets import ColorButton, PercentSlider
from .model_combo import ModelCombo
from .settings_store import MODES

MODE_TITLES = {"overlay": "Overlay", "cutout": "Cutout", "silhouette": "Silhouette", "mask": "Mask"}


class ModeActions(QObject):
    """Four exclusive, checkable actions with shortcuts 1-4; emits mode_changed(mode) on user choice."""

    mode_changed = Signal(str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for number, mode in enumerate(MODES, start=1):
            action = QAction(f"{MODE_TITLES[mode]}", self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(str(number)))
            action.setToolTip(f"{MODE_TITLES[mode]} ({number})")
            action.setData(mode)
            self.group.addAction(action)
            self.actions[mode] = action
        self.group.triggered.connect(lambda action: self.mode_changed.emit(action.data()))

    @property
    def mode(self) -> str:
        checked = self.group.checkedAction()
        return checked.data() if checked is not None else MODES[0]

    def set_mode(self, mode: str) -> None:
        """Check `mode`'s action without emitting (the caller already knows)."""
        if mode not in self.actions:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.actions[mode].setChecked(True)


class ControlsPanel(QWidget):
    """The settings column: the current mode's controls on top, mask and model controls below."""

    values_changed = Signal(dict)  # {control name: new value}, only the changed ones

    def __init__(self, values: ControlValues, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = values
        self.pages = QStackedWidget()
        self.pages.addWidget(self._overlay_page())
        self.pages.addWidget(self._cutout_page())
        self.pages.addWidget(self._silhouette_page())
        self.pages.addWidget(self._mask_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self._mask_group())
        layout.addWidget(self._model_group())
        layout.addStretch(1)
        self._sync_background_rows()

    @property
    def values(self) -> ControlValues:
        return self._values

    def set_mode(self, mode: str) -> None:
        self.pages.setCurrentIndex(MODES.index(mode))

    def show_model_in_use(self, choice: str) -> None:
        """The engine's model (after a switch, or a failed one): shown and stored, nothing emitted."""
        self._values = self._values.with_changes(model=choice)
        self.model.set_choice(choice)

    def apply(self, **changes: Any) -> None:
        """Change values as if the user had (validated; emits values_changed). Used by tests and scripts."""
        self._values = self._values.with_changes(**changes)
        self._refresh_widgets()
        self.values_changed.emit(changes)

    # -- pages ----------------------------------------------------------------------------------
    def _overlay_page(self) -> QWidget:
        box, form = _group("Overlay: the person tinted")
        self.overlay_color = self._color("overlay_color", "Tint color")
        self.overlay_opacity = self._slider("overlay_opacity")
        form.addRow("Tint", self.overlay_color)
        form.addRow("Opacity", self.overlay_opacity)
        return box

    def _cutout_page(self) -> QWidget:
        box, form = _group("Cutout: the person kept")
        self.background = QComboBox()
        self.background.addItems(BACKGROUNDS)
        self.background.setCurrentText(self._values.background)
        self.background.currentTextChanged.connect(self._on_background_kind)
        self.background_color = self._color("background_color", "Background color")
        self.background_file = QPushButton(self._file_label())
        self.background_file.clicked.connect(self._pick_background_file)
        self.blur_sigma = self._slider("blur_sigma", unit=" px", scale=1.0)
        form.addRow("Background", self.background)
        form.addRow("Color", self.background_color)
        form.addRow("File", self.background_file)
        form.addRow("Blur", self.blur_sigma)
        self._cutout_form = form
        return box

    def _silhouette_page(self) -> QWidget:
        box, form = _group("Silhouette: solid colors")
        self.person_color = self._color("person_color", "Person color")
        self.silhouette_background = self._color("silhouette_background", "Background color")
        form.addRow("Person", self.person_color)
        form.addRow("Background", self.silhouette_background)
        return box

    def _mask_page(self) -> QWidget:
        box, form = _group("Mask")
        note = QLabel("The refined person mask: white is person, black background. Tune it below.")
        note.setWordWrap(True)
        form.addRow(note)
        return box

    def _mask_group(self) -> QWidget:
        box, form = _group("Mask refinement")
        self.threshold = self._slider("threshold")
        self.softness = self._slider("softness")
        self.edge_refine = self._checkbox("edge_refine", "Snap edges to the image")
        self.temporal_strength = self._slider("temporal_strength")
        self.track_people = self._checkbox("track_people", "Zoom in on small / distant people")
        self.invert = self._checkbox("invert", "Invert (keep the background)")
        self.threshold.setToolTip("Person probability where the edge is drawn")
        self.softness.setToolTip("0: a hard edge; 100%: the network's probability as is")
        self.temporal_strength.setToolTip("Damps flicker where the picture is still; 0 turns it off")
        form.addRow("Threshold", self.threshold)
        form.addRow("Softness", self.softness)
        form.addRow("Smoothing", self.temporal_strength)
        form.addRow("", self.edge_refine)
        form.addRow("", self.track_people)
        form.addRow("", self.invert)
        return box

    def _model_group(self) -> QWidget:
        box, form = _group("Model")
        self.model = ModelCombo(self._values.model)
        self.model.choice_changed.connect(lambda choice: self._user_change(model=choice))
        form.addRow("Network", self.model)
        return box

    # -- helpers --------------------------------------------------------------------------------
    def _color(self, name: str, title: str) -> ColorButton:
        button = ColorButton(getattr(self._values, name), title)
        button.color_changed.connect(lambda color: self._user_change(**{name: color}))
        return button

    def _slider(self, name: str, unit: str = "%", scale: float = 100.0) -> PercentSlider:
        low, high = RANGES[name]
        steps = round(high - low) if unit != "%" else round((high - low) * 100)
        slider = PercentSlider(getattr(self._values, name), minimum=low, maximum=high, steps=steps,
                               unit=unit, scale=scale)
        slider.value_changed.connect(lambda value: self._user_change(**{name: value}))
        return slider

    def _checkbox(self, name: str, text: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        box.setChecked(getattr(self._values, name))
        box.toggled.connect(lambda checked: self._user_change(**{name: checked}))
        return box

    def _user_change(self, **changes: Any) -> None:
        self._values = self._values.with_changes(**changes)
        if "background" in changes or "background_path" in changes:
            self._sync_background_rows()
        self.values_changed.emit(changes)

    def _on_background_kind(self, kind: str) -> None:
        self._user_change(background=kind)
        if kind in ("image", "video") and not self._values.background_path:
            self._pick_background_file()  # nothing to show yet: ask for the file right away

    def _pick_background_file(self) -> None:
        kind = "Videos (*.mp4 *.mkv *.avi *.mov *.webm)" if self._values.background == "video" else (
            "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
        )
        path, _ = QFileDialog.getOpenFileName(self, "Background", self._values.background_path, kind)
        if path:
            self._user_change(background_path=path)
            self.background_file.setText(self._file_label())

    def _file_label(self) -> str:
        path = self._values.background_path
        return path.rsplit("/", 1)[-1] if path else "Choose…"

    def _sync_background_rows(self) -> None:
        kind = self._values.background
        self._cutout_form.setRowVisible(self.background_color, kind == "color")
        self._cutout_form.setRowVisible(self.background_file, kind in ("image", "video"))
        self._cutout_form.setRowVisible(self.blur_sigma, kind == "blur")

    def _refresh_widgets(self) -> None:
        v = self._values
        toggles = (self.edge_refine, self.track_people, self.invert)
        for widget in (self.background, *toggles):
            widget.blockSignals(True)
        self.background.setCurrentText(v.background)
        self.model.set_choice(v.model)
        for box in toggles:
            box.setChecked(getattr(v, box.objectName()))
        for widget in (self.background, *toggles):
            widget.blockSignals(False)
        for name in ("overlay_color", "background_color", "person_color", "silhouette_background"):
            getattr(self, name).set_color(getattr(v, name), emit=False)
        for name in RANGES:
            getattr(self, name).set_value(getattr(v, name), emit=False)
        self.background_file.setText(self._file_label())
        self._sync_background_rows()


def controls_dock(panel: ControlsPanel, parent: QWidget) -> QDockWidget:
    """The panel in a scrollable, closable dock (View menu brings it back)."""
    dock = QDockWidget("Controls", parent)
    dock.setObjectName("controls_dock")  # saveState() needs a name
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(panel)
    scroll.setMinimumWidth(290)
    dock.setWidget(scroll)
    return dock


def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    return box, form
