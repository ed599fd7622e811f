"""Start-up cost of the CPU path: this checkout, and another one side by side (--baseline).

    python bench/bench_startup.py [--baseline OTHER_CHECKOUT] [--runs 5] [--frames 120]

Each measurement is a fresh interpreter (`sys.executable`), runs alternate between the checkouts:
- import: `import silhouette_cam.cli.process, .segmenter, .pipeline, .sources, .sinks` (in-process clock);
- first frame: `silhouette-cam process CLIP -o OUT.mp4 --mode silhouette --max-frames 1 --quiet`,
  interpreter start to exit (so: imports, model load, decode, segment, refine, render, encode, close);
  peak RSS is the child's own VmHWM;
- whole clip: the same with --max-frames FRAMES, wall time and peak RSS (of that process, from wait4).
The clip is 1280x720, made from the shared DAVIS video (resized) in a temporary folder.
Bars (issue #15): first frame <= 0.5 s, peak RSS of `process` <= 300 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DAVIS_CLIP = REPO.parent / "shared" / "data" / "davis" / "videos" / "dance-twirl.mp4"
IMPORTS = ("import time; t = time.perf_counter(); "
           "import silhouette_cam.cli.process, silhouette_cam.segmenter, silhouette_cam.pipeline, "
           "silhouette_cam.sources, silhouette_cam.sinks; "
           "import sys; print(time.perf_counter() - t, 'torch' in sys.modules)")


def make_clip(folder: Path, frames: int) -> Path:
    """`frames` frames of the DAVIS clip at 1280x720 (looped if short) -> an mp4v file. Frames are written
    as they are read: a bench process holding them would inflate its children's peak RSS (see run_with_rss)."""
    source = cv2.VideoCapture(str(DAVIS_CLIP))
    path = folder / "clip720.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 24.0, (1280, 720))
    written = 0
    while written < frames:
        ok, frame = source.read()
        if not ok:
            if not written:
                raise SystemExit(f"cannot read {DAVIS_CLIP}")
            source.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        writer.write(cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR))
        written += 1
    writer.release()
    return path


# Printed by the child at exit: its own peak resident memory. Not wait4's ru_maxrss, which on Linux
# also counts the pages the child shared with this process between fork and exec.
PEAK_RSS = ("import atexit, sys; atexit.register(lambda: print('VmHWM', open('/proc/self/status').read()"
            ".split('VmHWM:')[1].split()[0]))")


def run_with_rss(checkout: Path, argv: list[str]) -> tuple[float, float, str]:
    """Run `python -c CODE ARGS` with `checkout` first on the path -> (wall s, the child's peak RSS MB, stdout)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    code, rest = argv[1], argv[2:]
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", f"{PEAK_RSS}\n{code}", *rest], cwd=checkout, env=env,
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{checkout}: {' '.join(argv)} exited with {result.returncode}:\n{result.stderr[-2000:]}")
    lines = result.stdout.strip().splitlines()
    peak_kb = next(float(line.split()[1]) for line in reversed(lines) if line.startswith("VmHWM"))
    return wall, peak_kb / 1024, "\n".join(line for line in lines if not line.startswith("VmHWM"))


def process_argv(clip: Path, output: Path, frames: int) -> list[str]:
    return ["-c", "import sys; from silhouette_cam.cli import main; sys.exit(main(sys.argv[1:]))",
            "process", str(clip), "-o", str(output), "--mode", "silhouette", "--max-frames", str(frames), "--quiet"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout to measure alternately (default: this one only)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    checkouts = {"this": REPO}
    if args.baseline is not None:
        checkouts = {"baseline": args.baseline.resolve(), **checkouts}
    results: dict[str, dict[str, list[float]]] = {name: {} for name in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = make_clip(folder, args.frames)
        for run in range(args.runs):
            for name, checkout in checkouts.items():  # alternate: both see the same machine load
                row = results[name]
                wall, rss, out = run_with_rss(checkout, ["-c", IMPORTS])
                seconds, torch_loaded = out.split()[-2:]
                row.setdefault("import s", []).append(float(seconds))
                row.setdefault("import loads torch", []).append(float(torch_loaded == "True"))
                wall, rss, _ = run_with_rss(checkout, process_argv(clip, folder / f"{name}1.mp4", 1))
                row.setdefault("process 1 frame: start to exit s", []).append(wall)
                row.setdefault("process 1 frame: peak RSS MB", []).append(rss)
                wall, rss, _ = run_with_rss(checkout, process_argv(clip, folder / f"{name}.mp4", args.frames))
                row.setdefault(f"process {args.frames} frames: wall s", []).append(wall)
                row.setdefault(f"process {args.frames} frames: peak RSS MB", []).append(rss)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    print(f"\n{os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.1f}; "
          + ", ".join(f"{name} {path}" for name, path in checkouts.items())
          + f"; {args.runs} runs each, alternating; 1280x720 clip\n")
    header = " | ".join(f"{name} median | {name} p90" for name in checkouts)
    print(f"| measure | {header} |\n|---|" + "---|" * (2 * len(checkouts)))
    for key in results["this"]:
        cells = []
        for name in checkouts:
            values = results[name][key]
            cells += [f"{np.median(values):.3f}", f"{np.percentile(values, 90):.3f}"]
        print(f"| {key} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
