"""Tests for silhouette_cam.threads: the policy reaches OpenCV and ONNX Runtime's session options."""

from __future__ import annotations

import cv2
import onnxruntime

from silhouette_cam.threads import THREAD_POLICY, ThreadPolicy, apply_thread_policy


def test_apply_thread_policy_sets_opencvs_pool_and_leaves_it_alone_when_asked():
    before = cv2.getNumThreads()
    try:
        apply_thread_policy(ThreadPolicy(cv_threads=1))
        assert cv2.getNumThreads() == 1
        apply_thread_policy(ThreadPolicy(cv_threads=None))
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)


def test_onnx_session_options_follow_the_policy_and_the_callers_thread_count():
    options = ThreadPolicy(onnx_intra_op=1, onnx_inter_op=1).onnx_session_options(onnxruntime)
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert THREAD_POLICY.onnx_session_options(onnxruntime, intra_op=3).intra_op_num_threads == 3
    spinning = ThreadPolicy(onnx_spinning=True).onnx_session_options(onnxruntime)
    assert spinning.get_session_config_entry("session.intra_op.allow_spinning") == "1"


def test_x264_gets_one_thread_on_two_cores_and_decides_itself_on_more():
    from silhouette_cam.sinks import X264
    from silhouette_cam.threads import encoder_threads

    assert [encoder_threads(cores) for cores in (1, 2, 4, 16)] == [1, 1, 0, 0]
    assert X264["threads"] == str(encoder_threads())
