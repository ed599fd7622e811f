"""The CPU path never imports torch (~1.3 s and ~300 MB): segment, refine, render, record, the window."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CPU_PATH = """
import json, sys
import numpy as np
from silhouette_cam.cli import build_parser
from silhouette_cam.pipeline import FramePipeline, PipelineSettings
from silhouette_cam.segmenter import PersonSegmenter
import silhouette_cam.pipeline_runner, silhouette_cam.sinks, silhouette_cam.sources

build_parser(["process", "in.mp4", "out.mp4"])
segmenter = PersonSegmenter(device="auto")
frame = np.zeros((720, 1280, 3), np.uint8)
frame[200:600, 500:800] = 200
pipeline = FramePipeline(segmenter, PipelineSettings().replace(mode="silhouette"))
out = pipeline.process(frame)
prob, classes = segmenter.segment_classes(frame)
print(json.dumps({"torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")),
                  "label": segmenter.device_label, "shape": list(out.image.shape), "classes": list(classes.shape)}))
"""

WINDOW_IMPORTS = """
import json, sys
import silhouette_cam.cli.gui, silhouette_cam.gui.app, silhouette_cam.gui.main_window, silhouette_cam.live.engine
print(json.dumps({"torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))}))
"""


def run_python(code: str) -> dict:
    # SILHOUETTE_CAM_CUDA_PROBE=0: the GPU probe says "no GPU" as on a laptop without NVIDIA.
    env = dict(os.environ, PYTHONPATH=str(REPO), SILHOUETTE_CAM_CUDA_PROBE="0", QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_segmenting_and_rendering_a_frame_on_the_cpu_never_imports_torch():
    report = run_python(CPU_PATH)
    assert report["torch"] == []
    assert report["label"] == "CPU fp32 ONNX Runtime — no GPU found"
    assert report["shape"] == [720, 1280, 3] and report["classes"] == [720, 1280]


def test_importing_the_window_never_imports_torch():
    pytest.importorskip("PySide6", reason="the window needs PySide6 (absent on the GPU machine)")
    assert run_python(WINDOW_IMPORTS)["torch"] == []
