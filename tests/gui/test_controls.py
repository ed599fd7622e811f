"""Control values validate; the panel and mode actions emit what the user changed."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from silhouette_cam.gui.control_values import ControlValues
from silhouette_cam.gui.controls import ControlsPanel, ModeActions
from silhouette_cam.pipeline import PipelineSettings


def test_changes_are_validated_with_the_controls_flag_and_got_vs_expected(qtbot) -> None:
    panel = ControlsPanel(PipelineSettings())
    qtbot.addWidget(panel)
    panel.apply(overlay_opacity=0.2)
    assert panel.settings.render.overlay_opacity == 0.2
    with pytest.raises(ValueError, match=r"--opacity must be in 0..1, got 1.5"):
        panel.apply(overlay_opacity=1.5)
    with pytest.raises(ValueError, match="--background 'sky' is not one of"):
        panel.apply(background="sky")
    with pytest.raises(ValueError, match="unknown pipeline setting"):
        panel.apply(hue=3)
    with pytest.raises(ValueError, match=r"--person-color \(300, 0, 0\) is not an RGB color"):
        panel.apply(person_color=(300, 0, 0))
    with pytest.raises(ValueError, match="model must be one of"):
        panel.apply(model="huge")
    assert panel.settings.render.overlay_opacity == 0.2 and panel.values == ControlValues()


def test_control_values_hold_only_ui_state() -> None:
    assert {f.name for f in dataclasses.fields(ControlValues)} == {"model"}


def test_every_user_setting_of_a_panel_group_is_a_control_with_the_schemas_range(qtbot) -> None:
    panel = ControlsPanel(PipelineSettings())
    qtbot.addWidget(panel)
    for name, spec in PipelineSettings.user_settings():
        if spec.group is None:
            continue  # the mode: the toolbar's actions
        widget = getattr(panel, name)
        assert widget.objectName() == name and spec.help[1:] in widget.toolTip()
        if spec.kind == "number":
            widget.set_value(spec.maximum + 1, emit=False)
            assert widget.value == pytest.approx(spec.maximum)
            widget.set_value(spec.minimum - 1, emit=False)
            assert widget.value == pytest.approx(spec.minimum)


def test_panel_emits_only_the_changed_control(qtbot) -> None:
    panel = ControlsPanel(PipelineSettings())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.values_changed, timeout=1000) as blocker:
        panel.overlay_opacity.slider.setValue(30)
    assert blocker.args == [{"overlay_opacity": pytest.approx(0.3)}]
    with qtbot.waitSignal(panel.values_changed, timeout=1000) as blocker:
        panel.invert.setChecked(True)
    assert blocker.args == [{"invert": True}]
    assert panel.settings.refine.invert is True and panel.settings.render.overlay_opacity == pytest.approx(0.3)
    with qtbot.waitSignal(panel.values_changed, timeout=1000) as blocker:
        panel.temporal_strength.slider.setValue(0)
    assert blocker.args == [{"temporal_strength": 0.0}] and panel.settings.refine.temporal is False


def test_background_rows_follow_the_background_kind(qtbot) -> None:
    panel = ControlsPanel(PipelineSettings().replace(background="blur"))
    qtbot.addWidget(panel)
    panel.show()
    panel.set_mode("cutout")
    assert panel.blur_sigma.isVisible() and not panel.background_color.isVisible()
    panel.apply(background="color", background_color=(10, 20, 30))
    assert panel.background_color.isVisible() and not panel.blur_sigma.isVisible()
    assert panel.background_color.color == (10, 20, 30)


def test_mode_actions_have_number_shortcuts(qtbot) -> None:
    from PySide6.QtWidgets import QWidget

    host = QWidget()
    qtbot.addWidget(host)
    actions = ModeActions(host)
    assert [a.shortcut().toString() for a in actions.actions.values()] == ["1", "2", "3", "4"]
    with qtbot.waitSignal(actions.mode_changed, timeout=1000) as blocker:
        actions.actions["silhouette"].trigger()
    assert blocker.args == ["silhouette"] and actions.mode == "silhouette"


def test_an_image_background_without_a_file_asks_for_one_and_keeps_the_old_kind_if_none(qtbot, monkeypatch,
                                                                                       tmp_path) -> None:
    from silhouette_cam.gui import controls

    panel = ControlsPanel(PipelineSettings().replace(background="blur"))
    qtbot.addWidget(panel)
    monkeypatch.setattr(controls.QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    panel.background.setCurrentText("image")  # the user cancels the file dialog
    assert panel.settings.render.background == "blur" and panel.background.currentText() == "blur"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG cut short")
    monkeypatch.setattr(controls.QFileDialog, "getOpenFileName", lambda *a, **k: (str(broken), ""))
    with qtbot.waitSignal(panel.problem, timeout=1000) as refused:
        panel.background.setCurrentText("image")  # a file that cannot be read is refused, said why
    assert f"background image {broken} cannot be read" in refused.args[0]
    assert panel.settings.render.background == "blur" and panel.background.currentText() == "blur"
    beach = str(tmp_path / "beach.png")
    cv2.imwrite(beach, np.full((32, 48, 3), 200, np.uint8))
    monkeypatch.setattr(controls.QFileDialog, "getOpenFileName", lambda *a, **k: (beach, ""))
    with qtbot.waitSignal(panel.values_changed, timeout=1000) as blocker:
        panel.background.setCurrentText("image")
    assert blocker.args == [{"background_path": beach, "background": "image"}]
    assert (panel.settings.render.background, panel.background_path.text()) == ("image", "beach.png")
