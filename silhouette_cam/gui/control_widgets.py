"""Small input widgets for the control panel: a color swatch button and a labelled percent slider."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

RGB = tuple[int, int, int]


def check_rgb(value: object, name: str) -> RGB:
    """A (r, g, b) tuple of ints in 0..255, or ValueError naming the control and the value."""
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 3
        or not all(isinstance(c, int) and 0 <= c <= 255 for c in value)
    ):
        raise ValueError(f"{name} must be (r, g, b) ints in 0..255, got {value!r}")
    return (int(value[0]), int(value[1]), int(value[2]))


class ColorButton(QPushButton):
    """A button filled with its color; clicking opens a color dialog. Emits color_changed((r, g, b))."""

    color_changed = Signal(tuple)

    def __init__(self, color: RGB, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self._color = check_rgb(color, title)
        self.setFixedHeight(26)
        self.setMinimumWidth(64)
        self.clicked.connect(self._pick)
        self._restyle()

    @property
    def color(self) -> RGB:
        return self._color

    def set_color(self, color: RGB, *, emit: bool = True) -> None:
        color = check_rgb(color, self._title)
        if color == self._color:
            return
        self._color = color
        self._restyle()
        if emit:
            self.color_changed.emit(color)

    def _pick(self) -> None:
        chosen = QColorDialog.getColor(QColor(*self._color), self, self._title)
        if chosen.isValid():
            self.set_color((chosen.red(), chosen.green(), chosen.blue()))

    def _restyle(self) -> None:
        r, g, b = self._color
        text = "#000" if (0.299 * r + 0.587 * g + 0.114 * b) > 140 else "#fff"
        self.setStyleSheet(f"background-color: rgb({r},{g},{b}); color: {text}; border-radius: 4px;")
        self.setText(f"#{r:02x}{g:02x}{b:02x}")


class PercentSlider(QWidget):
    """A horizontal slider over 0..1 (shown as a percent, or as `scale` units). Emits value_changed(float)."""

    value_changed = Signal(float)

    def __init__(
        self, value: float, *, minimum: float = 0.0, maximum: float = 1.0, steps: int = 100,
        unit: str = "%", scale: float = 100.0, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._minimum, self._maximum, self._steps = minimum, maximum, steps
        self._unit, self._scale = unit, scale
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, steps)
        self.label = QLabel()
        self.label.setMinimumWidth(44)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_slider)
        self.set_value(value, emit=False)

    @property
    def value(self) -> float:
        fraction = self.slider.value() / self._steps
        return self._minimum + fraction * (self._maximum - self._minimum)

    def set_value(self, value: float, *, emit: bool = True) -> None:
        value = min(self._maximum, max(self._minimum, float(value)))
        position = round((value - self._minimum) / (self._maximum - self._minimum) * self._steps)
        self.slider.blockSignals(not emit)
        self.slider.setValue(position)
        self.slider.blockSignals(False)
        self._relabel()

    def _on_slider(self, _: int) -> None:
        self._relabel()
        self.value_changed.emit(self.value)

    def _relabel(self) -> None:
        self.label.setText(f"{self.value * self._scale:.0f}{self._unit}")
