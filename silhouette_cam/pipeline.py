"""FramePipeline: source frame -> segment -> refine -> render, with per-stage timings.

    pipe = FramePipeline(segmenter, PipelineSettings())
    out = pipe.process(frame_bgr)        # ProcessedFrame: image, rgba, mask (from THIS frame), timings_ms
    pipe.update(mode="cutout", background="blur", temporal_strength=0)   # thread-safe, next frame
    pipe.stats                           # PipelineStats: fps + median ms per stage (sliding window)

`process` is `render(analyze(frame))`; the two halves let `PipelineRunner` (pipeline_runner.py) run
them on different threads. The segmenter is any object with `segment(frame)`, optionally
`segment_lowres(frame)`, `segment_classes(frame)` and `class_names` (tests pass fakes).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from silhouette_cam.fps import FpsMeter, StageTimer
from silhouette_cam.frames import check_frame
from silhouette_cam.refine import RAW_SETTINGS, EdgeRefiner, GridMask, MaskRefiner, RefineSettings
from silhouette_cam.refine.region import SEARCH_TILE_COUNT
from silhouette_cam.render import FrameRenderer, RenderSettings
from silhouette_cam.setting import Setting, settings_of

STAGES = ("capture", "segment", "refine", "render", "write")
_RENDER_FIELDS = {f.name for f in dataclasses.fields(RenderSettings)}
_REFINE_FIELDS = {f.name for f in dataclasses.fields(RefineSettings)}


@dataclass(frozen=True)
class PipelineSettings:
    """Everything the user can set, live or on the command line: how to draw (render) and how to
    refine the mask. The one schema of names, defaults and ranges: the CLI's options
    (cli/options.py) and the window's controls (gui/controls.py) are generated from `user_settings()`."""

    render: RenderSettings = field(default_factory=RenderSettings)
    refine: RefineSettings = field(default_factory=RefineSettings)

    @staticmethod
    def user_settings() -> tuple[tuple[str, Setting], ...]:
        """(flat field name, Setting) of every user-facing field: render's, then refine's."""
        return (*settings_of(RenderSettings), *settings_of(RefineSettings))

    def replace(self, **changes: object) -> PipelineSettings:
        """A validated copy with flat field changes (`mode=...`, `temporal_strength=...`) or whole
        `render=` / `refine=`; ValueError / TypeError naming the flag or control."""
        unknown = set(changes) - _RENDER_FIELDS - _REFINE_FIELDS - {"render", "refine"}
        if unknown:
            raise ValueError(f"unknown pipeline setting(s) {', '.join(sorted(unknown))}; known: "
                             f"{', '.join(sorted(_RENDER_FIELDS | _REFINE_FIELDS))}")
        render = changes.pop("render", self.render)
        refine = changes.pop("refine", self.refine)
        render = dataclasses.replace(render, **{k: v for k, v in changes.items() if k in _RENDER_FIELDS})
        refine = dataclasses.replace(refine, **{k: v for k, v in changes.items() if k in _REFINE_FIELDS})
        return PipelineSettings(render=render.validate(), refine=refine.validate())

    def value(self, name: str) -> object:
        """One flat field's value (`settings.value("blur_sigma")`)."""
        return getattr(self.render if name in _RENDER_FIELDS else self.refine, name)

    def changes_from_defaults(self) -> dict[str, object]:
        """The user-facing fields that differ from the defaults, by flat name (what settings files
        keep, so an improved default reaches every setting the user never touched)."""
        defaults = PipelineSettings().replace()
        return {name: self.value(name) for name, _ in self.user_settings()
                if self.value(name) != defaults.value(name)}

    def with_stored(self, stored: dict[str, object]) -> tuple[PipelineSettings, dict[str, str]]:
        """A copy with stored flat values applied one by one: unknown or bad ones are skipped (one
        bad value must not cost the user the others) -> (settings, {name: why skipped})."""
        settings, skipped = self, {}
        # The background's kind last: an image or video background validates only with its file.
        for name, value in sorted(stored.items(), key=lambda item: item[0] == "background"):
            try:
                settings = settings.replace(**{name: value})
            except (ValueError, TypeError) as exc:
                skipped[name] = str(exc)
        return settings, skipped


@dataclass
class Analysis:
    """The first half of a frame's trip: the frame, its mask, and the settings it was made with.

    The mask's edge-aware step (guided filter coefficients on the grid, applied to the full-resolution
    frame) needs nothing from other frames, so it runs in `render`, on the rendering thread: that
    balances the two CPU cores. `mask` is None until then.
    """

    frame_bgr: np.ndarray            # [H, W, 3] uint8 BGR, the source frame
    grid_mask: GridMask              # the mask of frame_bgr, before its full-resolution step
    class_map: np.ndarray | None     # [H, W] uint8 class ids (multi-class models in overlay mode)
    settings: PipelineSettings
    timestamp_s: float
    index: int
    timings_ms: dict[str, float]
    class_names: tuple[str, ...] = ("background", "person")  # of the model that made the mask
    mask: np.ndarray | None = None   # [H, W] float32 0..1, refined, computed from frame_bgr (after render)


@dataclass
class ProcessedFrame:
    """A rendered frame. With `pixels_kept` (the CPU renderer) image and rgba are read-only views
    that are never drawn over while anything holds them; otherwise (the CUDA path's download ring)
    they are overwritten a few frames later: copy them to keep them (frame_sinks.keepable_frame)."""

    image: np.ndarray                # [H, W, 3] RGB uint8 for display (transparent cutout on a checkerboard)
    rgba: np.ndarray | None          # [H, W, 4] RGBA uint8 for a transparent cutout, else None
    mask: np.ndarray                 # [H, W] float32 0..1, the refined mask computed from THIS frame
    timings_ms: dict[str, float]     # capture, segment, refine, render (and write, when recorded)
    timestamp_s: float = 0.0         # the source's timestamp of the frame
    index: int = 0                   # frame number since the pipeline was created or reset
    class_map: np.ndarray | None = None
    pixels_kept: bool = False        # image/rgba stay valid while held (see above)


@dataclass(frozen=True)
class PipelineStats:
    fps: float                       # frames rendered per second, sliding window
    stage_ms: dict[str, float]       # median ms per stage, sliding window


class FramePipeline:
    """See the module docstring. analyze() and render() may run on two threads, each called in
    frame order; settings are read under a lock once per frame."""

    def __init__(self, segmenter, settings: PipelineSettings | None = None, *, window: int = 60) -> None:
        self.segmenter = segmenter
        self._settings = (settings or PipelineSettings()).replace()
        self._lock = threading.Lock()
        self._refiner = MaskRefiner()
        self._edges = EdgeRefiner()  # used by render() only (the rendering thread)
        self._renderer = FrameRenderer(ring=6)
        self.timer = StageTimer(window=window)
        self.fps_meter = FpsMeter(window=window)
        self._index = 0

    @property
    def settings(self) -> PipelineSettings:
        with self._lock:
            return self._settings

    def update(self, **changes: object) -> None:
        """Change settings from any thread (validated now, applied from the next frame)."""
        with self._lock:
            self._settings = self._settings.replace(**changes)

    def reset(self) -> None:
        """Forget temporal history and tracked people (call on a new source or a seek)."""
        self._refiner.reset()
        self._index = 0

    @property
    def stats(self) -> PipelineStats:
        return PipelineStats(fps=self.fps_meter.fps, stage_ms=self.timer.snapshot())

    def analyze(self, frame_bgr: np.ndarray, *, timestamp_s: float = 0.0, capture_ms: float = 0.0) -> Analysis:
        """Segment and refine one frame: frame [H, W, 3] uint8 BGR -> Analysis (mask from this frame)."""
        check_frame(frame_bgr)
        settings = self.settings
        self.timer.add("capture", capture_ms)
        timings = {"capture": capture_ms}
        class_map = None
        segmenter = self.segmenter  # read once: the GUI may swap models between frames
        names = tuple(getattr(segmenter, "class_names", ("background", "person")))
        if len(names) > 2 and settings.render.mode == "overlay" and hasattr(segmenter, "segment_classes"):
            start = time.perf_counter()
            prob, class_map = segmenter.segment_classes(frame_bgr)
            timings["segment"] = (time.perf_counter() - start) * 1000
            self.timer.add("segment", timings["segment"])
            start = time.perf_counter()
            grid_mask = self._refiner.analyze(_Fixed(prob), frame_bgr, RAW_SETTINGS)
            timings["refine"] = (time.perf_counter() - start) * 1000
        else:
            recorder = _FrameTimer(self.timer)
            grid_mask = self._refiner.analyze(segmenter, frame_bgr, settings.refine, recorder)
            timings.update(recorder.last)
        index, self._index = self._index, self._index + 1
        return Analysis(frame_bgr, grid_mask, class_map, settings, float(timestamp_s), index, timings, names)

    def render(self, analysis: Analysis) -> ProcessedFrame:
        """Finish the analysed frame's mask and draw the frame with the settings it was analysed with."""
        start = time.perf_counter()
        if analysis.mask is None:
            analysis.mask = analysis.grid_mask.finish(self._edges, analysis.frame_bgr)
        # "refine" is all of the mask's refinement: the analysis part plus the full-resolution step.
        refine_ms = analysis.timings_ms.get("refine", 0.0) + (time.perf_counter() - start) * 1000
        self.timer.add("refine", refine_ms)
        start = time.perf_counter()
        image, rgba = self._renderer.render(analysis.frame_bgr, analysis.mask, analysis.settings.render,
                                            analysis.class_map, analysis.class_names)
        render_ms = (time.perf_counter() - start) * 1000
        self.timer.add("render", render_ms)
        self.fps_meter.tick()
        timings = dict(analysis.timings_ms, refine=refine_ms, render=render_ms)
        return ProcessedFrame(image, rgba, analysis.mask, timings, analysis.timestamp_s, analysis.index,
                              analysis.class_map, pixels_kept=True)

    def process(self, frame_bgr: np.ndarray, *, timestamp_s: float = 0.0, capture_ms: float = 0.0) -> ProcessedFrame:
        """Segment, refine and render one frame (all on the calling thread)."""
        return self.render(self.analyze(frame_bgr, timestamp_s=timestamp_s, capture_ms=capture_ms))

    def close(self) -> None:
        self._renderer.close()


class _FrameTimer(StageTimer):
    """Forwards stage timings to the pipeline's sliding-window timer and keeps this frame's values;
    "refine" is forwarded by render(), once the frame's refinement is complete."""

    def __init__(self, target: StageTimer) -> None:
        super().__init__(window=1)
        self._target, self.last = target, {}

    def add(self, stage: str, ms: float) -> None:
        if stage != "refine":
            self._target.add(stage, ms)
        self.last[stage] = self.last.get(stage, 0.0) + float(ms)


class _Fixed:
    """A 'segmenter' that returns a probability computed already (multi-class path)."""

    def __init__(self, prob: np.ndarray) -> None:
        self._prob = prob

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        return self._prob


def refine_still(segmenter, frame_bgr: np.ndarray, settings: RefineSettings | None = None) -> np.ndarray:
    """The default refinement for one still image (no history): frame [H, W, 3] uint8 BGR ->
    person probability [H, W] float32 0..1. People tracking becomes a second, zoomed-in pass when the
    people fill only part of the picture; when the whole picture shows nobody, the tracker's search
    tiles are looked at first (one pass each), for people too small in it."""
    settings = dataclasses.replace(settings or RefineSettings(), temporal_strength=0.0).validate()
    refiner = MaskRefiner()
    prob = refiner.run(segmenter, frame_bgr, settings)
    if settings.track_people:
        # At most one sweep: someone a tile saw but their crop does not would start another.
        for _ in range(SEARCH_TILE_COUNT):
            if not refiner.tracker.sweeping:
                break
            prob = refiner.run(segmenter, frame_bgr, settings)
        if refiner.tracker.box is not None:
            prob = refiner.run(segmenter, frame_bgr, settings)
    return prob
