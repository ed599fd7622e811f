"""The device engine: the frame path as torch ops on one device (CUDA in use; CPU torch in tests).

Imported only for `--device cuda` (or auto with a GPU) and by tests: it needs torch, which the CPU
path never loads. `make_pipeline(segmenter)` (silhouette_cam.device.factory) picks the engine.
"""
