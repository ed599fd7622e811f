"""Control values validate; the panel and mode actions emit what the user changed."""

from __future__ import annotations

import pytest

from silhouette_cam.gui.control_values import ControlValues
from silhouette_cam.gui.controls import ControlsPanel, ModeActions
from silhouette_cam.gui.engine import pipeline_settings


def test_with_changes_validates_with_got_vs_expected() -> None:
    values = ControlValues()
    assert values.with_changes(overlay_opacity=0.2).overlay_opacity == 0.2
    with pytest.raises(ValueError, match=r"overlay_opacity must be a number in 0..1, got 1.5"):
        values.with_changes(overlay_opacity=1.5)
    with pytest.raises(ValueError, match="background must be one of"):
        values.with_changes(background="sky")
    with pytest.raises(ValueError, match="unknown control 'hue'"):
        values.with_changes(hue=3)
    with pytest.raises(ValueError, match=r"person_color must be \(r, g, b\)"):
        values.with_changes(person_color=(300, 0, 0))


def test_panel_emits_only_the_changed_control(qtbot) -> None:
    panel = ControlsPanel(ControlValues())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.values_changed, timeout=1000) as blocker:
        panel.overlay_opacity.slider.setValue(30)
    assert blocker.args == [{"overlay_opacity": pytest.approx(0.3)}]
    with qtbot.waitSignal(panel.values_changed, timeout=1000) as blocker:
        panel.invert.setChecked(True)
    assert blocker.args == [{"invert": True}]
    assert panel.values.invert is True and panel.values.overlay_opacity == pytest.approx(0.3)


def test_background_rows_follow_the_background_kind(qtbot) -> None:
    panel = ControlsPanel(ControlValues(background="blur"))
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


def test_control_values_become_valid_pipeline_settings() -> None:
    from silhouette_cam.pipeline import PipelineSettings

    def settings(mode: str, **changes) -> PipelineSettings:
        return PipelineSettings().replace(**pipeline_settings(mode, ControlValues().with_changes(**changes)))

    color = settings("cutout", background="color", background_color=(1, 2, 3))
    render = color.render
    assert (render.mode, render.background, render.background_color) == ("cutout", "color", (1, 2, 3))
    image = settings("cutout", background="image", background_path="/x/beach.png")
    assert (image.render.background, image.render.background_path) == ("image", "/x/beach.png")
    assert settings("cutout", background="video").render.background == "transparent"  # until a file is chosen
    off = settings("overlay", temporal_strength=0.0, edge_refine=False, overlay_opacity=0.2)
    assert (off.refine.temporal, off.refine.edge_refine, off.render.overlay_opacity) == (False, False, 0.2)
    assert settings("mask", temporal_strength=0.8).refine.temporal_strength == 0.8
    assert "model" not in pipeline_settings("overlay", ControlValues())
