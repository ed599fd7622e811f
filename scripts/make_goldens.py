"""Regenerate the MediaPipe reference masks that tests/test_segmenter.py holds the port to.

Run it with a Python that has the reference runtime (never a dependency of the app):

    python3.11 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14
    /tmp/mpvenv/bin/python scripts/make_goldens.py

For each image in tests/fixtures/golden/inputs/ and each MediaPipe model (0 = general 256x256,
1 = landscape 144x256) it writes tests/fixtures/golden/mediapipe_<variant>/<stem>.png: the
legacy SelfieSegmentation solution's probability as 16-bit grayscale, round(65535 * p).
"""

from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "golden"
VARIANTS = {0: "general", 1: "landscape"}


def main() -> None:
    inputs = sorted((GOLDEN / "inputs").glob("*.jpg"))
    for selection, variant in VARIANTS.items():
        out_dir = GOLDEN / f"mediapipe_{variant}"
        out_dir.mkdir(exist_ok=True)
        with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=selection) as segmenter:
            for path in inputs:
                rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                prob = segmenter.process(rgb).segmentation_mask
                cv2.imwrite(str(out_dir / f"{path.stem}.png"), np.rint(np.clip(prob, 0, 1) * 65535).astype(np.uint16))
                print(f"{variant}: {path.name}")


if __name__ == "__main__":
    main()
