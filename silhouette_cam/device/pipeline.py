"""DevicePipeline: FramePipeline's analyze/render API with the whole frame path as torch ops on one device.

    pipe = DevicePipeline(segmenter)        # segmenter.runner_for(w, h) -> inference.TorchRunner
    out = pipe.process(frame_bgr)           # ProcessedFrame, as FramePipeline's

Per frame: one (pinned, non-blocking on CUDA) upload of the uint8 frame; network on the whole frame
and the tracked crops (batched, a CUDA graph per shape), grid composite, temporal smoothing, guided
upsampling, threshold/softness/invert and the rendering as torch ops (device/refine.py,
device/render.py); one download of a packed uint8 buffer holding the image, the mask (8-bit) and,
for a transparent cutout, the RGBA. On CUDA the stage timings come from CUDA events.
Multi-class overlays (class maps with legends) take FramePipeline's CPU path.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from silhouette_cam.device.refine import DeviceGridMask, DeviceRefiner
from silhouette_cam.device.render import DeviceRenderer
from silhouette_cam.frames import check_frame
from silhouette_cam.pipeline import Analysis, FramePipeline, PipelineSettings, ProcessedFrame

STAGING_RING = 3  # upload buffers: the analysis thread fills one while earlier copies may be in flight


@dataclass
class DeviceAnalysis(Analysis):
    frame_device: torch.Tensor | None = None   # [H, W, 3] uint8 BGR on the device


class StageClock:
    """Per-stage milliseconds: CUDA events on CUDA (read after a synchronizing download), else perf_counter."""

    def __init__(self, device: torch.device) -> None:
        self._cuda = device.type == "cuda"
        self._marks: list[tuple[str, object, object]] = []

    @contextmanager
    def stage(self, name: str):
        if self._cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            yield
            end.record()
        else:
            start = time.perf_counter()
            yield
            end = time.perf_counter()
        self._marks.append((name, start, end))

    def read(self) -> dict[str, float]:
        """-> {stage: ms} of the stages since the last read (synchronizes the last CUDA event)."""
        totals: dict[str, float] = {}
        if self._marks and self._cuda:
            self._marks[-1][2].synchronize()
        for name, start, end in self._marks:
            ms = start.elapsed_time(end) if self._cuda else (end - start) * 1000
            totals[name] = totals.get(name, 0.0) + ms
        self._marks.clear()
        return totals


class DevicePipeline(FramePipeline):
    def __init__(self, segmenter, settings: PipelineSettings | None = None, *, window: int = 60,
                 ring: int = 6) -> None:
        super().__init__(segmenter, settings, window=window)
        first = segmenter.runner_for(16, 9)
        self.device: torch.device = first.device
        self.precision = getattr(first, "precision", "fp32")
        self._device_refiner = DeviceRefiner()
        self._device_renderer = DeviceRenderer()
        self._analyze_clock, self._render_clock = StageClock(self.device), StageClock(self.device)
        self._staging: list[torch.Tensor] = []
        self._staging_events: list[object] = []
        self._staging_slot = 0
        self._ring = ring
        self._downloads: list[torch.Tensor] = []
        self._download_slot = 0

    def reset(self) -> None:
        super().reset()
        self._device_refiner.reset()

    def close(self) -> None:
        super().close()
        self._device_renderer.close()

    def upload(self, frame_bgr: np.ndarray) -> torch.Tensor:
        """[H, W, 3] uint8 BGR -> the same on the device (CUDA: through a pinned buffer, non-blocking)."""
        if self.device.type != "cuda":
            return torch.from_numpy(frame_bgr)
        if not self._staging or self._staging[0].shape != frame_bgr.shape:
            self._staging = [torch.empty(frame_bgr.shape, dtype=torch.uint8, pin_memory=True)
                             for _ in range(STAGING_RING)]
            self._staging_events = [None] * STAGING_RING
        slot = self._staging_slot = (self._staging_slot + 1) % STAGING_RING
        if self._staging_events[slot] is not None:
            self._staging_events[slot].synchronize()   # its previous copy has left the buffer
        self._staging[slot].numpy()[...] = frame_bgr
        frame = self._staging[slot].to(self.device, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self._staging_events[slot] = event
        return frame

    def analyze(self, frame_bgr: np.ndarray, *, timestamp_s: float = 0.0, capture_ms: float = 0.0) -> Analysis:
        settings = self.settings
        segmenter = self.segmenter
        names = tuple(getattr(segmenter, "class_names", ("background", "person")))
        if len(names) > 2 and settings.render.mode == "overlay":
            return super().analyze(frame_bgr, timestamp_s=timestamp_s, capture_ms=capture_ms)
        check_frame(frame_bgr)
        self.timer.add("capture", capture_ms)
        clock = self._analyze_clock
        with clock.stage("upload"):
            frame = self.upload(frame_bgr)
        grid_mask = self._device_refiner.analyze(segmenter.runner_for, frame, settings.refine, clock.stage)
        segmenter.variant = segmenter.runner_for(frame_bgr.shape[1], frame_bgr.shape[0]).facts.variant
        timings = {"capture": capture_ms, **clock.read()}
        timings["segment"] = timings.get("segment", 0.0) + timings.pop("upload", 0.0)
        self.timer.add("segment", timings["segment"])
        index, self._index = self._index, self._index + 1
        return DeviceAnalysis(frame_bgr, grid_mask, None, settings, float(timestamp_s), index, timings, names,
                              frame_device=frame)

    def render(self, analysis: Analysis) -> ProcessedFrame:
        if not isinstance(analysis.grid_mask, DeviceGridMask):
            return super().render(analysis)
        clock = self._render_clock
        frame = analysis.frame_device
        with clock.stage("refine"):
            mask = DeviceRefiner.finish(analysis.grid_mask, frame)
        with clock.stage("render"):
            image, rgba = self._device_renderer.render(frame, mask, analysis.settings.render)
            alpha = (mask * 255.0).round_().clamp_(0, 255).to(torch.uint8)
            parts = [image.reshape(-1), alpha.reshape(-1)] + ([] if rgba is None else [rgba.reshape(-1)])
            packed = self._download(torch.cat(parts))
        ms = clock.read()
        h, w = frame.shape[:2]
        image_np = packed[:h * w * 3].reshape(h, w, 3)
        mask_np = packed[h * w * 3:h * w * 4].reshape(h, w).astype(np.float32) * np.float32(1.0 / 255.0)
        rgba_np = None if rgba is None else packed[h * w * 4:].reshape(h, w, 4)
        analysis.mask = mask_np
        refine_ms = analysis.timings_ms.get("refine", 0.0) + ms.get("refine", 0.0)
        self.timer.add("refine", refine_ms)
        self.timer.add("render", ms.get("render", 0.0))
        self.fps_meter.tick()
        timings = dict(analysis.timings_ms, refine=refine_ms, render=ms.get("render", 0.0))
        return ProcessedFrame(image_np, rgba_np, mask_np, timings, analysis.timestamp_s, analysis.index, None)

    def _download(self, packed: torch.Tensor) -> np.ndarray:
        """The one device -> host copy of a frame: into a ring of pinned buffers on CUDA (a returned image
        stays valid for `ring - 1` more frames, as FramePipeline's)."""
        if self.device.type != "cuda":
            return packed.numpy()
        if not self._downloads or self._downloads[0].numel() != packed.numel():
            self._downloads = [torch.empty(packed.numel(), dtype=torch.uint8, pin_memory=True)
                               for _ in range(self._ring)]
        host = self._downloads[self._download_slot]
        self._download_slot = (self._download_slot + 1) % self._ring
        host.copy_(packed, non_blocking=True)
        torch.cuda.current_stream(self.device).synchronize()
        return host.numpy()
