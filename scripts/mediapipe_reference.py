"""Run MediaPipe's legacy SelfieSegmentation on images or frames; used by bench/ with MediaPipe's own Python.

    MP_PYTHON scripts/mediapipe_reference.py masks  --model 0|1 --out OUT.npz IMAGE...
    MP_PYTHON scripts/mediapipe_reference.py timing --model 0|1 --frames FRAMES.npy --runs N

`masks` writes each image's probability (float32 [H, W]) to OUT.npz under keys "0", "1", ...;
`timing` prints JSON {"ms": [...]} with the wall time of each `process()` call on the frames (BGR uint8).
"""

import argparse
import json
import time

import cv2
import mediapipe as mp
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["masks", "timing"])
    parser.add_argument("--model", type=int, choices=[0, 1], required=True)
    parser.add_argument("--out")
    parser.add_argument("--frames")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("images", nargs="*")
    args = parser.parse_intermixed_args()  # positional images come after the options
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=args.model) as segmenter:
        if args.command == "masks":
            masks = {}
            for index, path in enumerate(args.images):
                rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
                masks[str(index)] = segmenter.process(rgb).segmentation_mask.astype(np.float32)
            np.savez_compressed(args.out, **masks)
            return
        frames = np.load(args.frames)
        for frame in frames[:10]:  # warm-up, as for our own runs
            segmenter.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        times = []
        for run in range(args.runs):
            frame = frames[run % len(frames)]
            start = time.perf_counter()
            segmenter.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))  # the colour conversion is its input contract
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"ms": times}))


if __name__ == "__main__":
    main()
