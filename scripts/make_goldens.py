"""Regenerate the MediaPipe reference masks that the tests hold the port to.

Run it with a Python that has the reference runtime (never a dependency of the app):

    python3.11 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14 opencv-python-headless
    /tmp/mpvenv/bin/python scripts/make_goldens.py                       # both sets, from their inputs
    /tmp/mpvenv/bin/python scripts/make_goldens.py --extract ../shared/data   # first cut the full-body frames

Sets: tests/fixtures/golden/ (portraits and webcam frames, tests/test_segmenter.py) and
tests/fixtures/golden/fullbody/ (full-body and small people, frames of the redistributable clips in
the shared data's videos/ folder, listed in FULLBODY_FRAMES; tests/test_cuda_fidelity.py).
For each input image and each MediaPipe model (0 = general 256x256, 1 = landscape 144x256) it
writes <set>/mediapipe_<variant>/<stem>.png: the legacy SelfieSegmentation solution's probability
as 16-bit grayscale, round(65535 * p).
"""

import argparse
from pathlib import Path

import cv2
import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "golden"
SETS = (GOLDEN, GOLDEN / "fullbody")
VARIANTS = {0: "general", 1: "landscape"}
# clip in <data>/videos -> (frame indices, stored size (w, h)); chosen to show people (1-14 % of the frame).
FULLBODY_FRAMES = {
    "intel_one-by-one-person-detection.mp4": ((125, 425, 800, 1250), (512, 288)),   # indoor, full body
    "vtest.avi": ((150, 450, 650), (512, 384)),                                      # campus, small people
}


def extract(data: Path) -> None:
    """Cut FULLBODY_FRAMES from the shared clips into fullbody/inputs/ (JPEG quality 90, resized)."""
    out_dir = GOLDEN / "fullbody" / "inputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    for clip, (indices, size) in FULLBODY_FRAMES.items():
        capture = cv2.VideoCapture(str(data / "videos" / clip))
        for index in indices:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            if not ok:
                raise SystemExit(f"cannot read frame {index} of {clip}")
            name = out_dir / f"{Path(clip).stem.removeprefix('intel_')}_frame{index}.jpg"
            cv2.imwrite(str(name), cv2.resize(frame, size, interpolation=cv2.INTER_AREA),
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
            print(f"wrote {name.name}")


def write_goldens(golden_set: Path) -> None:
    import mediapipe as mp

    inputs = sorted((golden_set / "inputs").glob("*.jpg"))
    for selection, variant in VARIANTS.items():
        out_dir = golden_set / f"mediapipe_{variant}"
        out_dir.mkdir(exist_ok=True)
        with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=selection) as segmenter:
            for path in inputs:
                rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                prob = segmenter.process(rgb).segmentation_mask
                cv2.imwrite(str(out_dir / f"{path.stem}.png"), np.rint(np.clip(prob, 0, 1) * 65535).astype(np.uint16))
                print(f"{golden_set.name}/{variant}: {path.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, metavar="DATA", help="cut the full-body frames from DATA/videos first")
    args = parser.parse_args()
    if args.extract is not None:
        extract(args.extract)
    for golden_set in SETS:
        write_goldens(golden_set)


if __name__ == "__main__":
    main()
