"""How closely `segment --raw` follows MediaPipe 0.10.14 on real images, per folder and model.

    python scripts/fidelity_vs_mediapipe.py --mediapipe-python /tmp/mpvenv/bin/python [FOLDER ...]

Default folders: ../shared/data/{portraits/images, davis/images/dance-twirl, multiperson/images}.
Prints, per folder and model: mean and worst IoU of the masks thresholded at 0.5, and mean |p - p_ref|.
The bar (issue 2): mean IoU >= 0.995, worst >= 0.98, mean |p - p_ref| <= 0.01.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from silhouette_cam.image_files import IMAGE_SUFFIXES, read_image
from silhouette_cam.segmenter import PersonSegmenter

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_FOLDERS = [DATA / "portraits" / "images", DATA / "davis" / "images" / "dance-twirl",
                   DATA / "multiperson" / "images"]


def reference_masks(python: str, selection: int, images: list[Path]) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ref.npz"
        subprocess.run([python, str(REPO_ROOT / "scripts" / "mediapipe_reference.py"), "masks", "--model",
                        str(selection), "--out", str(out), *map(str, images)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with np.load(out) as archive:
            return [archive[str(i)] for i in range(len(images))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mediapipe-python", required=True, help="a Python with mediapipe==0.10.14")
    parser.add_argument("folders", nargs="*", type=Path, default=DEFAULT_FOLDERS)
    args = parser.parse_args()
    print("| images | model | mean IoU | worst IoU | mean abs(p - p_ref) |")
    print("|---|---|---:|---:|---:|")
    for selection, variant in ((0, "general"), (1, "landscape")):
        segmenter = PersonSegmenter(model=variant, device="cpu")
        for folder in args.folders:
            images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            ious, errors = [], []
            references = reference_masks(args.mediapipe_python, selection, images)
            for image, ref in zip(images, references, strict=True):
                prob = segmenter.segment(read_image(image))
                a, b = prob > 0.5, ref > 0.5
                union = np.logical_or(a, b).sum()
                ious.append(1.0 if union == 0 else np.logical_and(a, b).sum() / union)
                errors.append(np.abs(prob - ref).mean())
            label = f"{folder.parent.name}/{folder.name} ({len(images)})"
            print(f"| {label} | {variant} | {np.mean(ious):.4f} | {np.min(ious):.4f} | {np.mean(errors):.4f} |")


if __name__ == "__main__":
    main()
