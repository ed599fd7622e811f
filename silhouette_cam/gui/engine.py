"""The one place where the window's control names meet the frame pipeline's settings.

`PipelineEngine` owns the segmenter and the FramePipeline for the worker: it is built off the GUI
thread (model load and warm-up), takes GUI control changes, and hands its `pipeline` to the worker's
PipelineRunner. A model change builds the new segmenter off the frame path (model_switch.py) and
reports the outcome through `EngineOptions.on_model`. Tests can replace it with any object offering
the same members (pipeline, apply, stats, device_label, variant; analyze/render for direct use).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .control_values import ControlValues
from .model_switch import ModelSwitch, SegmenterSwitch


@dataclass(frozen=True)
class EngineOptions:
    model: str = "auto"  # "auto" | "general" | "landscape" | a weights file (falls back to auto if it fails)
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    weights: str | None = None  # custom weights file (--weights); overrides model, and must load
    mode: str = "overlay"
    controls: ControlValues = ControlValues()
    on_model: Callable[[ModelSwitch], None] | None = None  # model switches / failures, from engine threads


class Engine(Protocol):
    device_label: str

    @property
    def variant(self) -> str: ...

    @property
    def pipeline(self) -> Any: ...  # the FramePipeline the worker's PipelineRunner drives

    def apply(self, changes: dict[str, Any]) -> None: ...

    def analyze(self, frame_bgr: np.ndarray, *, timestamp_s: float = 0.0, capture_ms: float = 0.0) -> Any: ...

    def render(self, analysis: Any) -> tuple[Any, str]: ...

    def stats(self) -> tuple[float, dict[str, float]]: ...


def pipeline_settings(mode: str, values: ControlValues) -> dict[str, Any]:
    """Flat PipelineSettings fields (see pipeline.PipelineSettings.replace) for a mode and control values."""
    settings: dict[str, Any] = {"mode": mode}
    for name, value in values.to_dict().items():
        settings.update(_translate(name, value, values))
    return settings


def _translate(name: str, value: Any, values: ControlValues) -> dict[str, Any]:
    """One control -> the pipeline field(s) it drives ({} for the segmenter's `model`)."""
    if name == "model":
        return {}
    if name in ("background", "background_path"):
        if values.background in ("image", "video") and not values.background_path:
            return {"background": "transparent"}  # no file chosen yet: show the plain cutout meanwhile
        return {"background": values.background, "background_path": values.background_path or None}
    if name == "temporal_strength":  # 0 on the slider turns smoothing off
        return {"temporal": value > 0, "temporal_strength": value if value > 0 else 0.5}
    return {name: tuple(value) if isinstance(value, list) else value}


class ModelLoadError(Exception):
    """Building the engine failed (the cause is chained)."""


class EngineLoader:
    """Builds the engine on a daemon thread so the worker can open the source (and show it) meanwhile."""

    def __init__(self, factory: Callable[[EngineOptions], Engine], options: EngineOptions) -> None:
        self._factory, self._options = factory, options
        self._engine: Engine | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="engine-loader", daemon=True)

    def start(self) -> EngineLoader:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def result(self) -> Engine:
        """The engine once `done`; raises ModelLoadError (from the cause) if building it failed."""
        self._thread.join()
        if self._engine is None:
            raise ModelLoadError(str(self._failure)) from self._failure
        return self._engine

    def _run(self) -> None:
        try:
            self._engine = self._factory(self._options)
        except BaseException as exc:  # noqa: BLE001 — handed to the worker, which reports it
            self._failure = exc


class PipelineEngine:
    """PersonSegmenter + FramePipeline for one worker thread (see the module docstring)."""

    def __init__(self, options: EngineOptions) -> None:
        from silhouette_cam.pipeline import FramePipeline, PipelineSettings

        self._report = options.on_model
        # The GUI names weights files by absolute path: reports must name the same choice.
        choice = str(Path(options.weights).resolve()) if options.weights else options.model
        self._models = SegmenterSwitch(choice=choice, device=options.device, strict=options.weights is not None)
        self._values = options.controls
        self._mode = options.mode
        settings = PipelineSettings().replace(**pipeline_settings(options.mode, options.controls))
        self._pipeline = FramePipeline(self._models.segmenter, settings)
        self._models.on_switch = self._on_switch
        if self._models.startup_error and self._report is not None:
            self._report(self._models.state(self._models.startup_error))

    @property
    def device_label(self) -> str:
        return str(self._models.segmenter.device_label)

    @property
    def pipeline(self) -> Any:
        """The FramePipeline (the worker's runner drives it; a model switch swaps its segmenter)."""
        return self._pipeline

    @property
    def variant(self) -> str:
        """The model in use, for the HUD: the shipped network that ran last, or the weights file's label."""
        return self._models.label

    def apply(self, changes: dict[str, Any]) -> None:
        """GUI changes ({"mode": ..., name: value}) -> the pipeline / segmenter, from the next frame.

        A new `model` applies at once for a shipped variant; a weights file loads in the background
        (the current model keeps running) and `on_model` says when it is in use or why not."""
        changes = dict(changes)
        mode = changes.pop("mode", None)
        self._values = self._values.with_changes(**changes)  # validates, `model` included
        if "model" in changes:
            self._models.request(changes["model"])
        update: dict[str, Any] = {"mode": mode} if mode is not None else {}
        for name, value in changes.items():
            update.update(_translate(name, value, self._values))
        if update:
            self._pipeline.update(**update)

    def analyze(self, frame_bgr: np.ndarray, *, timestamp_s: float = 0.0, capture_ms: float = 0.0) -> Any:
        """Segment + refine: frame [H, W, 3] uint8 BGR -> the pipeline's Analysis (mask from this frame)."""
        return self._pipeline.analyze(frame_bgr, timestamp_s=timestamp_s, capture_ms=capture_ms)

    def render(self, analysis: Any) -> tuple[Any, str]:
        """-> (ProcessedFrame, the mode it was drawn in). image/rgba stay valid for a few more frames."""
        return self._pipeline.render(analysis), analysis.settings.render.mode

    def _on_switch(self, segmenter: Any, switch: ModelSwitch) -> None:
        # An attribute swap: the analyzer thread picks the new segmenter up with its next frame.
        self._pipeline.segmenter = segmenter
        if self._report is not None:
            self._report(switch)

    def stats(self) -> tuple[float, dict[str, float]]:
        """(frames per second, {stage: median ms}) over the pipeline's sliding window."""
        stats = self._pipeline.stats
        return stats.fps, dict(stats.stage_ms)
