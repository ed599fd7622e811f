"""PersonSegmenter: a BGR frame in, the person probability at the frame's size out. No Qt here.

    segmenter = PersonSegmenter(model="auto", device="auto")
    prob = segmenter.segment(frame_bgr)     # [H, W, 3] uint8 BGR -> [H, W] float32 in 0..1
    segmenter.device_label, segmenter.precision    # e.g. "CPU fp32 ONNX Runtime — no GPU found", "fp32"

The frame is stretched to the network's input the way MediaPipe does it (image corners to tensor
corners, no half-pixel offset, no letterbox), so masks match the reference runtime; the network's
output is resized back bilinearly. On the CPU the weights' ONNX export runs in ONNX Runtime and
torch is never imported (weights without an export fall back to PyTorch); on CUDA the frame is
uploaded once and everything after that, resizes included, runs on the GPU.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import numpy as np

from silhouette_cam.errors import DeviceError
from silhouette_cam.frames import check_frame
from silhouette_cam.gpu_probe import has_cuda_gpu
from silhouette_cam.model import SHIPPED_VARIANTS, shipped_weights_path
from silhouette_cam.onnx_runner import OnnxRuntimeRunner, onnx_path_for, open_onnx_session
from silhouette_cam.weight_facts import MODEL_CHOICES, read_facts

DEVICE_CHOICES = ("auto", "cpu", "cuda")
BACKEND_CHOICES = ("auto", "torch", "onnxruntime")
PRECISION_CHOICES = ("auto", "fp32", "tf32", "fp16", "bf16")
# Frames wider than this use the landscape (144x256, 16:9) model under model="auto"; 4:3 and
# squarer frames use the general (256x256) one, whose vertical resolution is higher.
LANDSCAPE_MIN_ASPECT = 1.5
# CUDA precision per variant under precision="auto". fp32 with TF32 off is the safe default: on an
# H200 (issue #12, main's code) fp16 gave worst-frame IoU 0.29 (general) / 0.95 (landscape) against
# the CPU path on full-body frames and bf16 0.11. scripts/precision_probe.py measures every variant
# and precision on a GPU; change an entry only from its output.
CUDA_PRECISION = {"general": "fp32", "landscape": "fp32"}
DEFAULT_CUDA_PRECISION = "fp32"


def resolve_device(device: str) -> tuple[str, str]:
    """`"auto" | "cpu" | "cuda"` -> ("cpu" | "cuda", why it was chosen, for the user).

    torch is imported only when the NVIDIA driver reports a GPU (silhouette_cam.gpu_probe) or CUDA
    was asked for, so "auto" on a machine without one never loads it.
    """
    if device not in DEVICE_CHOICES:
        raise ValueError(f"device {device!r} is not one of {', '.join(DEVICE_CHOICES)}")
    if device == "cpu":
        return "cpu", "as requested"
    if device == "auto" and not has_cuda_gpu():
        return "cpu", "no GPU found"
    import torch

    cuda_ok = torch.cuda.is_available()
    if device == "cuda" and not cuda_ok:
        raise ValueError("device 'cuda' was requested but CUDA is not available "
                         f"(torch {torch.__version__}, torch.cuda.is_available() is False)")
    if cuda_ok:
        return "cuda", torch.cuda.get_device_name(0)
    return "cpu", "no GPU found"


class PersonSegmenter:
    """Runs a person segmentation network on frames; see the module docstring.

    Keyword-only arguments: `model` "auto" | "general" | "landscape" (ignored with `weights`),
    `device` "auto" | "cpu" | "cuda", `weights` a custom weights file (e.g. from `silhouette-cam train`),
    `backend` for the CPU: "onnxruntime" (the weights' `.onnx` export; ~2.4x faster, no torch),
    "torch", or "auto" (ONNX Runtime when the export exists and matches the weights), `threads` CPU
    threads (None: 1 for ONNX Runtime, torch's default for torch), `precision` on CUDA: "auto"
    (CUDA_PRECISION per variant) or one of "fp32" | "tf32" | "fp16" | "bf16" (the CPU is always fp32).
    Not thread-safe: one per worker thread; `model` may be changed from any thread and applies to
    the next frame.
    """

    def __init__(self, *, model: str = "auto", device: str = "auto", weights: str | Path | None = None,
                 backend: str = "auto", threads: int | None = None, warmup: bool = True,
                 precision: str = "auto") -> None:
        if model not in MODEL_CHOICES:
            raise ValueError(f"model {model!r} is not one of {', '.join(MODEL_CHOICES)}")
        if backend not in BACKEND_CHOICES:
            raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKEND_CHOICES)}")
        if precision not in PRECISION_CHOICES:
            raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISION_CHOICES)}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads is {threads}, expected >= 1")
        self._backend, self._threads, self._precision_choice = backend, threads, precision
        self._device, why = resolve_device(device)
        self._model = model
        self._lock = threading.Lock()
        self._pending: dict[str, Path] = {}  # shipped variants whose CPU runner is made on first use
        paths = {"custom": Path(weights)} if weights is not None else {
            variant: shipped_weights_path(variant) for variant in SHIPPED_VARIANTS}
        if self._device == "cuda":
            try:
                self._runners = self._make_cuda_runners(paths, warmup)
            except RuntimeError as exc:
                # A broken CUDA setup must not fail silently: under "auto" fall back and say why in the
                # device label (shown in the HUD and CLI summaries); when CUDA was asked for, stop with the reason.
                reason = f"CUDA failed: {str(exc).splitlines()[0]}"
                if device == "cuda":
                    raise DeviceError(f"device 'cuda': {reason}") from exc
                self._device, why = "cpu", reason
        if self._device == "cpu":
            self._runners = self._make_cpu_runners(paths, warmup)
        precisions = sorted({getattr(runner, "precision", "fp32") for runner in self._runners.values()})
        self.precision = "/".join(precisions)   # what the network actually runs at, for HUDs and summaries
        if self._device == "cuda":
            self.device_label = f"CUDA {self.precision} ({why})"
        else:
            engines = {type(runner) for runner in self._runners.values()}
            engine = "ONNX Runtime" if engines == {OnnxRuntimeRunner} else "PyTorch"
            self.device_label = f"CPU fp32 {engine} — {why}"
        first = next(iter(self._runners.values()))
        self.class_names: tuple[str, ...] = first.facts.classes
        self.variant = first.facts.variant

    def _cuda_precision(self, variant: str) -> str:
        if self._precision_choice != "auto":
            return self._precision_choice
        return CUDA_PRECISION.get(variant, DEFAULT_CUDA_PRECISION)

    def _make_cuda_runners(self, paths: dict[str, Path], warmup: bool) -> dict:
        import torch

        from silhouette_cam import inference
        from silhouette_cam.model import build_model

        runners = {}
        for key, path in paths.items():
            module, facts = build_model(weights=path)
            precision = self._cuda_precision(facts.variant)
            runners[key] = inference.TorchRunner(module, facts, torch.device("cuda"), precision)
            if warmup:
                runners[key].warmup()
        return runners

    def _make_cpu_runners(self, paths: dict[str, Path], warmup: bool) -> dict:
        """The runner of the variant in use first, now; the other shipped variant's on its first frame
        (an ONNX Runtime session + warm-up: ~30-60 ms and ~10 MB that a 16:9 camera never needs)."""
        first = self._model if self._model in paths else ("landscape" if "landscape" in paths else next(iter(paths)))
        self._pending = {key: path for key, path in paths.items() if key != first}
        self._warmup = warmup
        runner = self._make_cpu_runner(paths[first])
        if warmup:
            runner.warmup()
        return {first: runner}

    def _runner(self, key: str):
        runner = self._runners.get(key)
        if runner is None:
            with self._lock:
                if key not in self._runners:  # created once, by whichever thread asks first
                    created = self._make_cpu_runner(self._pending.pop(key))
                    if self._warmup:
                        created.warmup()
                    self._runners[key] = created
                runner = self._runners[key]
        return runner

    def _make_cpu_runner(self, path: Path):
        """ONNX Runtime when the weights' export serves them (facts from the header: no torch), else PyTorch."""
        if self._backend != "torch":
            try:
                facts = read_facts(path)
                session = open_onnx_session(onnx_path_for(path), facts, threads=self._threads or 1)
                return OnnxRuntimeRunner(facts, session)
            except ValueError as exc:
                if self._backend == "onnxruntime":
                    raise ValueError(f"backend 'onnxruntime' for {path}: {exc}") from None
        import torch

        from silhouette_cam.inference import CpuRunner
        from silhouette_cam.model import build_model

        if self._threads is not None:
            torch.set_num_threads(self._threads)
        module, facts = build_model(weights=path)
        return CpuRunner(copy.deepcopy(module), facts)

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
    def device(self) -> str:
        """"cpu" or "cuda": where the network runs."""
        return self._device

    @property
    def is_custom(self) -> bool:
        return "custom" in self._runners

    def runner_for(self, width: int, height: int):
        """The network that will segment a `width` x `height` frame under the current setting."""
        if self.is_custom:
            return self._runners["custom"]
        with self._lock:
            choice = self._model
        if choice == "auto":
            choice = "landscape" if width > LANDSCAPE_MIN_ASPECT * height else "general"
        return self._runner(choice)

    # -- inference ------------------------------------------------------------------------------
    def _runner_for_frame(self, frame_bgr: np.ndarray):
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
