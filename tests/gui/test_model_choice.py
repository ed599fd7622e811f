"""The model choice: trained weights files are found and listed, switch live, persist, fail softly.

A tiny random-init 3-class S-Net (tests/make_shapes_dataset.py's facts) stands in for a trained
model; the weights folder is a temporary one ($SILHOUETTE_CAM_WEIGHTS, with the shipped files
linked in). Waits are on signals, events or GUI state, never sleeps.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from silhouette_cam.gui import model_combo
from silhouette_cam.gui.control_values import ControlValues
from silhouette_cam.gui.launch import LaunchOptions
from silhouette_cam.gui.main_window import MainWindow
from silhouette_cam.gui.model_combo import OPEN_FILE, ModelCombo
from silhouette_cam.live import model_catalog
from silhouette_cam.live.engine import EngineOptions, PipelineEngine
from silhouette_cam.live.model_catalog import describe_weights, find_weights
from silhouette_cam.model import SHIPPED_VARIANTS, load_weights, save_weights
from silhouette_cam.model.snet import build_snet
from silhouette_cam.render.renderer import CLASS_COLORS
from silhouette_cam.segmenter import MODEL_CHOICES
from silhouette_cam.sources import demo_clip_path
from tests.make_shapes_dataset import SHAPES_SNET_FACTS

REPO_WEIGHTS = Path(__file__).resolve().parents[2] / "weights"
TIMEOUT_MS = 30_000  # model loads on a busy 2-core CI machine
LABEL = "shapes_model (3 classes)"


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shipped files (linked), shapes_model.safetensors (3-class S-Net), broken.safetensors (garbage)."""
    folder = tmp_path_factory.mktemp("weights")
    for name in SHIPPED_VARIANTS.values():
        for path in (REPO_WEIGHTS / name, (REPO_WEIGHTS / name).with_suffix(".onnx")):
            if path.exists():
                (folder / path.name).symlink_to(path)
    torch.manual_seed(0)
    save_weights(folder / "shapes_model.safetensors", build_snet(num_classes=3).state_dict(), SHAPES_SNET_FACTS)
    (folder / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header")
    (folder / "shapes_model.train.pt").write_bytes(b"resume state: not a model")
    return folder


@pytest.fixture
def weights_env(weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$SILHOUETTE_CAM_WEIGHTS = weights_dir, and a working folder without a weights/ of its own."""
    monkeypatch.setenv("SILHOUETTE_CAM_WEIGHTS", str(weights_dir))
    monkeypatch.chdir(tmp_path)
    return weights_dir


def trained(folder: Path) -> str:
    return str((folder / "shapes_model.safetensors").resolve())


def broken(folder: Path) -> str:
    return str((folder / "broken.safetensors").resolve())


def combo_texts(combo: ModelCombo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def user_picks(combo: ModelCombo, index: int) -> None:
    """What a click on an entry of the open list does."""
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def displayed_rgb(window: MainWindow) -> np.ndarray:
    image = window.view.image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def legend_colors(rgb: np.ndarray, frame_width: int) -> list[tuple[int, ...]]:
    """Colors at the centers of the first two legend swatches (drawn at frame x 8..22, y 8..22 / 28..42)."""
    scale = rgb.shape[1] / frame_width
    return [tuple(int(c) for c in rgb[round(y * scale), round(15 * scale)]) for y in (15, 35)]


# -- the catalog (no Qt, no torch) ----------------------------------------------------------------
def test_catalog_offers_the_segmenters_variants_and_imports_no_torch() -> None:
    assert model_catalog.VARIANTS == MODEL_CHOICES
    code = "import sys, silhouette_cam.live.model_catalog; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_catalog_lists_trained_files_and_says_why_others_are_unusable(weights_env: Path) -> None:
    entries = {entry.path.name: entry for entry in find_weights()}
    assert sorted(entries) == ["broken.safetensors", "shapes_model.safetensors"]  # shipped ones are listed apart
    model = entries["shapes_model.safetensors"]
    _, facts = load_weights(model.path)
    assert model.usable and model.label == LABEL
    assert (model.classes, model.input_size) == (facts.classes, (facts.input_height, facts.input_width))
    assert "background, disc, square" in model.details
    assert not entries["broken.safetensors"].usable
    assert "not a readable safetensors file" in entries["broken.safetensors"].problem
    foreign = weights_env.parent / "foreign.safetensors"
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2, np.float32)}, str(foreign))
    assert "not a silhouette_cam weights file" in describe_weights(foreign).problem
    assert describe_weights(weights_env / "gone.safetensors").problem == "file not found"


def test_model_values_take_variants_and_absolute_weights_paths(weights_env: Path) -> None:
    assert ControlValues().with_changes(model=trained(weights_env)).model == trained(weights_env)
    with pytest.raises(ValueError, match="absolute path of a weights file, got 'mine.safetensors'"):
        ControlValues().with_changes(model="mine.safetensors")


# -- the list in the panel ------------------------------------------------------------------------
def test_combo_lists_variants_trained_models_and_an_open_entry(qtbot, weights_env: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    combo = ModelCombo("auto")
    qtbot.addWidget(combo)
    texts = combo_texts(combo)
    assert texts[:3] == ["auto", "general", "landscape"] and texts[-1] == "Open weights file…"
    assert combo.itemText(combo.index_of(trained(weights_env))) == LABEL
    bad = combo.index_of(broken(weights_env))
    assert combo.itemText(bad) == "broken (unreadable)"
    assert not combo.model().item(bad).isEnabled()
    assert "not a readable safetensors file" in combo.itemData(bad, Qt.ItemDataRole.ToolTipRole)
    later = tmp_path / "weights" / "later.safetensors"  # ./weights: where `train` writes by default
    later.parent.mkdir()
    shutil.copy(weights_env / "shapes_model.safetensors", later)
    combo.showPopup()  # the list is rescanned each time it opens
    combo.hidePopup()
    assert "later (3 classes)" in combo_texts(combo) and combo.choice == "auto"

    elsewhere = tmp_path / "elsewhere" / "mine.safetensors"
    elsewhere.parent.mkdir()
    shutil.copy(weights_env / "shapes_model.safetensors", elsewhere)
    monkeypatch.setattr(model_combo.QFileDialog, "getOpenFileName",
                        lambda *args: (str(elsewhere), "Weights (*.safetensors)"))
    with qtbot.waitSignal(combo.choice_changed, timeout=1000) as picked:
        user_picks(combo, combo.findData(OPEN_FILE))
    assert picked.args == [str(elsewhere.resolve())]
    assert combo.currentText() == "mine (3 classes)" and combo.choice == str(elsewhere.resolve())

    monkeypatch.setattr(model_combo.QFileDialog, "getOpenFileName", lambda *args: ("", ""))
    user_picks(combo, combo.findData(OPEN_FILE))  # cancelled: the model in use stays selected
    assert combo.choice == str(elsewhere.resolve()) and combo.currentText() == "mine (3 classes)"


# -- the engine -----------------------------------------------------------------------------------
def test_engine_switches_models_in_the_background_and_keeps_the_old_one_on_failure(weights_env: Path) -> None:
    reports, arrived = [], threading.Event()

    def on_model(switch) -> None:
        reports.append(switch)
        arrived.set()

    engine = PipelineEngine(EngineOptions(model="general", device="cpu", on_model=on_model))
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)

    def switch_to(choice: str):
        arrived.clear()
        engine.apply({"model": choice})
        assert arrived.wait(TIMEOUT_MS / 1000)
        return reports[-1]

    engine.apply({"model": trained(weights_env)})
    assert engine.variant == "general"  # frames keep using the old model while the file loads
    assert arrived.wait(TIMEOUT_MS / 1000)
    assert (reports[-1].choice, reports[-1].label, reports[-1].error) == (trained(weights_env), LABEL, "")
    out, mode = engine.render(engine.analyze(frame))
    assert mode == "overlay" and engine.variant == LABEL
    assert legend_colors(out.image, 160) == [CLASS_COLORS[1], CLASS_COLORS[2]]  # one color per class

    failed = switch_to(broken(weights_env))
    assert failed.error.startswith("cannot load model broken.safetensors:")
    assert failed.choice == trained(weights_env) and engine.variant == LABEL  # the previous model stays

    assert switch_to("landscape").choice == "landscape"  # the shipped networks were kept: at once
    engine.render(engine.analyze(frame))
    assert engine.variant == "landscape"


def test_a_saved_file_that_fails_to_build_falls_back_to_auto_but_weights_must_load(weights_env: Path,
                                                                                  tmp_path: Path) -> None:
    mismatched = tmp_path / "mismatched.safetensors"  # readable facts, tensors of another network
    save_weights(mismatched, {"w": torch.zeros(2)}, SHAPES_SNET_FACTS)
    reports = []
    engine = PipelineEngine(EngineOptions(model=str(mismatched), device="cpu", on_model=reports.append))
    assert engine.variant in ("general", "landscape")
    assert [r.choice for r in reports] == ["auto"]
    assert reports[0].error.startswith("cannot load model mismatched.safetensors: ")
    assert reports[0].error.endswith(" — using auto")
    with pytest.raises(ValueError, match="tensors do not match the architecture"):
        PipelineEngine(EngineOptions(weights=str(mismatched), device="cpu"))  # --weights: asked for, must load


# -- the window -----------------------------------------------------------------------------------
def test_window_switches_to_a_trained_model_with_a_legend_and_reports_a_broken_one(
    qtbot, make_window, weights_env: Path, clip: Path
) -> None:
    window = make_window(source=str(clip), paced=False, model="general")
    combo = window.panel.model
    assert LABEL in combo_texts(combo)
    qtbot.waitUntil(lambda: window._info is not None and window._info.variant == "general", timeout=TIMEOUT_MS)

    user_picks(combo, combo.index_of(trained(weights_env)))
    qtbot.waitUntil(lambda: window._info.variant == LABEL, timeout=TIMEOUT_MS)
    shown = window.frames_shown  # the frame analysed before the swap may still be drawn by the new model
    qtbot.waitUntil(lambda: window.frames_shown > shown + 2, timeout=TIMEOUT_MS)
    assert window.status_label.text() == f"Model: {LABEL}"
    window.hud.set_stats(window.hud_stats(), force=True)
    assert any(line.startswith(f"model: {LABEL}") for line in window.hud.lines)
    colors = np.array(legend_colors(displayed_rgb(window), 320), np.int16)
    assert np.abs(colors - np.array(CLASS_COLORS[1:3], np.int16)).max() <= 12  # legend drawn in the window

    window.panel.apply(model=broken(weights_env))
    qtbot.waitUntil(lambda: "cannot load model broken.safetensors" in window.last_error, timeout=TIMEOUT_MS)
    assert "cannot load model broken.safetensors" in window.statusBar().currentMessage()
    assert combo.choice == window.panel.values.model == trained(weights_env)  # back on the model in use
    shown = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown > shown + 2, timeout=TIMEOUT_MS)
    assert window._info.variant == LABEL and window.worker.isRunning()


def test_weights_flag_is_listed_and_selected(qtbot, store, weights_env: Path) -> None:
    window = MainWindow(store, LaunchOptions(source="demo", weights=trained(weights_env)))
    qtbot.addWidget(window)
    combo = window.panel.model
    assert combo.choice == trained(weights_env) and combo.currentText() == LABEL


def test_choice_persists_and_a_missing_file_falls_back_to_auto(qtbot, store, weights_env: Path,
                                                               tmp_path: Path) -> None:
    kept = tmp_path / "kept.safetensors"
    shutil.copy(weights_env / "shapes_model.safetensors", kept)
    first = MainWindow(store, LaunchOptions(source=str(demo_clip_path())))
    qtbot.addWidget(first)
    first.panel.apply(model=str(kept))
    first.close()

    second = MainWindow(store, LaunchOptions())
    qtbot.addWidget(second)
    assert second.panel.values.model == str(kept)
    assert second.panel.model.currentText() == "kept (3 classes)"  # listed though outside the weights folder
    second.close()

    kept.unlink()
    third = MainWindow(store, LaunchOptions())
    qtbot.addWidget(third)
    assert third.panel.values.model == "auto" and third.panel.model.currentText() == "auto"
    assert third.statusBar().currentMessage() == f"Saved model {kept}: file not found — using auto"
