"""Which CUDA precision may each variant run at? Measures masks per precision against the CPU path.

    python scripts/precision_probe.py [--data ../shared/data] [--frames 100] [--json OUT.json]

For each shipped variant and each precision (fp32 with TF32 off, tf32, fp16, bf16) it segments
the golden inputs (portraits, full-body/small-person) and up to --frames frames of the shared
DAVIS clip on CUDA, and compares with the CPU path (ONNX Runtime, the reference) and with
MediaPipe's goldens: mean and worst IoU at 0.5, mean absolute probability error, and the network's
time per image (CUDA graph, batch 1). It names, per variant, the fastest precision that meets the
issue #12 bars (portraits mean >= 0.995 / worst >= 0.98 vs MediaPipe; full-body mean >= 0.99 /
worst >= 0.85 vs MediaPipe and vs the CPU path on DAVIS): put that into
silhouette_cam.segmenter.CUDA_PRECISION. Needs a GPU; writes everything to --json (the fidelity dump).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from silhouette_cam.image_files import read_image  # noqa: E402
from silhouette_cam.segmenter import PersonSegmenter  # noqa: E402

GOLDEN = REPO / "tests" / "fixtures" / "golden"
PRECISIONS = ("fp32", "tf32", "fp16", "bf16")
BARS = {"portraits": (0.995, 0.98), "fullbody": (0.99, 0.85), "davis_vs_cpu": (0.99, 0.85)}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def golden_pairs(golden_set: Path, variant: str) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for image in sorted((golden_set / "inputs").glob("*.jpg")):
        reference = cv2.imread(str(golden_set / f"mediapipe_{variant}" / f"{image.stem}.png"), cv2.IMREAD_UNCHANGED)
        pairs.append((read_image(image), reference.astype(np.float32) / 65535.0))
    return pairs


def davis_frames(data: Path, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(data / "davis" / "videos" / "dance-twirl.mp4"))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    return frames


def score(segment, pairs) -> dict:
    ious, errors = [], []
    for frame, reference in pairs:
        prob = segment(frame)
        ious.append(iou(prob > 0.5, reference > 0.5))
        errors.append(float(np.abs(prob - reference).mean()))
    return {"mean": float(np.mean(ious)), "worst": float(np.min(ious)), "mae": float(np.mean(errors)),
            "per_frame": [round(x, 5) for x in ious]}


def network_ms(segmenter: PersonSegmenter) -> float:
    runner = segmenter.runner_for(1280, 720)
    w, h = runner.input_size
    x = torch.rand(1, 3, h, w, device="cuda").to(runner.dtype)
    for _ in range(20):
        runner.network(x)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(200):
        runner.network(x)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / 200 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("precision_probe: needs an NVIDIA GPU (torch.cuda.is_available() is False)", file=sys.stderr)
        return 2
    frames = davis_frames(args.data, args.frames) if (args.data / "davis").is_dir() else []
    report: dict = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "variants": {}}
    print(f"{report['gpu']}, torch {torch.__version__}; DAVIS frames: {len(frames)}")
    print("| variant | precision | portraits mean/worst | full-body mean/worst | DAVIS vs CPU mean/worst | net ms |")
    print("|---|---|---|---|---|---|")
    for variant in ("general", "landscape"):
        cpu = PersonSegmenter(model=variant, device="cpu")
        sets = {"portraits": golden_pairs(GOLDEN, variant), "fullbody": golden_pairs(GOLDEN / "fullbody", variant),
                "davis_vs_cpu": [(frame, cpu.segment(frame)) for frame in frames]}
        results = {}
        for precision in PRECISIONS:
            segmenter = PersonSegmenter(model=variant, device="cuda", precision=precision)
            row = {name: score(segmenter.segment, pairs) for name, pairs in sets.items() if pairs}
            row["network_ms"] = network_ms(segmenter)
            row["meets_bars"] = all(row[name]["mean"] >= BARS[name][0] and row[name]["worst"] >= BARS[name][1]
                                    for name in BARS if name in row)
            results[precision] = row
            cells = [f"{row[n]['mean']:.4f}/{row[n]['worst']:.3f}" if n in row else "-" for n in BARS]
            print(f"| {variant} | {precision} | {' | '.join(cells)} | {row['network_ms']:.3f} |")
        passing = [p for p in PRECISIONS if results[p]["meets_bars"]]
        choice = min(passing, key=lambda p: results[p]["network_ms"]) if passing else None
        report["variants"][variant] = {"results": results, "choice": choice}
        print(f"-> {variant}: fastest precision meeting the bars: {choice}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
