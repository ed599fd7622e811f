"""The `process` job done the plain MediaPipe way, for bench/bench_process.py to race against: decode
a video (PyAV), segment every frame with MediaPipe 0.10.14's legacy selfie solution (the landscape
model), draw a white-on-black silhouette, encode it with OpenCV's mp4v writer.

    /work/mpvenv/bin/python bench/mediapipe_process.py INPUT OUTPUT.mp4 [--max-frames N]

Runs in its own venv (`pip install mediapipe==0.10.14 av opencv-python-headless`), not the
project's. Prints "first_frame_s <seconds from start to the first frame written>" when done.
"""

import argparse
import time

START = time.perf_counter()

import av  # noqa: E402
import cv2  # noqa: E402
import mediapipe as mp  # noqa: E402
import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--max-frames", type=int, default=None)
    args = parser.parse_args()
    # Silhouette as the mask's 0..1 blend of white over black, like `--mode silhouette`.
    first_frame_s, writer = None, None
    with av.open(args.input) as container, \
            mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1) as selfie:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 30)
        for index, frame in enumerate(container.decode(stream)):
            if args.max_frames is not None and index >= args.max_frames:
                break
            rgb = frame.to_ndarray(format="rgb24")
            mask = selfie.process(rgb).segmentation_mask  # [H, W] float32 0..1
            image = cv2.cvtColor(cv2.convertScaleAbs(mask, alpha=255.0), cv2.COLOR_GRAY2BGR)
            if writer is None:
                h, w = image.shape[:2]
                writer = cv2.VideoWriter(args.output, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            writer.write(np.ascontiguousarray(image))
            if first_frame_s is None:
                first_frame_s = time.perf_counter() - START
    if writer is not None:
        writer.release()
    print(f"first_frame_s {first_frame_s if first_frame_s is not None else float('nan'):.3f}")


if __name__ == "__main__":
    main()
