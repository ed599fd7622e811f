"""The frame pipeline and the segmenter for the window's worker thread.

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

from silhouette_cam.pipeline import PipelineSettings

from .model_catalog import check_model_choice
from .model_switch import ModelSwitch, SegmenterSwitch


@dataclass(frozen=True)
class EngineOptions:
    model: str = "auto"  # "auto" | "general" | "landscape" | a weights file (falls back to auto if it fails)
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    weights: str | None = None  # custom weights file (--weights); overrides model, and must load
    settings: PipelineSettings = PipelineSettings()  # mode included
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
        from silhouette_cam.device import make_pipeline  # FramePipeline on the CPU, DevicePipeline on CUDA

        self._report = options.on_model
        # The GUI names weights files by absolute path: reports must name the same choice.
        choice = str(Path(options.weights).resolve()) if options.weights else options.model
        self._models = SegmenterSwitch(choice=choice, device=options.device, strict=options.weights is not None)
        self._pipeline = make_pipeline(self._models.segmenter, options.settings)
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
        """GUI changes ({PipelineSettings field: value, "model": choice}) -> the pipeline / segmenter,
        from the next frame; validated first (PipelineSettings.replace, check_model_choice), nothing
        applied if any is bad.

        A new `model` applies at once for a shipped variant; a weights file loads in the background
        (the current model keeps running) and `on_model` says when it is in use or why not."""
        changes = dict(changes)
        model = check_model_choice(changes.pop("model")) if "model" in changes else None
        if changes:
            self._pipeline.update(**changes)
        if model is not None:
            self._models.request(model)

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
