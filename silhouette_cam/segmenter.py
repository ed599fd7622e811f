"""PersonSegmenter: a BGR frame in, the person probability at the frame's size out. No Qt here.

    segmenter = PersonSegmenter(model="auto", device="auto")
    prob = segmenter.segment(frame_bgr)     # [H, W, 3] uint8 BGR -> [H, W] float32 in 0..1

The frame is stretched to the network's input the way MediaPipe does it (image corners to tensor
corners, no half-pixel offset, no letterbox), so masks match the reference runtime; the network's
output is resized back bilinearly. On CUDA the frame is uploaded once and everything after that,
resizes included, runs on the GPU in fp16.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import numpy as np
import torch

from silhouette_cam.errors import DeviceError
from silhouette_cam.frames import check_frame
from silhouette_cam.inference import CpuRunner, NetworkRunner, OnnxRuntimeRunner, TorchRunner, open_onnx_session
from silhouette_cam.model import SHIPPED_VARIANTS, WeightFacts, build_model, shipped_weights_path
from silhouette_cam.model.onnx_export import onnx_path_for
from silhouette_cam.weight_facts import MODEL_CHOICES

DEVICE_CHOICES = ("auto", "cpu", "cuda")
BACKEND_CHOICES = ("auto", "torch", "onnxruntime")
# Frames wider than this use the landscape (144x256, 16:9) model under model="auto"; 4:3 and
# squarer frames use the general (256x256) one, whose vertical resolution is higher.
LANDSCAPE_MIN_ASPECT = 1.5


def resolve_device(device: str) -> tuple[torch.device, str]:
    """`"auto" | "cpu" | "cuda"` -> (torch device, why it was chosen, for the user)."""
    if device not in DEVICE_CHOICES:
        raise ValueError(f"device {device!r} is not one of {', '.join(DEVICE_CHOICES)}")
    cuda_ok = torch.cuda.is_available()
    if device == "cuda" and not cuda_ok:
        raise ValueError("device 'cuda' was requested but CUDA is not available "
                         f"(torch {torch.__version__}, torch.cuda.is_available() is False)")
    if device == "cpu":
        return torch.device("cpu"), "as requested"
    if cuda_ok:
        return torch.device("cuda"), torch.cuda.get_device_name(0)
    return torch.device("cpu"), "no GPU found"


class PersonSegmenter:
    """Runs a person segmentation network on frames; see the module docstring.

    Keyword-only arguments: `model` "auto" | "general" | "landscape" (ignored with `weights`),
    `device` "auto" | "cpu" | "cuda", `weights` a custom weights file (e.g. from `silhouette-cam train`),
    `backend` for the CPU: "onnxruntime" (the weights' `.onnx` export; ~2.4x faster), "torch", or
    "auto" (ONNX Runtime when the export exists and matches the weights), `threads` CPU threads
    (None: 1 for ONNX Runtime, torch's default for torch). Not thread-safe: one per worker thread;
    `model` may be changed from any thread and applies to the next frame.
    """

    def __init__(self, *, model: str = "auto", device: str = "auto", weights: str | Path | None = None,
                 backend: str = "auto", threads: int | None = None, warmup: bool = True) -> None:
        if model not in MODEL_CHOICES:
            raise ValueError(f"model {model!r} is not one of {', '.join(MODEL_CHOICES)}")
        if backend not in BACKEND_CHOICES:
            raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKEND_CHOICES)}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads is {threads}, expected >= 1")
        self._backend, self._threads = backend, threads
        self._device, why = resolve_device(device)
        self._model = model
        self._lock = threading.Lock()
        paths = {"custom": Path(weights)} if weights is not None else {
            variant: shipped_weights_path(variant) for variant in SHIPPED_VARIANTS}
        loaded = [(key, path, *build_model(weights=path)) for key, path in paths.items()]
        try:
            self._runners = self._make_runners(loaded, warmup)
        except RuntimeError as exc:
            if self._device.type != "cuda":
                raise
            # A broken CUDA setup must not fail silently: under "auto" fall back and say why in the
            # device label (shown in the HUD and CLI summaries); when CUDA was asked for, stop with the reason.
            reason = f"CUDA failed: {str(exc).splitlines()[0]}"
            if device == "cuda":
                raise DeviceError(f"device 'cuda': {reason}") from exc
            self._device, why = torch.device("cpu"), reason
            self._runners = self._make_runners(loaded, warmup)
        if self._device.type == "cuda":
            self.device_label = f"CUDA fp16 ({why})"
        else:
            engines = {type(runner) for runner in self._runners.values()}
            engine = "ONNX Runtime" if engines == {OnnxRuntimeRunner} else "PyTorch"
            self.device_label = f"CPU fp32 {engine} — {why}"
        first = next(iter(self._runners.values()))
        self.class_names: tuple[str, ...] = first.facts.classes
        self.variant = first.facts.variant

    def _make_runners(self, loaded: list[tuple[str, Path, torch.nn.Module, WeightFacts]],
                      warmup: bool) -> dict[str, NetworkRunner]:
        runners: dict[str, NetworkRunner] = {}
        for key, path, module, facts in loaded:
            # Runners convert their module in place (dtype, device): each gets its own copy, so a
            # failed CUDA attempt leaves the loaded fp32 module intact for the CPU fallback.
            if self._device.type == "cuda":
                runners[key] = TorchRunner(copy.deepcopy(module), facts, self._device, torch.float16)
            else:
                runners[key] = self._make_cpu_runner(path, copy.deepcopy(module), facts)
            if warmup:
                runners[key].warmup()
        return runners

    def _make_cpu_runner(self, path: Path, module: torch.nn.Module, facts: WeightFacts) -> NetworkRunner:
        if self._backend != "torch":
            try:
                session = open_onnx_session(onnx_path_for(path), facts, threads=self._threads or 1)
                return OnnxRuntimeRunner(module, facts, session)
            except ValueError as exc:
                if self._backend == "onnxruntime":
                    raise ValueError(f"backend 'onnxruntime' for {path}: {exc}") from None
        if self._threads is not None:
            torch.set_num_threads(self._threads)
        return CpuRunner(module, facts)

    # -- settings -------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self._model

    @model.setter
    def model(self, value: str) -> None:
        if value not in MODEL_CHOICES:
            raise ValueError(f"model {value!r} is not one of {', '.join(MODEL_CHOICES)}")
        with self._lock:
            self._model = value

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def is_custom(self) -> bool:
        return "custom" in self._runners

    def runner_for(self, width: int, height: int) -> NetworkRunner:
        """The network that will segment a `width` x `height` frame under the current setting."""
        if self.is_custom:
            return self._runners["custom"]
        with self._lock:
            choice = self._model
        if choice == "auto":
            choice = "landscape" if width > LANDSCAPE_MIN_ASPECT * height else "general"
        return self._runners[choice]

    # -- inference ------------------------------------------------------------------------------
    def _runner_for_frame(self, frame_bgr: np.ndarray) -> NetworkRunner:
        check_frame(frame_bgr)
        runner = self.runner_for(frame_bgr.shape[1], frame_bgr.shape[0])
        self.variant = runner.facts.variant
        return runner

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        """`[H, W, 3]` uint8 BGR -> person probability `[H, W]` float32 in 0..1."""
        return self._runner_for_frame(frame_bgr).person_probability(frame_bgr, full_size=True)

    def segment_lowres(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Person probability at the network's own resolution `[h, w]` float32 (frame stretched to it)."""
        return self._runner_for_frame(frame_bgr).person_probability(frame_bgr, full_size=False)

    def segment_classes(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (person probability `[H, W]` float32, class map `[H, W]` uint8 of argmax class ids).

        For 2-class models the class map is the probability thresholded at 0.5; "person" for a
        multi-class model means "not background" (class 0).
        """
        return self._runner_for_frame(frame_bgr).class_map(frame_bgr)
