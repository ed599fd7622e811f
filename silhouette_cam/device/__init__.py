"""The device engine: the frame path as torch ops on one device (CUDA in use; CPU torch in tests).

    pipeline = make_pipeline(segmenter, settings)   # FramePipeline on the CPU, DevicePipeline on CUDA

Only `make_pipeline` lives here, and it imports torch only for a CUDA segmenter: the CPU path
(numpy/OpenCV/ONNX Runtime, the reference) never loads it.
"""

from __future__ import annotations


def make_pipeline(segmenter, settings=None, **options):
    """FramePipeline for a CPU segmenter (or any object without `device == "cuda"`), DevicePipeline on CUDA."""
    if getattr(segmenter, "device", "cpu") == "cuda":
        from silhouette_cam.device.pipeline import DevicePipeline

        return DevicePipeline(segmenter, settings, **options)
    from silhouette_cam.pipeline import FramePipeline

    return FramePipeline(segmenter, settings, **options)
