"""Mode switching (toolbar actions, keys 1-4) and the per-mode control panel.

The panel edits a PipelineSettings (and the model choice) and emits only what changed
(`values_changed({"overlay_opacity": 0.4})`); the window forwards that to the worker, which applies
it on the next frame. Nothing here touches frames or the pipeline.
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

from silhouette_cam.choices import IMAGE_SUFFIXES, MODES
from silhouette_cam.pipeline import PipelineSettings
from silhouette_cam.setting import Setting

from .control_values import ControlValues
from .control_widgets import ColorButton, PercentSlider
from .model_combo import ModelCombo

MODE_TITLES = {"overlay": "Overlay", "cutout": "Cutout", "silhouette": "Silhouette", "mask": "Mask"}
# The mode pages, in MODES order: (title, the settings group shown on it; None: a note only).
PAGES = (("Overlay: the person tinted", "overlay"), ("Cutout: the person kept", "cutout"),
         ("Silhouette: solid colors", "silhouette"), ("Mask", None))
REFINEMENT = ("Mask refinement", "mask refinement")
IMAGE_PATTERN = "Images (" + " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES) + ")"
VIDEO_PATTERN = "Videos (*.mp4 *.mkv *.avi *.mov *.webm)"


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
    """The settings column: the current mode's controls on top, mask and model controls below.

    Generated from the settings schema: each user-facing PipelineSettings field (setting.py) gets the
    widget of its kind (slider over its range, checkbox, color button, choice, file button) on the
    page of its group, labelled and explained as the schema says; the widget is this panel's
    attribute of the same name (`panel.overlay_opacity`)."""

    values_changed = Signal(dict)  # {PipelineSettings field or "model": new value}, only the changed ones
    problem = Signal(str)  # a choice that was refused (a background file that cannot be read), one line

    def __init__(self, settings: PipelineSettings, values: ControlValues | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings.replace()  # validated, normalised
        self._values = values or ControlValues()
        self._specs = dict(PipelineSettings.user_settings())
        self._forms: dict[str, QFormLayout] = {}
        self.pages = QStackedWidget()
        for title, group in PAGES:
            self.pages.addWidget(self._page(title, group))
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        box, _ = self._group_box(*REFINEMENT)
        layout.addWidget(box)
        layout.addWidget(self._model_group())
        layout.addStretch(1)
        self._sync_background_rows()

    @property
    def settings(self) -> PipelineSettings:
        """The pipeline settings the controls show (mode included)."""
        return self._settings

    @property
    def values(self) -> ControlValues:
        """The UI state that is not a pipeline setting (the model)."""
        return self._values

    def set_mode(self, mode: str) -> None:
        self._settings = self._settings.replace(mode=mode)
        self.pages.setCurrentIndex(MODES.index(mode))

    def show_model_in_use(self, choice: str) -> None:
        """The engine's model (after a switch, or a failed one): shown and stored, nothing emitted."""
        self._values = self._values.with_changes(model=choice)
        self.model.set_choice(choice)

    def apply(self, **changes: Any) -> None:
        """Change values as if the user had (validated; emits values_changed). Used by tests and scripts."""
        self._change(changes)
        self._refresh_widgets()
        self.values_changed.emit(changes)

    # -- generated pages ------------------------------------------------------------------------
    def _page(self, title: str, group: str | None) -> QWidget:
        if group is None:  # the mask mode: nothing to draw with, the refinement below is its control
            box, form = _group(title)
            note = QLabel("The refined person mask: white is person, black background. Tune it below.")
            note.setWordWrap(True)
            form.addRow(note)
            return box
        return self._group_box(title, group)[0]

    def _group_box(self, title: str, group: str) -> tuple[QGroupBox, QFormLayout]:
        box, form = _group(title)
        for name, spec in self._specs.items():
            if spec.group != group:
                continue
            widget = self._widget(name, spec)
            widget.setToolTip(spec.help[:1].upper() + spec.help[1:])
            setattr(self, name, widget)
            if spec.kind == "bool":
                form.addRow("", widget)
            else:
                form.addRow(spec.label, widget)
        self._forms[group] = form
        return box, form

    def _widget(self, name: str, spec: Setting) -> QWidget:
        value = self._settings.value(name)
        if spec.kind == "number":
            percent = spec.unit == "%"
            steps = round((spec.maximum - spec.minimum) * (100 if percent else 1))
            widget = PercentSlider(value, minimum=spec.minimum, maximum=spec.maximum, steps=steps,
                                   unit=spec.unit, scale=100.0 if percent else 1.0)
            widget.value_changed.connect(lambda v: self._user_change(**{name: v}))
        elif spec.kind == "bool":
            widget = QCheckBox(spec.label)
            widget.setChecked(bool(value))
            widget.toggled.connect(lambda checked: self._user_change(**{name: checked}))
        elif spec.kind == "color":
            widget = ColorButton(value, spec.label)
            widget.color_changed.connect(lambda color: self._user_change(**{name: color}))
        elif spec.kind == "choice":
            widget = QComboBox()
            widget.addItems(spec.choices)
            widget.setCurrentText(value)
            widget.currentTextChanged.connect(lambda text: self._on_choice(name, text))
        else:  # a file: the background image or video
            widget = QPushButton(_file_label(value))
            widget.clicked.connect(lambda: self._pick_file(name))
        widget.setObjectName(name)
        return widget

    def _model_group(self) -> QWidget:
        box, form = _group("Model")
        self.model = ModelCombo(self._values.model)
        self.model.choice_changed.connect(lambda choice: self._user_change(model=choice))
        form.addRow("Network", self.model)
        return box

    # -- changes ----------------------------------------------------------------------------------
    def _change(self, changes: dict[str, Any]) -> None:
        """Validate and keep `changes` (settings fields and `model`); raises before keeping any."""
        changes = dict(changes)
        values = self._values.with_changes(model=changes.pop("model")) if "model" in changes else self._values
        self._settings = self._settings.replace(**changes)
        self._values = values

    def _user_change(self, **changes: Any) -> None:
        self._change(changes)
        if "background" in changes or "background_path" in changes:
            self._sync_background_rows()
        self.values_changed.emit(changes)

    def _on_choice(self, name: str, kind: str) -> None:
        if name == "background" and kind in ("image", "video") and not self._settings.render.background_path:
            # Nothing to show yet: ask for the file right away; no file, no change.
            if not self._pick_file("background_path", background=kind):
                self._refresh_widgets()
            return
        self._user_change(**{name: kind})

    def _pick_file(self, name: str, *, background: str | None = None) -> bool:
        """Ask for the background file; True when one was chosen (sent with `background`, if given)."""
        kind = background or self._settings.render.background
        pattern = VIDEO_PATTERN if kind == "video" else IMAGE_PATTERN
        start = self._settings.render.background_path or ""
        path, _ = QFileDialog.getOpenFileName(self, "Background", start, pattern)
        if not path:
            return False
        changes = {name: path, **({"background": background} if background else {})}
        from silhouette_cam.live.background_check import background_problem

        problem = background_problem(self._settings.replace(**changes))
        if problem:  # refused here: rendering with it would fail on every frame
            self.problem.emit(problem)
            return False
        self._user_change(**changes)
        getattr(self, name).setText(_file_label(path))
        return True

    def _sync_background_rows(self) -> None:
        kind = self._settings.render.background
        form = self._forms["cutout"]
        form.setRowVisible(self.background_color, kind == "color")
        form.setRowVisible(self.background_path, kind in ("image", "video"))
        form.setRowVisible(self.blur_sigma, kind == "blur")

    def _refresh_widgets(self) -> None:
        """Show the kept values without emitting (after apply() or a refused change)."""
        self.model.set_choice(self._values.model)
        for name, spec in self._specs.items():
            if spec.group is None:
                continue
            widget, value = getattr(self, name), self._settings.value(name)
            if spec.kind == "number":
                widget.set_value(value, emit=False)
            elif spec.kind == "color":
                widget.set_color(value, emit=False)
            elif spec.kind in ("bool", "choice"):
                widget.blockSignals(True)
                widget.setChecked(bool(value)) if spec.kind == "bool" else widget.setCurrentText(value)
                widget.blockSignals(False)
            else:
                widget.setText(_file_label(value))
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


def _file_label(path: str | None) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else "Choose…"
