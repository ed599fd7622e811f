"""The live session's core, without Qt: what the window's worker drives and the window only shows.

engine (segmenter + pipeline for one worker thread, live model switches), model_catalog /
model_switch (which models there are; loading one off the frame path), recording and
virtual_camera (runner sinks with start/stop and one-line notices), background_check (a remembered
background file that can no longer be used). The window (silhouette_cam.gui) is a thin Qt client of
these and of pipeline_runner.PipelineRunner.
"""
