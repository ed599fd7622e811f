"""Run one loaded network on frames: pre-processing, forward, post-processing, per device.

`CpuRunner` stretches the frame with OpenCV into a preallocated buffer and runs fp32 with
channels_last, or hands it to ONNX Runtime (`OnnxRuntimeRunner`, the CPU default when the
weights have an ONNX export); `TorchRunner` (CUDA, fp16) uploads the uint8 frame once (pinned staging buffer) and
stretches, runs and resizes back on the GPU. Both produce exactly the same geometry:
the MediaPipe corner-to-corner stretch in, bilinear with half-pixel centers out.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from silhouette_cam.frames import stretch_matrix
from silhouette_cam.model import WeightFacts
from silhouette_cam.model.onnx_export import WEIGHTS_SHA_KEY


def resize_probability(prob: np.ndarray, height: int, width: int) -> np.ndarray:
    """`[h, w]` float32 -> `[height, width]`, bilinear with half-pixel centers.

    OpenCV's INTER_LINEAR equals F.interpolate(align_corners=False) and is faster on the CPU.
    """
    return cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR)


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
        self._small_bgr = np.empty((height, width, 3), np.uint8)
        self._small_rgb = np.empty((height, width, 3), np.uint8)
        # [1, 3, h, w] float32 whose memory is HWC: filled straight from the RGB image, no transpose copy.
        self._input = torch.empty((1, 3, height, width)).contiguous(memory_format=torch.channels_last)
        self._hwc_view = torch.from_numpy(self._small_rgb).permute(2, 0, 1).unsqueeze(0)
        self._matrices: dict[tuple[int, int], np.ndarray] = {}

    def _stretch(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Frame -> the network's input size, MediaPipe's way; returns the reused `[h, w, 3]` BGR buffer."""
        height, width = frame_bgr.shape[:2]
        matrix = self._matrices.get((width, height))
        if matrix is None:
            matrix = self._matrices[(width, height)] = stretch_matrix(width, height, *self.input_size)
        cv2.warpAffine(frame_bgr, matrix, self.input_size, dst=self._small_bgr, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT)
        return self._small_bgr

    def _logits(self, frame_bgr: np.ndarray) -> torch.Tensor:
        cv2.cvtColor(self._stretch(frame_bgr), cv2.COLOR_BGR2RGB, dst=self._small_rgb)
        self._input.copy_(self._hwc_view).mul_(1.0 / 255.0)
        return self.module(self._input)

    def _upsample_probability(self, prob: torch.Tensor, height: int, width: int) -> np.ndarray:
        return resize_probability(prob[0, 0].numpy(), height, width)


def open_onnx_session(onnx_file: Path, facts: WeightFacts, *, threads: int):
    """An ONNX Runtime CPU session for `onnx_file`, or ValueError saying why it cannot serve `facts`' weights."""
    try:
        import onnxruntime
    except ImportError:
        raise ValueError("the onnxruntime package is not installed") from None
    if not onnx_file.is_file():
        raise ValueError(f"{onnx_file} does not exist (export it: silhouette-cam convert-weights WEIGHTS.safetensors)")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning workers steal the core that the pipeline's other stages need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable files
        raise ValueError(f"{onnx_file} cannot be loaded ({str(exc).splitlines()[0]})") from None
    recorded = session.get_modelmeta().custom_metadata_map.get(WEIGHTS_SHA_KEY, "")
    if recorded != facts.sha256:
        raise ValueError(f"{onnx_file} was exported from weights {recorded[:12] or 'unknown'}…, "
                         f"expected {facts.sha256[:12]}…")
    return session


class OnnxRuntimeRunner(CpuRunner):
    """CpuRunner's pre- and post-processing around an ONNX Runtime session of the same network.

    ONNX Runtime's CPU kernels run this network ~2.4x faster than PyTorch eager on one thread
    (2.6 vs 6.2 ms at 256x256 here), and one thread is what a pipeline that overlaps stages wants.
    """

    def __init__(self, module: nn.Module, facts: WeightFacts, session) -> None:
        super().__init__(module, facts)
        self.session = session  # an onnxruntime.InferenceSession from open_onnx_session()
        self._input_name = session.get_inputs()[0].name

    def _logits_numpy(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Frame -> logits `[1, C_out, h, w]` float32."""
        # [1, 3, h, w] float32 RGB 0..1 in one pass (swapRB turns the BGR buffer into RGB).
        blob = cv2.dnn.blobFromImage(self._stretch(frame_bgr), scalefactor=1.0 / 255.0, swapRB=True)
        return self.session.run(None, {self._input_name: blob})[0]

    def _logits(self, frame_bgr: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self._logits_numpy(frame_bgr))

    def person_probability(self, frame_bgr: np.ndarray, *, full_size: bool) -> np.ndarray:
        # Post-processing in numpy, not torch: this runs beside the pipeline's other threads, where
        # torch's intra-op pool waits for a busy core (4-6 ms for one small sigmoid, vs 0.05 ms here).
        logits = self._logits_numpy(frame_bgr)[0]                      # [C_out, h, w]
        if logits.shape[0] == 1:
            prob = 0.5 + 0.5 * np.tanh(0.5 * logits[0])              # sigmoid, without exp overflow
        else:
            exp = np.exp(logits - logits.max(axis=0, keepdims=True))
            prob = 1.0 - exp[0] / exp.sum(axis=0)                      # not-background
        prob = prob.astype(np.float32, copy=False)
        return resize_probability(prob, *frame_bgr.shape[:2]) if full_size else prob


class TorchRunner(NetworkRunner):
    """Everything on one torch device: the uint8 frame is uploaded once, then stretched, run and resized there.

    Used for CUDA in fp16; on the CPU in fp32 it serves the tests, which hold its geometry to CpuRunner's.
    """

    def __init__(self, module: nn.Module, facts: WeightFacts, device: torch.device,
                 dtype: torch.dtype = torch.float16) -> None:
        super().__init__(module.to(device, dtype=dtype, memory_format=torch.channels_last), facts)
        self.device, self.dtype = device, dtype
        self._grids: dict[tuple[int, int], torch.Tensor] = {}
        self._staging: dict[tuple[int, int], torch.Tensor] = {}

    def _grid(self, width: int, height: int) -> torch.Tensor:
        """grid_sample grid reproducing the corner-to-corner stretch: output x samples source x * W / w."""
        key = (width, height)
        if key not in self._grids:
            w, h = self.input_size
            # grid_sample(align_corners=False) reads pixel p at normalized (2p + 1) / W - 1.
            xs = (torch.arange(w, dtype=torch.float64) * (width / w) * 2 + 1) / width - 1
            ys = (torch.arange(h, dtype=torch.float64) * (height / h) * 2 + 1) / height - 1
            grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # [h, w, 2] as (x, y)
            self._grids[key] = grid.unsqueeze(0).to(self.device, self.dtype)
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

    def _logits(self, frame_bgr: np.ndarray) -> torch.Tensor:
        height, width = frame_bgr.shape[:2]
        frame = self._upload(frame_bgr)                                              # [H, W, 3] uint8 BGR
        rgb = frame.permute(2, 0, 1).flip(0).unsqueeze(0).to(self.dtype).mul_(1.0 / 255.0)  # [1, 3, H, W]
        small = F.grid_sample(rgb, self._grid(width, height), mode="bilinear", padding_mode="zeros",
                              align_corners=False)                                   # [1, 3, h, w]
        return self.module(small.contiguous(memory_format=torch.channels_last))
