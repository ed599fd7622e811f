"""Run one loaded torch network on frames: pre-processing, forward, post-processing, per device.

`CpuRunner` stretches the frame with OpenCV into a preallocated buffer and runs fp32 with
channels_last (weights without an ONNX export; with one, silhouette_cam.onnx_runner runs it in
ONNX Runtime and torch is never imported); `TorchRunner` (CUDA) uploads the uint8 frame once
(pinned staging buffer) and stretches, runs and resizes back on the GPU at a chosen precision.
Both produce exactly the same geometry: the MediaPipe corner-to-corner stretch in, bilinear with
half-pixel centers out.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from silhouette_cam.onnx_runner import (  # noqa: F401  (re-exported: the runners' shared helpers)
    FrameStretcher,
    OnnxRuntimeRunner,
    open_onnx_session,
    resize_probability,
)
from silhouette_cam.weight_facts import WeightFacts

MAX_CACHED_GRIDS = 8  # stretch grids kept per runner: the whole frame's, and recent crop sizes
# precision name -> (parameter/activation dtype, TF32 allowed in convolutions and matmuls)
PRECISIONS: dict[str, tuple[torch.dtype, bool]] = {
    "fp32": (torch.float32, False), "tf32": (torch.float32, True),
    "fp16": (torch.float16, False), "bf16": (torch.bfloat16, False),
}


class NetworkRunner:
    """Shared logic; subclasses implement `_logits(frame) -> [1, C_out, h, w]` float tensor."""

    def __init__(self, module: nn.Module, facts: WeightFacts) -> None:
        self.facts = facts
        self.input_size = (facts.input_width, facts.input_height)  # (w, h), OpenCV order
        self.module = module.eval()

    def _logits(self, frame_bgr: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    def _resize_to_frame(self, maps: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """`[1, K, h, w]` -> `[1, K, H, W]` bilinear with half-pixel centers (as cv2.INTER_LINEAR)."""
        return F.interpolate(maps, size=(height, width), mode="bilinear", align_corners=False)

    @staticmethod
    def _person(logits: torch.Tensor) -> torch.Tensor:
        """`[1, C_out, h, w]` logits -> `[1, 1, h, w]` person probability (not-background for C > 1)."""
        if logits.shape[1] == 1:
            return torch.sigmoid(logits)
        return 1.0 - torch.softmax(logits, dim=1)[:, :1]

    @torch.inference_mode()
    def person_probability(self, frame_bgr: np.ndarray, *, full_size: bool) -> np.ndarray:
        """Frame `[H, W, 3]` uint8 -> float32 probability `[H, W]` (or `[h, w]` if not full_size)."""
        prob = self._person(self._logits(frame_bgr))
        if full_size:
            return self._upsample_probability(prob, frame_bgr.shape[0], frame_bgr.shape[1])
        return prob[0, 0].float().cpu().numpy()

    def _upsample_probability(self, prob: torch.Tensor, height: int, width: int) -> np.ndarray:
        return self._resize_to_frame(prob.float(), height, width)[0, 0].cpu().numpy()

    @torch.inference_mode()
    def class_map(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (person probability `[H, W]` float32, argmax class ids `[H, W]` uint8)."""
        height, width = frame_bgr.shape[:2]
        logits = self._logits(frame_bgr).float()
        if logits.shape[1] == 1:
            logits = torch.cat([torch.zeros_like(logits), logits], dim=1)
        probs = self._resize_to_frame(torch.softmax(logits, dim=1), height, width)[0]
        person = (1.0 - probs[0]).cpu().numpy()
        return person, probs.argmax(dim=0).to(torch.uint8).cpu().numpy()

    def warmup(self) -> None:
        """One forward pass so the first real frame does not pay for allocation and kernel selection."""
        width, height = self.input_size
        self.person_probability(np.zeros((height, width, 3), np.uint8), full_size=True)


class CpuRunner(NetworkRunner):
    def __init__(self, module: nn.Module, facts: WeightFacts) -> None:
        super().__init__(module.float().to(memory_format=torch.channels_last), facts)
        width, height = self.input_size
        self._stretch = FrameStretcher(self.input_size)
        self._small_rgb = np.empty((height, width, 3), np.uint8)
        # [1, 3, h, w] float32 whose memory is HWC: filled straight from the RGB image, no transpose copy.
        self._input = torch.empty((1, 3, height, width)).contiguous(memory_format=torch.channels_last)
        self._hwc_view = torch.from_numpy(self._small_rgb).permute(2, 0, 1).unsqueeze(0)

    def _logits(self, frame_bgr: np.ndarray) -> torch.Tensor:
        cv2.cvtColor(self._stretch(frame_bgr), cv2.COLOR_BGR2RGB, dst=self._small_rgb)
        self._input.copy_(self._hwc_view).mul_(1.0 / 255.0)
        return self.module(self._input)

    def _upsample_probability(self, prob: torch.Tensor, height: int, width: int) -> np.ndarray:
        return resize_probability(prob[0, 0].numpy(), height, width)


class TorchRunner(NetworkRunner):
    """Everything on one torch device: the uint8 frame is uploaded once, then stretched, run and resized there.

    `precision` (see PRECISIONS) applies to the network only: the stretch grid, the stretch and
    the probability stay fp32, since an fp16 grid is off by ~0.3 px at 1280 wide and fp16 logits
    saturate the sigmoid. On CUDA the network runs as a CUDA graph per input size
    (silhouette_cam.device.graphs); on the CPU (tests) it runs eagerly, with the same math.
    """

    def __init__(self, module: nn.Module, facts: WeightFacts, device: torch.device, precision: str = "fp32") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        from silhouette_cam.device.graphs import GraphedNetwork

        dtype, allow_tf32 = PRECISIONS[precision]
        if device.type == "cuda":
            # Process-wide switches: torch's default lets cuDNN convolutions use TF32 even in "fp32".
            torch.backends.cudnn.allow_tf32 = allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = allow_tf32
        super().__init__(module.to(device, dtype=dtype, memory_format=torch.channels_last), facts)
        self.device, self.dtype, self.precision = device, dtype, precision
        self.network = GraphedNetwork(self.module, device=device, dtype=dtype)
        self._grids: dict[tuple[int, int], torch.Tensor] = {}
        self._staging: dict[tuple[int, int], torch.Tensor] = {}

    def _grid(self, width: int, height: int) -> torch.Tensor:
        """grid_sample grid reproducing the corner-to-corner stretch: output x samples source x * W / w."""
        key = (width, height)
        if key not in self._grids:
            from silhouette_cam.device.ops import stretch_grid

            if len(self._grids) >= MAX_CACHED_GRIDS:  # tracked crops change size every frame
                self._grids.clear()

            self._grids[key] = stretch_grid(width, height, *self.input_size, device=self.device)
        return self._grids[key]

    def _upload(self, frame_bgr: np.ndarray) -> torch.Tensor:
        if self.device.type != "cuda":
            return torch.from_numpy(frame_bgr)
        key = (frame_bgr.shape[1], frame_bgr.shape[0])
        staging = self._staging.get(key)
        if staging is None:  # page-locked, so the copy to the GPU is one DMA transfer
            staging = self._staging[key] = torch.empty(frame_bgr.shape, dtype=torch.uint8, pin_memory=True)
        staging.numpy()[...] = frame_bgr
        return staging.to(self.device, non_blocking=True)

    def logits_of_frame(self, frame: torch.Tensor) -> torch.Tensor:
        """Frame on the device `[H, W, 3]` uint8 BGR -> logits `[1, C_out, h, w]` float32."""
        from silhouette_cam.device.ops import stretch_to_network

        small = stretch_to_network(frame, self._grid(frame.shape[1], frame.shape[0]))  # [1, 3, h, w] fp32
        return self.network(small.to(self.dtype)).float()

    def _logits(self, frame_bgr: np.ndarray) -> torch.Tensor:
        return self.logits_of_frame(self._upload(frame_bgr))
