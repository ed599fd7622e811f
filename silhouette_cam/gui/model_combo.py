"""The model choice in the control panel, and the relay that brings the engine's model switches back.

The list: auto, general, landscape, then every weights file found (model_catalog.find_weights, by
name and class count; unreadable files disabled, the reason in their tooltip), the files opened
this session, and "Open weights file…". It is rescanned each time it opens (tiny folders, header
reads only). Picking an entry only emits `choice_changed`; the window shows what the engine
then reports (ModelSwitch), and `set_choice` puts the list back on the model in use.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from silhouette_cam.live.model_catalog import (
    VARIANTS,
    WeightsEntry,
    describe_weights,
    find_weights,
    is_weights_choice,
)
from silhouette_cam.live.model_switch import ModelSwitch
from silhouette_cam.weight_facts import default_weights_dir

OPEN_FILE = "<open weights file>"  # item data of the "Open weights file…" entry
WEIGHTS_FILTER = "Weights (*.safetensors)"
VARIANT_TIPS = {
    "auto": "The shipped model that fits the frame: landscape for wide frames, else general",
    "general": "Shipped selfie model, 256x256 input",
    "landscape": "Shipped selfie model, 144x256 input (faster)",
}


class ModelCombo(QComboBox):
    """See the module docstring. A choice is a shipped variant or a weights file's absolute path."""

    choice_changed = Signal(str)

    def __init__(self, choice: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choice = choice
        self._opened: list[str] = []  # files chosen outside the weights folders, listed from then on
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.refresh()
        self.activated.connect(self._on_activated)

    @property
    def choice(self) -> str:
        return self._choice

    def choices(self) -> list[str]:
        """Every listed choice, in order ("Open weights file…" left out)."""
        return [self.itemData(i) for i in range(self.count()) if self.itemData(i) not in (None, OPEN_FILE)]

    def index_of(self, choice: str) -> int:
        return self.findData(choice)

    def set_choice(self, choice: str) -> None:
        """Show `choice` as selected (listing it if needed) without emitting."""
        self._choice = choice
        if self.index_of(choice) < 0:
            self.refresh()
        else:
            self._select(choice)

    def refresh(self) -> None:
        """Rescan the weights folders and rebuild the list, keeping the selection."""
        entries = find_weights()
        found = {entry.path.resolve() for entry in entries}
        extra = [*self._opened, self._choice] if is_weights_choice(self._choice) else self._opened
        for path in dict.fromkeys(extra):
            if Path(path).resolve() not in found:
                entries.append(describe_weights(path))
                found.add(Path(path).resolve())
        self.blockSignals(True)
        self.clear()
        for variant in VARIANTS:
            self.addItem(variant, variant)
            self.setItemData(self.count() - 1, VARIANT_TIPS[variant], Qt.ItemDataRole.ToolTipRole)
        if entries:
            self.insertSeparator(self.count())
        for entry in entries:
            self._add_entry(entry)
        self.insertSeparator(self.count())
        self.addItem("Open weights file…", OPEN_FILE)
        self.setItemData(self.count() - 1, "A .safetensors file from `silhouette-cam train`",
                         Qt.ItemDataRole.ToolTipRole)
        self._select(self._choice)
        self.blockSignals(False)

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        self.refresh()  # a model trained while the window was open shows up
        super().showPopup()

    def _add_entry(self, entry: WeightsEntry) -> None:
        choice = str(entry.path.resolve())
        label = entry.label if entry.usable else f"{entry.path.stem} (unreadable)"
        self.addItem(label, choice)
        index = self.count() - 1
        self.setItemData(index, entry.details, Qt.ItemDataRole.ToolTipRole)
        if not entry.usable:
            model = self.model()
            if isinstance(model, QStandardItemModel):
                model.item(index).setEnabled(False)

    def _select(self, choice: str) -> None:
        index = self.index_of(choice)
        self.blockSignals(True)
        self.setCurrentIndex(index if index >= 0 else 0)
        self.setToolTip(self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) or "")
        self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        choice = self.itemData(index)
        if choice == OPEN_FILE:
            self._open_file()
        elif choice is not None and choice != self._choice:
            self._pick(choice)
        else:
            self._select(self._choice)

    def _open_file(self) -> None:
        start = str(Path(self._choice).parent if is_weights_choice(self._choice) else default_weights_dir())
        path, _ = QFileDialog.getOpenFileName(self, "Open weights file", start, WEIGHTS_FILTER)
        if not path:
            self._select(self._choice)  # cancelled: back to the model in use
            return
        choice = str(Path(path).resolve())
        if choice not in self._opened:
            self._opened.append(choice)
        self._pick(choice)

    def _pick(self, choice: str) -> None:
        self._choice = choice
        self.refresh()
        self.choice_changed.emit(choice)


class ModelSwitchRelay(QObject):
    """Takes the engine's ModelSwitch reports on its threads; `switched` delivers them on the GUI thread."""

    switched = Signal(object)  # ModelSwitch

    def report(self, switch: ModelSwitch) -> None:
        self.switched.emit(switch)  # queued: the receiver lives in the GUI thread
