"""The CPU thread policy: how many threads ONNX Runtime and OpenCV may use inside one call.

    from silhouette_cam.threads import THREAD_POLICY, apply_thread_policy
    apply_thread_policy()                        # once at start-up (OpenCV's pool is process-wide)
    options = THREAD_POLICY.onnx_session_options(onnxruntime)   # per ONNX Runtime session

Why one thread inside each call: the pipeline already overlaps its stages on threads (reader,
analyzer, renderer: silhouette_cam/pipeline_runner.py), so on a 2-core machine both cores are busy
with whole stages. A library's own pool then only adds hand-offs: its workers wake up, spin while
waiting for work and steal the core another stage needs; on small images (the 512-pixel refine grid,
the network's 256x256 input) the split work is shorter than the wake-up. Measured at a 30 FPS 720p
camera on a loaded 2-core AMD EPYC VM (bench/bench_pipeline.py --camera-rate 30 --thread-policies,
docs/pipeline.md): OpenCV's default pool (one thread per core) costs more CPU per frame than running
its calls on the calling thread, at equal shown FPS.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadPolicy:
    """Threads per call: `cv_threads` for OpenCV (cv2.setNumThreads; 1 runs every call on the
    caller's thread, 0 too; None leaves OpenCV's default, one per core), `onnx_intra_op` and
    `onnx_inter_op` for an ONNX Runtime session, `onnx_spinning` whether its idle workers spin."""

    cv_threads: int | None = 1
    onnx_intra_op: int = 1
    onnx_inter_op: int = 1
    onnx_spinning: bool = False

    def onnx_session_options(self, onnxruntime, *, intra_op: int | None = None):
        """-> a new onnxruntime.SessionOptions under this policy (intra_op: the caller's override)."""
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.onnx_intra_op if intra_op is None else intra_op
        options.inter_op_num_threads = self.onnx_inter_op
        # Spinning workers steal the core that the pipeline's other stages need (and count as CPU time).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.onnx_spinning else "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "1" if self.onnx_spinning else "0")
        return options


THREAD_POLICY = ThreadPolicy()


def encoder_threads(cores: int | None = None) -> int:
    """Threads for x264 (0 = its own choice, one per core and more). On two cores or fewer the
    pipeline's stages already fill them and x264's sliced threads only add hand-offs: one thread is
    ~20 % less encoder CPU per 720p frame and `process --raw` ran 5.8 vs 6.7 s for 600 frames
    (bench/bench_process.py, docs/pipeline.md). More cores: x264 decides (1080p needs them)."""
    import os

    cores = (os.cpu_count() or 1) if cores is None else cores
    return 1 if cores <= 2 else 0


def apply_thread_policy(policy: ThreadPolicy = THREAD_POLICY) -> None:
    """Apply the process-wide part of `policy` (OpenCV's pool size). Idempotent; call at start-up."""
    if policy.cv_threads is not None:
        import cv2

        cv2.setNumThreads(policy.cv_threads)
